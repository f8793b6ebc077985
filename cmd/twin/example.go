package main

import (
	"context"
	"fmt"
	"io"

	"twin/sim/classic"
)

func init() {
	register(&Command{
		Name:  "example",
		Usage: "machineshop|carwash|bank [--seed S]",
		Short: "run one of SimPy's classic examples on the kernel",
		Long: `Example runs one of SimPy's classic examples rebuilt on twin's kernel and prints
what SimPy's version prints:

  machineshop  10 machines that break down, one repairman with other jobs (4 weeks)
  carwash      2 washing machines, cars every 5 to 9 minutes (20 minutes)
  bank         one counter, 5 customers who renege after 1 to 3 minutes

The numbers differ from SimPy's printout because the random streams differ;
the statistics agree (see sim/classic's tests).`,
		Run: runExample,
	})
}

func runExample(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["example"], stdout)
	seed := fs.Uint64("seed", 42, "random seed")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	name := pos[0]
	switch name {
	case "machineshop":
		ms := classic.DefaultMachineShop()
		ms.Seed = *seed
		r := ms.Run()
		fmt.Fprintln(stdout, "Machine shop")
		fmt.Fprintf(stdout, "Machine shop results after %g weeks\n", ms.Weeks)
		sum := 0
		for i, n := range r.Parts {
			fmt.Fprintf(stdout, "Machine %d made %d parts.\n", i, n)
			sum += n
		}
		fmt.Fprintf(stdout, "(mean %.1f parts per machine; %d repairs; %d other jobs, preempted %d times; %d events)\n",
			float64(sum)/float64(len(r.Parts)), r.Repairs, r.OtherJobs, r.Preemptions, r.Events)
	case "carwash":
		fmt.Fprintln(stdout, "Carwash")
		cw := classic.DefaultCarwash()
		cw.Seed = *seed
		cw.Run(stdout)
	case "bank":
		fmt.Fprintln(stdout, "Bank renege")
		b := classic.DefaultBank()
		b.Seed = *seed
		b.Run(stdout)
	default:
		return fmt.Errorf("unknown example %q (want machineshop, carwash or bank)", name)
	}
	return nil
}
