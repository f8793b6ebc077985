// Package sim is a deterministic discrete-event simulation kernel: an
// integer clock, an event calendar, lightweight processes, resources,
// stores, containers, seeded random streams, distributions and statistics.
//
// It is not a plant model and knows nothing of machines, protocols or
// storage; the plant package builds factories on top of it.
//
// A run is deterministic: events fire in order of time, then priority, then
// the order in which they were scheduled, and every random draw comes from a
// stream named after the entity that draws it. The same model and seed give
// the same event trace, bit for bit.
//
// Processes are written as step functions rather than goroutines: the
// kernel calls the body with the step to run, and each step ends with one
// blocking call that names the step to resume at. Scheduling, dispatching
// and resuming allocate nothing in steady state.
//
//	env := sim.New(sim.Options{Seed: 1})
//	server := env.NewResource("server", 1, sim.FIFO)
//	service := sim.Exponential{M: 1}
//	env.Process("customer", func(p *sim.Proc, step int) {
//		switch step {
//		case 0:
//			server.Request(p, 1)
//		case 1:
//			p.Hold(env.Stream("service").Duration(service), 2)
//		case 2:
//			server.Release(p)
//		}
//	})
//	env.Run()
package sim
