package sim_test

import (
	"fmt"

	"twin/sim"
)

// A machine that waits for parts, sets up, processes and sometimes
// breaks: the shape of every station in a plant model.
func Example_machine() {
	env := sim.New(sim.Options{Seed: 1})
	in := sim.NewStore[string](env, "in", 0)
	var part string
	made := 0
	const (
		waitPart = iota
		setUp
		work
		done
	)
	stream := env.Stream("press")
	machine := env.Process("press", func(p *sim.Proc, step int) {
		switch step {
		case waitPart:
			in.Get(p, &part, setUp)
		case setUp:
			p.Hold(30*sim.Second, work)
		case work:
			p.Hold(stream.Duration(sim.Triangular{Min: 50, Mode: 60, Max: 90}), done)
		case done:
			if in := p.Interrupted(); in != nil {
				// A breakdown: repair for 5 minutes, then finish the part.
				p.Hold(5*sim.Minute+in.Remaining, done)
				return
			}
			made++
			in.Get(p, &part, setUp)
		}
	})
	for i := 0; i < 5; i++ {
		in.TryPut(fmt.Sprintf("stator-%d", i))
	}
	env.At(3*sim.Minute, func() { machine.Interrupt("bearing") })
	env.Run()
	fmt.Printf("%d parts by %s\n", made, env.Now().Clock())
	// Output: 5 parts by d0 00:12:52.68433347
}

// Resources with a queue: customers wait for one of two counters.
func ExampleResource() {
	env := sim.New(sim.Options{})
	counter := env.NewResource("counter", 2, sim.FIFO)
	for i := 0; i < 4; i++ {
		env.Process(fmt.Sprint("customer", i), func(p *sim.Proc, step int) {
			switch step {
			case 0:
				counter.Request(p, 1)
			case 1:
				p.Hold(10*sim.Minute, 2)
			case 2:
				counter.Release(p)
			}
		})
	}
	env.Run()
	fmt.Printf("done at %v, mean wait %.0fs, busy %.1f counters on average\n",
		env.Now(), counter.Wait.Mean(), counter.Busy.Mean(env.Now()))
	// Output: done at 20m0s, mean wait 300s, busy 2.0 counters on average
}
