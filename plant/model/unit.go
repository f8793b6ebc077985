package model

import (
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/kpi"
	"twin/sim"
)

// phase is what a machine's timer is counting.
type phase uint8

const (
	phNone  phase = iota
	phSetup       // changing over to the family of its job
	phRun         // processing its job (or batch)
	phMaint       // planned maintenance
)

// unit is a machine in the run: an event-driven state machine. Anything
// that may let it move on (a job arriving, room downstream, a worker, a
// repair, a shift) pokes it; next decides what it does.
type unit struct {
	m    *Model
	p    *plant.Unit
	wc   *wcenter
	path string

	state     event.MachineState
	since     sim.Time
	stateTime [9]sim.Time // time in each state since the statistics started
	power     [9]float64  // kW drawn in each state
	energy    float64     // kWh since the statistics started

	jobs       []*job // in process: one, or a batch
	out        []*job // finished, waiting for room downstream
	phase      phase
	timer      sim.Event // end of the current phase
	remaining  sim.Time  // left of a paused phase
	runTotal   sim.Time  // the length of the current run, drawn at its start
	lastFamily string
	wake       sim.Event // a poke: next at the current instant
	// Blocked (after service): blocking while it holds a part no buffer
	// has room for; blockGen counts its episodes of blocking; wokenBy
	// are the buffers that woke it (wokenSpare is the other buffer of
	// the two it swaps).
	blocking            bool
	blockGen            uint32
	wokenBy, wokenSpare []*wcenter
	repairEnd           sim.Event

	onShift    bool
	operator   bool  // holds an operator (the work centre's skill)
	helper     bool  // holds a repair or maintenance worker
	want       *pool // the pool it waits in, if any
	opPool     *pool // the pool of its work centre's skill, once looked up
	down       *failureMode
	repairing  bool
	failures   []*failureMode
	maint      []*maintPlan
	maintDue   *maintPlan
	maintStart sim.Time

	// Statistics since the statistics started.
	produced, good, reject int64
	kpi                    kpi.Machine // ISO 22400 times and quantities, by the one KPI engine
	// Cumulative counters, as a machine's PLC would report them.
	totalGood, totalReject int64
}

func newUnit(m *Model, p *plant.Unit, wc *wcenter) *unit {
	u := &unit{m: m, p: p, wc: wc, path: p.Path(), state: event.Unknown}
	u.kpi.Open(0, event.Unknown, false, 0, true)
	wc.units = append(wc.units, u)
	pw := p.Power
	u.power[event.Off] = pw.Off
	u.power[event.Idle] = pw.Idle
	u.power[event.Starved] = pw.Idle
	u.power[event.Blocked] = pw.Idle
	u.power[event.Setup] = pw.Setup
	u.power[event.Running] = pw.Busy
	u.power[event.Down] = pw.Down
	u.power[event.Maintenance] = pw.Down
	u.timer.Init(u.path+"/phase", u.phaseDone)
	u.wake.Init(u.path, u.woken)
	u.repairEnd.Init(u.path+"/repair", u.repaired)
	for i := range p.Failures {
		u.failures = append(u.failures, newFailureMode(u, &p.Failures[i]))
	}
	for i := range p.Maintenance {
		u.maint = append(u.maint, newMaintPlan(u, &p.Maintenance[i]))
	}
	return u
}

// start puts the machine in its first state (the calendar has set onShift).
func (u *unit) start() {
	for _, f := range u.failures {
		f.start()
	}
	for _, mp := range u.maint {
		mp.start()
	}
	u.next()
}

// poke asks the machine to look at its situation again at the current
// instant, after the event being handled. Pokes coalesce.
func (u *unit) poke() {
	if !u.wake.Pending() {
		u.m.env.Schedule(&u.wake, u.m.env.Now(), sim.Default)
	}
}

// woken is a poke's event: the machine looks again, and the buffers that
// woke it while it was blocked wake their next blocked machine.
func (u *unit) woken() {
	ws := u.wokenBy
	u.wokenBy, u.wokenSpare = u.wokenSpare[:0], ws
	u.next()
	for _, w := range ws {
		w.waking--
		w.wakeBlocked()
	}
	clear(ws)
}

