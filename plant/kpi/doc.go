// Package kpi is the one engine behind every figure a person sees about
// production: the ISO 22400-2 time model that turns a machine's states
// and its shift calendar into planned busy time, production time and
// losses, and the formulas that turn those times and the quantities made
// into availability, effectiveness, quality rate, OEE, first-pass yield,
// on-time delivery, lead time, and energy and CO2 per unit. The records
// API, the demo's summary, the web page's tiles, the desktop viewer and
// simulated runs all compute through it, so the same day shows the same
// OEE everywhere.
//
// It is not a store and reads no history itself: callers feed it events
// (Fold, for a window of the twin's history) or call a Machine's methods
// directly (the simulator, on its hot path, without allocating).
//
// # The time model
//
// Every instant of a window is put in one bucket per machine, by its
// state and by its calendar (working time of the shift calendar its work
// centre follows):
//
//	state            calendar on          calendar off
//	unknown          unobserved           unobserved
//	running          APT                  APT (overtime)
//	setup            AUST                 AUST (overtime)
//	down, blocked    ADET                 off shift
//	idle, starved,   ADOT                 off shift
//	off
//	maintenance      PDOT                 off shift
//
// POT (planned operation time) is APT + AUST + ADET + ADOT + PDOT;
// PBT (planned busy time) is POT − PDOT. Time the twin did not observe
// (no reading yet, or the source went away) is unobserved: never planned,
// never lost. A machine that runs outside its calendar (overtime) counts
// that time as planned, so availability never exceeds 1. The delay and
// down buckets follow OPC 40001-1 Annex C: ADET is time with an order at
// the machine but not producing (a failure, a finished part that cannot
// leave), ADOT is time the machine is available without an order.
//
// # Quantities and planned time
//
// PQ, GQ and SQ are the produced, good and rejected quantities the
// machine counted. Effectiveness needs the planned run time of what was
// produced (ISO 22400's PRU × PQ): each count carries the planned time per
// unit of what it counted, and that planned time is pro-rated to the
// share of its run inside the window, where a run is the machine's
// running time since its previous count (a part in a cycle that began
// before the window counts only the part of its planned time the window
// saw). Counts at the same instant share one run (a batch). So when every
// run takes at least its planned time, effectiveness is at most 1.
//
//	Availability   = APT / PBT
//	Effectiveness  = PRU × PQ / APT
//	Quality rate   = GQ / PQ
//	OEE            = Availability × Effectiveness × Quality rate
//	Setup rate     = AUST / (APT + AUST)
//	Technical eff. = APT / (APT + ADET)
//
// A ratio whose denominator is zero is not defined (NaN; the API omits it).
//
//	var m kpi.Machine
//	m.Open(from, event.Running, true, 0, true)
//	m.Count(from+int64(10*time.Minute), 1, 0, 8*time.Minute)
//	m.Close(from + int64(time.Hour))
//	f := kpi.Compute(m.Times(), m.Quantities()) // A 1, E 0.8, Q 1 … of the hour
package kpi
