package classic

import (
	"fmt"
	"io"

	"twin/sim"
)

// Carwash is SimPy's carwash example: cars arrive every T_INTER ± 2 minutes
// (whole minutes, uniform), four are waiting at the start, and a number of
// washing machines each take WashTime minutes per car.
type Carwash struct {
	Machines int
	WashTime float64 // minutes
	TInter   int     // minutes
	Minutes  float64 // simulated time
	Seed     uint64
}

// DefaultCarwash returns SimPy's parameters.
func DefaultCarwash() Carwash {
	return Carwash{Machines: 2, WashTime: 5, TInter: 7, Minutes: 20, Seed: 42}
}

// CarwashVisit records one car.
type CarwashVisit struct {
	Car                  int
	Arrive, Enter, Leave sim.Time // Enter and Leave are 0 if it never got there
	Dirt                 int      // percent removed
}

// Run simulates the carwash and writes SimPy's log lines to log, if not nil.
func (cw Carwash) Run(log io.Writer) []CarwashVisit {
	env := sim.New(sim.Options{Seed: cw.Seed})
	machines := env.NewResource("carwash", cw.Machines, sim.FIFO)
	dirt := env.Stream("dirt")
	arrivals := env.Stream("arrivals")
	var visits []*CarwashVisit
	say := func(format string, args ...any) {
		if log != nil {
			fmt.Fprintf(log, format+"\n", args...)
		}
	}
	minutes := func(t sim.Time) float64 { return t.Seconds() / 60 }
	newCar := func() {
		v := &CarwashVisit{Car: len(visits), Arrive: env.Now()}
		visits = append(visits, v)
		name := fmt.Sprintf("Car %d", v.Car)
		env.Process(name, func(p *sim.Proc, step int) {
			switch step {
			case 0:
				say("%s arrives at the carwash at %.2f.", name, minutes(p.Now()))
				machines.Request(p, 1)
			case 1:
				v.Enter = p.Now()
				say("%s enters the carwash at %.2f.", name, minutes(p.Now()))
				// The washing is a process of its own that the car waits for.
				wash := env.Process(name+"/wash", func(w *sim.Proc, step int) {
					if step == 0 {
						w.Hold(sim.FromSeconds(cw.WashTime*60), 1)
						return
					}
					v.Dirt = 50 + dirt.IntN(50)
					say("Carwash removed %d%% of %s's dirt.", v.Dirt, name)
				})
				p.Join(wash, 2)
			case 2:
				v.Leave = p.Now()
				say("%s leaves the carwash at %.2f.", name, minutes(p.Now()))
				machines.Release(p)
			}
		})
	}
	env.Process("setup", func(p *sim.Proc, step int) {
		if step == 0 {
			for i := 0; i < 4; i++ {
				newCar()
			}
		} else {
			newCar()
		}
		gap := cw.TInter - 2 + arrivals.IntN(5)
		p.Hold(sim.Time(gap)*sim.Minute, 1)
	})
	env.RunUntil(sim.FromSeconds(cw.Minutes * 60))
	out := make([]CarwashVisit, len(visits))
	for i, v := range visits {
		out[i] = *v
	}
	return out
}