// waitingForWork reports whether a new job in the buffer could start it.
func (u *unit) waitingForWork() bool {
	return u.phase == phNone && !u.timer.Pending() && len(u.out) == 0 && u.down == nil && u.onShift
}

// next decides what the machine does now.
func (u *unit) next() {
	if u.timer.Pending() {
		return // a setup, run or maintenance is under way; its end calls next
	}
	if u.down != nil {
		u.setState(event.Down)
		u.repair()
		return
	}
	// Finished work leaves first, shift or not: moving parts on is not
	// the machine's work.
	if len(u.out) > 0 && !u.flush() {
		u.setState(event.Blocked)
		return
	}
	if !u.onShift {
		u.releaseWorkers()
		u.setState(event.Off)
		return
	}
	if u.maintDue != nil && u.phase == phNone {
		u.maintain()
		return
	}
	if u.phase != phNone {
		u.resume()
		return
	}
	if u.wc.p.Batch != nil {
		u.startBatch()
		return
	}
	j := u.wc.pick(u)
	if j == nil {
		u.releaseWorkers()
		u.setState(u.m.idleState())
		return
	}
	keep := u.m.keeps(j)
	if keep != nil && !keep.room() {
		// blocking before service: no place downstream for what it
		// would make; it waits for one
		u.releaseWorkers()
		u.blocking = true
		u.blockGen++
		keep.block(u)
		u.setState(event.Blocked)
		return
	}
	if !u.needOperator() {
		return
	}
	if u.blocking {
		u.blocking = false
		u.blockGen++
	}
	if keep != nil {
		keep.reserved++
		j.reserved = keep
	}
	u.wc.take(j)
	u.jobs = append(u.jobs[:0], j)
	u.startJobs()
	u.wc.freed()
	if u.wc.queue.n > 0 {
		u.wc.wake() // more work: the next free machine looks
	}
}

// needOperator reports whether the machine has the operator it needs,
// asking the pool for one when not.
func (u *unit) needOperator() bool {
	sk := u.wc.p.Skill
	if sk == "" || u.operator {
		return true
	}
	pl := u.opPool
	if pl == nil {
		if pl = u.m.pools[sk]; pl == nil {
			return true // validated plants name pools for every skill
		}
		u.opPool = pl
	}
	if pl.acquire(u) {
		u.operator = true
		return true
	}
	u.setState(event.Starved)
	return false
}

// releaseWorkers leaves any line for a worker and gives back an operator
// the machine no longer needs.
func (u *unit) releaseWorkers() {
	if u.want != nil {
		u.want.cancel(u)
	}
	u.releaseOperator()
}

func (u *unit) releaseOperator() {
	if u.operator {
		u.operator = false
		pl := u.opPool
		if pl == nil {
			pl = u.m.pools[u.wc.p.Skill]
			u.opPool = pl
		}
		pl.release()
	}
}

// startJobs begins the setup (if the family changes) or the run of u.jobs.
func (u *unit) startJobs() {
	j := u.jobs[0]
	if m := u.wc.p.Setup; m != nil && !j.rework {
		if d := m.Time(u.lastFamily, j.family); d != nil {
			u.lastFamily = j.family
			u.begin(phSetup, u.m.draw(d, j, drawSetup), event.Setup)
			return
		}
	}
	u.lastFamily = j.family
	u.startRun()
}

func (u *unit) startRun() {
	j := u.jobs[0]
	_, d := j.step()
	purpose := drawProcess
	if j.rework {
		purpose = drawRework
	}
	if u.m.sink != nil {
		for _, j := range u.jobs {
			u.m.emit(event.OpStarted, u.path, j.routing.Ops[j.op].ID, j.String(), 0)
		}
	}
	u.runTotal = u.m.draw(d, j, purpose)
	u.begin(phRun, u.runTotal, event.Running)
}

// begin starts a phase lasting d.
func (u *unit) begin(ph phase, d sim.Time, st event.MachineState) {
	u.phase = ph
	u.setState(st)
	u.m.env.ScheduleIn(&u.timer, d)
	if ph == phRun {
		u.runClocks(true)
	}
}

