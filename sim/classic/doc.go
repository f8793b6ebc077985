// Package classic holds the textbook models of discrete-event simulation
// built on the kernel: queues with closed-form answers (M/M/1, M/M/c,
// M/D/1) and SimPy's classic examples (the machine shop with breakdowns and
// a repairman, the carwash, the bank with reneging customers).
//
// They check the kernel against theory and against SimPy, and they are
// worked examples of writing models with processes, resources, stores and
// interrupts. It is not a plant model.
//
//	r := classic.Queue{
//		Arrival: sim.Exponential{M: 1 / 0.9}, Service: sim.Exponential{M: 1},
//		Servers: 1, Customers: 1e6, Seed: 1,
//	}.Run()
//	fmt.Println(r.Wait) // about 9 = ρ/(μ−λ)
package classic
