// Package model simulates a plant on the kernel: machines grouped in work
// centres with input buffers, routings with alternatives, dispatch rules,
// changeovers, batch processes, assembly of components made for the same
// order, inspections with rework and scrap, failures and planned
// maintenance, shift calendars, worker pools, and energy under a
// time-of-use tariff. It reports ISO 22400 KPIs and emits the plant event
// vocabulary (plant/event), so a simulated run can be watched exactly like
// a live one.
//
// It is not the scenario engine (package scenarios runs replications and
// variants) and knows nothing of protocols or storage.
//
// Random numbers are keyed: the processing time of a job's operation, its
// setup and its inspection outcome are drawn from the identity (seed, job,
// operation, attempt), and a job's identity is (order, place in the
// order). Two variants of a scenario with the same seed therefore see the
// same work, whichever machine does it: common random numbers.
//
//	m, _ := model.New(p, model.Options{Seed: 1, Warmup: 7 * sim.Day, Horizon: 28 * sim.Day})
//	r := m.Run()
//	fmt.Printf("%.0f motors/day, OEE of %s %.2f\n", r.Throughput, r.Bottleneck, r.WorkCenters[0].OEE)
package model