// pause interrupts the current phase (a failure, the end of a shift),
// keeping what is left of it.
func (u *unit) pause() {
	if !u.timer.Pending() {
		return
	}
	u.remaining = u.timer.When() - u.m.env.Now()
	u.m.env.Cancel(&u.timer)
	if u.phase == phRun {
		u.runClocks(false)
	}
	if u.phase != phMaint {
		u.releaseWorkers()
	}
}

// resume restarts a paused phase.
func (u *unit) resume() {
	switch u.phase {
	case phSetup, phRun:
		if !u.needOperator() {
			return
		}
		st := event.Setup
		if u.phase == phRun {
			st = event.Running
		}
		u.begin(u.phase, u.remaining, st)
	case phMaint:
		u.begin(phMaint, u.remaining, event.Maintenance)
	}
}

// runClocks starts or stops the clocks that count operating time
// (operating-basis failures and maintenance).
func (u *unit) runClocks(on bool) {
	for _, f := range u.failures {
		f.operating(on)
	}
	for _, mp := range u.maint {
		mp.operating(on)
	}
}

// phaseDone is the end of the current phase.
func (u *unit) phaseDone() {
	switch u.phase {
	case phSetup:
		u.startRun()
		return
	case phRun:
		u.runClocks(false)
		u.phase = phNone
		u.finish()
	case phMaint:
		u.phase = phNone
		u.maintained()
	}
	u.next()
}

// finish books the jobs just processed and sends them on.
func (u *unit) finish() {
	m := u.m
	u.releaseWorkers()
	for _, j := range u.jobs {
		if r := j.reserved; r != nil {
			// the place kept downstream is given back: the part takes
			// it now if it goes there (flush, right after), and the
			// machines blocked on it look again if not
			r.reserved--
			j.reserved = nil
			r.wakeBlocked()
		}
		op := j.routing.Ops[j.op]
		j.step() // its time and planned time per unit, for pru below
		inspected := op.Inspect != nil && !j.rework
		first := inspected && j.attempt == 0 && !(j.loops > 0 && j.loopOp == j.op)
		u.produced++
		// ISO 22400 PRU: the planned time of one unit; a batch
		// machine's cycle serves up to Max units.
		pru := j.pru // kpi.PerUnitTime(d, u.wc.p): u.wc.p is the step's work centre
		good := true
		switch {
		case j.rework:
			// Reworked: back to the inspection it failed.
			j.rework = false
		case op.Inspect != nil:
			good = m.chance(op.Inspect.Yield, j, drawInspect)
			if good {
				j.op, j.attempt, j.kitted = j.op+1, 0, false
				break
			}
			m.stats.failedInspections++
			if first {
				m.stats.firstPass.Add(false)
			}
			in := op.Inspect
			reworked := j.attempt
			if in.BackTo != nil {
				reworked = 0
				if j.loopOp == j.op {
					reworked = j.loops
				}
			}
			past := in.MaxRework > 0 && reworked >= in.MaxRework
			if !in.Reworks() || m.chance(in.Scrap, j, drawScrap) || past && in.PastMax == plant.Scrapped {
				m.stats.inspections++
				if m.sink != nil { // the operation ends, then the machine counts it
					m.emit(event.OpFinished, u.path, op.ID, j.String(), 0)
				}
				u.count(j, false, pru)
				m.scrap(j)
				continue
			}
			switch {
			case past: // accepted as it is: on to the next operation
				m.stats.concessions++
				j.op, j.attempt, j.kitted = j.op+1, 0, false
			case in.BackTo != nil:
				m.loopBack(j, in.BackTo.Index)
			default:
				j.attempt++
				j.rework = true
			}
		default:
			j.op, j.attempt, j.kitted = j.op+1, 0, false
		}
		if inspected {
			m.stats.inspections++
			if first && good {
				m.stats.firstPass.Add(true)
			}
		}
		if m.sink != nil {
			g := 0.0
			if good {
				g = 1
			}
			m.emit(event.OpFinished, u.path, op.ID, j.String(), g)
		}
		u.count(j, good, pru)
		u.out = append(u.out, j)
	}
	clear(u.jobs)
	u.jobs = u.jobs[:0]
}

