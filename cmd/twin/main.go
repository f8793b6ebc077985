// Command twin is the digital twin and MES of a discrete-manufacturing
// plant: one binary, one subcommand per capability. Run "twin help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // the zone database, for hosts and containers without /usr/share/zoneinfo
)

// A Command is one subcommand: cmd/go's shape.
type Command struct {
	Name  string
	Usage string // arguments after the name
	Short string // one line for "twin help"
	Long  string // shown by "twin help NAME"
	// Run runs the command with its arguments (flags included). Output goes
	// to stdout; errors are returned, not printed.
	Run func(ctx context.Context, args []string, stdout io.Writer) error
}

var commands = map[string]*Command{}

func register(c *Command) { commands[c.Name] = c }

// errUsage makes main print the command's usage and exit with status 2.
var errUsage = errors.New("usage")

func main() {
	if os.Getenv("GOGC") == "" {
		// Simulation runs keep small heaps and allocate steadily: at the
		// default GOGC=100 the collector runs so often that its write
		// barriers cost parallel replications a quarter of their speed
		// (1.4× on 2 cores instead of 1.8×). Memory is not the constraint.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		help(stderr, nil)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		help(stdout, args[1:])
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "twin: unknown command %q; run \"twin help\"\n", name)
		return 2
	}
	err := c.Run(ctx, args[1:], stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "usage: twin %s %s\nrun \"twin help %s\" for details\n", c.Name, c.Usage, c.Name)
		return 2
	default:
		fmt.Fprintf(stderr, "twin %s: %v\n", c.Name, err)
		return 1
	}
}

func help(w io.Writer, args []string) {
	if len(args) > 0 {
		if c, ok := commands[args[0]]; ok {
			fmt.Fprintf(w, "usage: twin %s %s\n\n%s\n", c.Name, c.Usage, strings.TrimSpace(c.Long))
			return
		}
		fmt.Fprintf(w, "twin: unknown help topic %q\n", args[0])
		return
	}
	fmt.Fprintln(w, "twin: a digital twin and MES for discrete-manufacturing plants.")
	fmt.Fprintln(w, "\nusage: twin <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Short)
	}
	fmt.Fprintln(w, "\nrun \"twin help <command>\" for a command's details.")
}

// newFlags returns a flag set that reports errors instead of exiting and
// prints its usage to w on -h.
func newFlags(c *Command, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: twin %s %s\n\n%s\n\nflags:\n", c.Name, c.Usage, strings.TrimSpace(c.Long))
		fs.PrintDefaults()
	}
	return fs
}
