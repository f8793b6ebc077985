package classic

import (
	"fmt"
	"io"

	"twin/sim"
)

// Bank is SimPy's bank-renege example: customers arrive at one counter;
// each waits at most a patience drawn uniformly between MinPatience and
// MaxPatience, then leaves unserved (reneges). Times are in minutes.
type Bank struct {
	Customers   int     // 0: unbounded (use Minutes)
	Interval    float64 // mean time between arrivals (exponential)
	TimeInBank  float64 // mean service time (exponential)
	MinPatience float64
	MaxPatience float64
	Counters    int
	Minutes     float64 // run length when Customers is 0
	Seed        uint64
}

// DefaultBank returns SimPy's parameters.
func DefaultBank() Bank {
	return Bank{Customers: 5, Interval: 10, TimeInBank: 12, MinPatience: 1, MaxPatience: 3, Counters: 1, Seed: 42}
}

// BankVisit records one customer.
type BankVisit struct {
	Arrive   sim.Time
	Wait     sim.Time
	Patience sim.Time
	Reneged  bool
}

// Run simulates the bank and writes SimPy's log lines to log, if not nil.
func (b Bank) Run(log io.Writer) []BankVisit {
	env := sim.New(sim.Options{Seed: b.Seed})
	counter := env.NewResource("counter", max(b.Counters, 1), sim.FIFO)
	arrivals := env.Stream("arrivals")
	patience := env.Stream("patience")
	service := env.Stream("service")
	var visits []*BankVisit
	minutes := func(t sim.Time) float64 { return t.Seconds() / 60 }
	say := func(format string, args ...any) {
		if log != nil {
			fmt.Fprintf(log, format+"\n", args...)
		}
	}
	customer := func(i int) {
		v := &BankVisit{Arrive: env.Now()}
		visits = append(visits, v)
		name := fmt.Sprintf("Customer%02d", i)
		env.Process(name, func(p *sim.Proc, step int) {
			switch step {
			case 0:
				say("%7.4f %s: Here I am", minutes(p.Now()), name)
				v.Patience = patience.Duration(sim.Uniform{Min: b.MinPatience * 60, Max: b.MaxPatience * 60})
				p.Within(v.Patience)
				counter.Request(p, 1)
			case 1:
				v.Wait = p.Now() - v.Arrive
				if p.TimedOut() {
					v.Reneged = true
					say("%7.4f %s: RENEGED after %6.3f", minutes(p.Now()), name, minutes(v.Wait))
					return
				}
				say("%7.4f %s: Waited %6.3f", minutes(p.Now()), name, minutes(v.Wait))
				p.Hold(service.Duration(sim.Exponential{M: b.TimeInBank * 60}), 2)
			case 2:
				counter.Release(p)
				say("%7.4f %s: Finished", minutes(p.Now()), name)
			}
		})
	}
	n := 0
	env.Process("source", func(p *sim.Proc, step int) {
		if b.Customers > 0 && n >= b.Customers {
			return
		}
		customer(n)
		n++
		p.Hold(arrivals.Duration(sim.Exponential{M: b.Interval * 60}), 1)
	})
	if b.Customers > 0 {
		env.Run()
	} else {
		env.RunUntil(sim.FromSeconds(b.Minutes * 60))
	}
	out := make([]BankVisit, len(visits))
	for i, v := range visits {
		out[i] = *v
	}
	return out
}