// count books a produced part as good or rejected, planned to take pru.
func (u *unit) count(j *job, good bool, pru time.Duration) {
	if good {
		u.kpi.Count(int64(u.m.env.Now()), 1, 0, pru)
	} else {
		u.kpi.Count(int64(u.m.env.Now()), 0, 1, pru)
	}
	if good {
		u.good++
		u.totalGood++
		if u.m.sink != nil {
			u.m.emit(event.Counter, u.path, "good", "", float64(u.totalGood))
		}
		return
	}
	u.reject++
	u.totalReject++
	if u.m.sink != nil {
		u.m.emit(event.Counter, u.path, "reject", "", float64(u.totalReject))
	}
}

// flush sends finished jobs on; false when one has no room to go to.
func (u *unit) flush() bool {
	for len(u.out) > 0 {
		j := u.out[0]
		if !u.m.forward(j) {
			u.blockOn(j)
			return false
		}
		copy(u.out, u.out[1:])
		u.out[len(u.out)-1] = nil
		u.out = u.out[:len(u.out)-1]
	}
	if u.blocking {
		u.blocking = false
		u.blockGen++
	}
	return true
}

// blockOn registers the machine with every buffer that could take j.
func (u *unit) blockOn(j *job) {
	u.blocking = true
	u.blockGen++
	op := j.routing.Ops[j.op]
	if j.rework {
		u.m.wcs[op.Inspect.Rework.WorkCenter.Index].block(u)
		return
	}
	for _, a := range op.Alternatives {
		u.m.wcs[a.WorkCenter.Index].block(u)
	}
}

// startBatch starts a batch if the batch rule allows.
func (u *unit) startBatch() {
	batch, wake := u.wc.pickBatch(u)
	if batch == nil {
		if wake > 0 {
			u.wc.armBatch(max(wake, u.m.env.Now()))
		}
		u.releaseWorkers()
		u.setState(u.m.idleState())
		return
	}
	if !u.needOperator() {
		return
	}
	u.m.env.Cancel(&u.wc.batchTimer)
	w := u.wc
	u.jobs = append(u.jobs[:0], batch...)
	for _, j := range batch {
		w.queue.remove(j)
		w.taken(j)
	}
	if u.m.sink != nil { // the last arrived leaves first
		for k := len(batch) - 1; k >= 0; k-- {
			u.m.emit(event.Moved, w.path, w.bufPath, batch[k].String(), 0)
		}
	}
	w.queueLen.Set(u.m.env.Now(), float64(w.queue.n))
	u.startJobs()
	u.wc.freed()
	if w.queue.n > 0 {
		w.wake() // another batch may be ready for another machine
	}
}

// setState records a state change: time and energy in the old state,
// power of the new one.
func (u *unit) setState(s event.MachineState) {
	if s == u.state {
		return
	}
	m := u.m
	now := m.env.Now()
	dt := now - u.since
	old := u.state
	u.stateTime[old] += dt
	u.energy += u.power[old] * dt.Hours()
	m.energy.change(now, u.power[s]-u.power[old])
	if old == event.Idle {
		u.wc.idle--
	}
	if s == event.Idle {
		u.wc.idle++
	}
	u.state, u.since = s, now
	u.kpi.State(int64(now), s)
	if m.sink != nil {
		m.emit(event.State, u.path, "", "", float64(s))
		m.emit(event.Measure, u.path, "power_kw", "", u.power[s])
		m.emit(event.Measure, u.path, "energy_kwh", "", u.energy)
	}
}

// resetStats starts the statistics window.
func (u *unit) resetStats(now sim.Time) {
	u.stateTime = [9]sim.Time{}
	u.energy = 0
	u.since = now
	u.produced, u.good, u.reject = 0, 0, 0
	u.kpi.Reset(int64(now))
}

// setShift turns the machine's calendar on or off.
func (u *unit) setShift(on bool) {
	if on == u.onShift {
		return
	}
	u.onShift = on
	u.kpi.Calendar(int64(u.m.env.Now()), on)
	if !on {
		if u.phase != phMaint {
			u.pause()
		}
	} else {
		for _, f := range u.failures {
			f.shiftStarted()
		}
	}
	u.poke()
}

// idleState is what a machine without work is: starved while the plant
// has open orders, idle when there is nothing to make.
func (m *Model) idleState() event.MachineState {
	if m.open > 0 {
		return event.Starved
	}
	return event.Idle
}
