package model

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"twin/plant"
	"twin/sim"
)

// Position is where a plant stands at a moment: its open orders, where
// each of their units is, and which machines are down. A model started
// from a position (Options.Resume) carries on from there instead of from
// an empty plant: the virtual plant resuming a demo's history, a forecast
// from the live twin. Model.Position exports a model's own position; the
// twin reconstructs one from its history (twin/forecast).
type Position struct {
	Orders []OpenOrder
	Down   []string // equipment paths of the machines down
	// Clocks are the machines' wear clocks: when each planned maintenance
	// comes due and each failure mode next fails. A machine without its
	// clocks here starts them afresh.
	Clocks []Clocks
}

// Clocks are one machine's wear clocks, by plan and failure mode name,
// and its cumulative counters and energy meter (a PLC's do not start again
// from zero when the plant resumes).
type Clocks struct {
	Unit        string
	Maintenance []Clock
	Failures    []Clock
	Meters      bool // Good, Reject and EnergyKWh are known
	Good        float64
	Reject      float64
	EnergyKWh   float64
}

// Clock is how far a plan or a failure mode has got: Left until it comes
// due or fails, counted in its basis (running time or wall time), when
// known exactly (the model's own export); else Since, the time counted
// since the last maintenance or repair (the history's), from which the
// model draws when it comes (a failure) or computes it (a plan). Due: a
// plan due now (or under way); a failure that came due while the machine
// was off.
type Clock struct {
	Name  string
	Left  time.Duration
	Since time.Duration
	Due   bool
}

// OpenOrder is an order not yet completed and how far it has got.
type OpenOrder struct {
	ID       string
	Customer string
	Product  *plant.Product
	Quantity int // ordered
	Release  time.Time
	Due      time.Time
	Priority int
	Done     int // products finished
	Scrapped int // products scrapped (the order is short by them)
	// Stock is the made parts finished and not yet joined to a product,
	// by part id.
	Stock map[string]int
	// Jobs are the units on their way: products and made parts. Units
	// of the order that are not among them and not done, scrapped or in
	// stock have not started (they wait for their first operation).
	Jobs []Job
}

// Job is one unit of a product or of a made part on its way.
type Job struct {
	// Ref is the unit's name in the plant's events
	// (order/part/number, "P" for the product); empty for one not seen.
	Ref     string
	Part    *plant.Part // nil: the product
	Op      int         // its operation, an index into its routing
	Rework  bool        // at that operation's rework step
	Attempt int         // inspections failed at that operation
	// Loops back the inspection at LoopOp sent it on, Passes every loop
	// back, Reached the furthest operation it failed an inspection at
	// (see plant.Inspection.BackTo).
	Loops, LoopOp, Passes, Reached int
	Kitted                         bool // the parts that operation joins are taken already
	// Unit is the machine (equipment path) holding it; empty when it
	// waits in a buffer, for room, or for its parts.
	Unit string
	// Queued: it waits in the buffer of work centre At (by id) since
	// Arrived.
	Queued  bool
	At      string
	Arrived time.Time
	// Finished: Unit has finished it and holds it for want of room
	// downstream (Op is then its next operation).
	Finished bool
	// Run is how long Unit has been working on it (not Finished); Left,
	// when known, how long it still needs (the model's own export knows
	// it; from the history it is drawn, given Run).
	Run, Left time.Duration
}

// Remaining returns how many units of the product are still to be made.
func (o *OpenOrder) Remaining() int { return o.Quantity - o.Done - o.Scrapped }

// Position returns the model's position now.
func (m *Model) Position() *Position {
	pos := &Position{}
	byOrder := map[*order]*OpenOrder{}
	var list []*order
	for _, o := range m.orders {
		if o.finished {
			continue
		}
		oo := &OpenOrder{ID: o.id, Customer: o.customer, Product: o.product, Quantity: o.qty,
			Release: m.WallTime(o.release), Due: m.WallTime(o.due), Priority: o.priority, Done: o.done, Scrapped: o.scrapped,
			Stock: map[string]int{}}
		for _, pt := range m.p.Parts {
			if n := o.stock[pt.Index]; n > 0 {
				oo.Stock[pt.ID] = n
			}
		}
		byOrder[o] = oo
		list = append(list, o)
	}
	add := func(j *job, unit string, finished bool, run, left sim.Time) *Job {
		oo := byOrder[j.order]
		if oo == nil {
			return &Job{}
		}
		oo.Jobs = append(oo.Jobs, Job{Ref: j.String(), Part: j.part, Op: j.op, Rework: j.rework, Attempt: j.attempt, Kitted: j.kitted,
			Loops: j.loops, LoopOp: j.loopOp, Passes: j.passes, Reached: j.reached, Unit: unit, Finished: finished, Run: time.Duration(run), Left: time.Duration(left)})
		return &oo.Jobs[len(oo.Jobs)-1]
	}
	for _, w := range m.wcs {
		for j := w.queue.head; j != nil; j = j.qnext {
			pj := add(j, "", false, 0, 0)
			pj.Queued, pj.At, pj.Arrived = true, w.p.ID(), m.WallTime(j.arrived)
		}
		for _, j := range w.pending.all() {
			add(j, "", false, 0, 0)
		}
		for _, u := range w.units {
			run, left := u.runProgress()
			for _, j := range u.jobs {
				add(j, u.path, false, run, left)
			}
			for _, j := range u.out {
				add(j, u.path, true, 0, 0)
			}
		}
	}
	for _, o := range list {
		for _, j := range o.kitWait {
			add(j, "", false, 0, 0)
		}
		pos.Orders = append(pos.Orders, *byOrder[o])
	}
	for _, u := range m.units {
		if u.down != nil {
			pos.Down = append(pos.Down, u.path)
		}
		c := Clocks{Unit: u.path, Meters: true, Good: float64(u.totalGood), Reject: float64(u.totalReject),
			EnergyKWh: u.energy + u.power[u.state]*(m.env.Now()-u.since).Hours()}
		now := m.env.Now()
		for _, mp := range u.maint {
			left := mp.left
			if mp.ev.Pending() {
				left = mp.ev.When() - now
			}
			c.Maintenance = append(c.Maintenance, Clock{Name: mp.mp.Name, Left: time.Duration(left), Due: u.maintDue == mp})
		}
		for _, fm := range u.failures {
			left := fm.left
			if fm.ev.Pending() {
				left = fm.ev.When() - now
			}
			c.Failures = append(c.Failures, Clock{Name: fm.f.Name, Left: time.Duration(left), Due: fm.pending})
		}
		pos.Clocks = append(pos.Clocks, c)
	}
	for i := range pos.Orders {
		sortJobs(pos.Orders[i].Jobs)
	}
	return pos
}

// sortJobs orders jobs by name, for comparisons.
func sortJobs(js []Job) {
	sort.SliceStable(js, func(a, b int) bool { return js[a].Ref < js[b].Ref })
}

// runProgress is how long the machine has worked on its jobs and how
// long they still need (0, 0 when it is not running them).
func (u *unit) runProgress() (run, left sim.Time) {
	if len(u.jobs) == 0 {
		return 0, 0
	}
	switch u.phase {
	case phRun:
		left = u.remaining
		if u.timer.Pending() {
			left = u.timer.When() - u.m.env.Now()
		}
		return max(u.runTotal-left, 0), left
	}
	return 0, 0 // a setup under way, or not started: the run is all to do
}

// resume puts the plant at position pos: its orders, their units where
// they are, its machines' work in hand. It runs at simulated time 0,
// before the machines start, and emits nothing.
func (m *Model) resume(pos *Position) {
	sink := m.sink
	m.sink = nil
	defer func() { m.sink = sink }()
	units := map[string]*unit{}
	for _, u := range m.units {
		units[u.path] = u
	}
	parts := map[string]*plant.Part{}
	for _, pt := range m.p.Parts {
		parts[pt.ID] = pt
	}
	// the buffers first, in the order their jobs arrived (dispatch ties
	// and batch waits depend on it), then what waits for room or parts
	type queuedJob struct {
		j  *job
		pj Job
	}
	var queued []queuedJob
	var later []func()
	wcByID := map[string]*wcenter{}
	for _, w := range m.wcs {
		wcByID[w.p.ID()] = w
	}
	// a position names products and parts; they are looked up by id, so
	// that a position read with another load of the plant file resumes too
	products := map[string]*plant.Product{}
	for _, pr := range m.p.Products {
		products[pr.ID] = pr
	}
	for _, oo := range pos.Orders {
		if oo.Product == nil || oo.Remaining() <= 0 || products[oo.Product.ID] == nil {
			continue
		}
		oo.Product = products[oo.Product.ID]
		jobs := make([]Job, 0, len(oo.Jobs))
		for _, pj := range oo.Jobs {
			if pj.Part != nil {
				if pj.Part = parts[pj.Part.ID]; pj.Part == nil {
					continue // a part the plant no longer makes
				}
			}
			jobs = append(jobs, pj)
		}
		oo.Jobs = jobs
		o := &order{
			seq: len(m.orders), id: oo.ID, customer: oo.Customer, product: oo.Product, qty: oo.Quantity,
			release: m.simTime(oo.Release), due: m.simTime(oo.Due), priority: oo.Priority,
			done: oo.Done, scrapped: oo.Scrapped, stock: make([]int, len(m.p.Parts)),
			fam: m.families[oo.Product.Family], times: &m.times,
		}
		if oo.Due.IsZero() {
			o.due = sim.MaxTime / 2
		}
		m.orders = append(m.orders, o)
		m.open++
		for id, n := range oo.Stock {
			if pt := parts[id]; pt != nil {
				o.stock[pt.Index] += n
			}
		}
		seen := map[*plant.Part]int{} // jobs given, by part (nil: the product)
		for _, pj := range oo.Jobs {
			j := m.resumedJob(o, pj)
			if j == nil {
				continue
			}
			seen[pj.Part]++
			if pj.Queued {
				queued = append(queued, queuedJob{j, pj})
				continue
			}
			u := units[pj.Unit]
			if u != nil && !pj.Finished && !j.rework {
				j.alt = altAt(j.routing.Ops[j.op], u.wc.p)
				if j.alt == nil {
					u = nil // the machine cannot do it (a changed plant): back to a buffer
				}
			}
			switch {
			case u != nil && pj.Finished:
				m.countComing(j, j.op)
				u.out = append(u.out, j)
				m.enterFloor(j)
			case u != nil:
				m.countComing(j, j.op+1) // it has arrived where it is
				u.jobs = append(u.jobs, j)
				u.phase = phRun
				u.lastFamily = j.family
				if u.remaining == 0 && pj.Run == 0 && pj.Left == 0 && !j.rework && u.wc.p.Setup != nil {
					// a setup under way, or not started (runProgress): the
					// machine changes over again, then runs it all
					d := u.wc.p.Setup.Time("", j.family)
					if d == nil {
						d = u.wc.p.Setup.Default
					}
					if d != nil {
						u.phase, u.remaining = phSetup, max(m.draw(d, j, drawSetup), 1)
					}
				}
				if u.remaining == 0 { // a batch runs as one
					left := sim.Time(pj.Left)
					if left <= 0 {
						left = m.drawLeft(j, sim.Time(pj.Run))
					}
					u.remaining, u.runTotal = left, sim.Time(pj.Run)+left
				}
				m.enterFloor(j)
			default:
				later = append(later, func() {
					m.countComing(j, j.op)
					m.route(j)
				})
			}
		}
		// the units not among the jobs have not started: they wait for
		// their first operation (or for their parts)
		for u := 0; u < oo.Remaining()-seen[nil]; u++ {
			if oo.Product.Routing != nil {
				later = append(later, func() { m.launch(o, nil, oo.Product.Routing) })
			}
		}
		for _, c := range oo.Product.BOM {
			if c.Part.Purchased || c.Part.Routing == nil {
				continue
			}
			// made parts still needed: for the products not yet joined to
			// theirs, less those in stock or on their way
			need := 0
			for _, pj := range oo.Jobs {
				if pj.Part == nil && !joined(oo.Product.Routing, pj, c.Part) {
					need += c.Qty
				}
			}
			need += (oo.Remaining() - seen[nil]) * c.Qty
			for k := o.stock[c.Part.Index] + seen[c.Part]; k < need; k++ {
				later = append(later, func() { m.launch(o, c.Part, c.Part.Routing) })
			}
		}
	}
	sort.SliceStable(queued, func(a, b int) bool { return queued[a].pj.Arrived.Before(queued[b].pj.Arrived) })
	for _, q := range queued {
		w := wcByID[q.pj.At]
		var a *plant.Alternative
		if w != nil && !q.j.rework {
			a = altAt(q.j.routing.Ops[q.j.op], w.p)
		}
		if w == nil || a == nil && !q.j.rework {
			later = append(later, func() { m.countComing(q.j, q.j.op); m.route(q.j) })
			continue
		}
		m.countComing(q.j, q.j.op)
		w.enqueue(q.j, a)
		q.j.arrived = m.simTime(q.pj.Arrived)
		if q.j.arrived > 0 {
			w.unordered = true // later arrivals come at 0
		}
	}
	for _, f := range later {
		f()
	}
	for _, o := range m.orders {
		for len(o.kitWait) > 0 && m.kit(o.kitWait[0]) {
			k := o.kitWait[0]
			o.kitWait = o.kitWait[1:]
			k.kitted = true
			m.route(k)
		}
	}
}

// joined reports whether product job pj has taken part pt already (it is
// past, or kitted at, the operation that joins it).
func joined(r *plant.Routing, pj Job, pt *plant.Part) bool {
	if r == nil {
		return false
	}
	for i, op := range r.Ops {
		for _, c := range op.Consumes {
			if c.Part == pt {
				return pj.Op > i || pj.Op == i && pj.Kitted
			}
		}
	}
	return false
}

// altAt is the alternative of op at work centre wc, or nil.
func altAt(op *plant.Operation, wc *plant.WorkCenter) *plant.Alternative {
	for i := range op.Alternatives {
		if op.Alternatives[i].WorkCenter == wc {
			return &op.Alternatives[i]
		}
	}
	return nil
}

// resumedJob makes the job of a position's unit, keeping its name; nil
// when its routing is done (it is then stock or a finished product).
func (m *Model) resumedJob(o *order, pj Job) *job {
	r := o.product.Routing
	if pj.Part != nil {
		r = pj.Part.Routing
	}
	if r == nil || pj.Op < 0 {
		return nil
	}
	n := o.launched + 1
	if i := strings.LastIndexByte(pj.Ref, '/'); i >= 0 {
		if k, err := strconv.ParseInt(pj.Ref[i+1:], 10, 64); err == nil && k > 0 {
			n = k & (1<<24 - 1)
		}
	}
	o.launched = max(o.launched, n)
	j := &job{id: int64(o.seq)<<24 | n, order: o, part: pj.Part, routing: r, family: o.product.Family, fam: o.fam, created: o.release,
		op: pj.Op, rework: pj.Rework, attempt: pj.Attempt, kitted: pj.Kitted, name: pj.Ref,
		loops: pj.Loops, loopOp: pj.LoopOp, passes: pj.Passes, reached: pj.Reached}
	if j.op >= len(r.Ops) {
		if pj.Part != nil {
			o.stock[pj.Part.Index]++
		}
		return nil
	}
	return j
}

// drawLeft draws how long a run that has gone on for run still needs:
// its time, drawn until it is longer than run (a keyed draw, so the same
// in every variant); a tenth of the mean when the distribution is done.
func (m *Model) drawLeft(j *job, run sim.Time) sim.Time {
	_, d := j.step()
	if d == nil {
		return 0
	}
	m.jobRand.Reseed(sim.Key(m.opt.Seed, uint64(j.id), uint64(j.op)<<8|uint64(j.attempt), drawResume))
	for range 64 {
		if t := m.jobRand.Duration(d); t > run {
			return t - run
		}
	}
	return max(sim.Time(d.Mean()*float64(sim.Second))/10, sim.Second)
}

// Release releases an order now: between RunUntil calls, from the model's
// goroutine (the virtual plant takes the orders its records release).
func (m *Model) Release(o plant.Order) {
	due := m.simTime(o.Due)
	if o.Due.IsZero() {
		due = sim.MaxTime / 2
	}
	m.release(o.ID, o.Customer, o.Product, o.Quantity, due, o.Priority)
}

// Has reports whether the model has order id (released, open or not).
func (m *Model) Has(id string) bool {
	for _, o := range m.orders {
		if o.id == id {
			return true
		}
	}
	return false
}

// countComing counts job j as on its way to the work centres of its
// operations from index from on (see wcenter.coming).
func (m *Model) countComing(j *job, from int) {
	j.comingFrom = from
	for k := from; k < len(j.routing.Ops); k++ {
		for _, a := range j.routing.Ops[k].Alternatives {
			m.wcs[a.WorkCenter.Index].coming++
		}
	}
}

// arrived uncounts job j's arrival for its operations up to op.
func (m *Model) arrived(j *job, op int) {
	for k := j.comingFrom; k <= op && k < len(j.routing.Ops); k++ {
		for _, a := range j.routing.Ops[k].Alternatives {
			w := m.wcs[a.WorkCenter.Index]
			w.coming--
			if w.coming == 0 && w.p.Batch != nil {
				for _, u := range w.units { // a partial batch may go now
					if u.waitingForWork() {
						u.poke()
					}
				}
			}
		}
	}
	j.comingFrom = max(j.comingFrom, op+1)
}

// resumeClocks sets the machines' wear clocks of a position (after the
// machines have started theirs afresh).
func (m *Model) resumeClocks(cs []Clocks) {
	units := map[string]*unit{}
	for _, u := range m.units {
		units[u.path] = u
	}
	for _, c := range cs {
		u := units[c.Unit]
		if u == nil {
			continue
		}
		if c.Meters {
			u.totalGood, u.totalReject = int64(c.Good), int64(c.Reject)
			u.energy = c.EnergyKWh - u.power[u.state]*(m.env.Now()-u.since).Hours()
		}
		for _, k := range c.Maintenance {
			for _, mp := range u.maint {
				if mp.mp.Name == k.Name {
					mp.set(k)
				}
			}
		}
		for _, k := range c.Failures {
			for _, fm := range u.failures {
				if fm.f.Name == k.Name {
					fm.set(k)
				}
			}
		}
	}
}

// set puts the plan's clock where k says.
func (p *maintPlan) set(k Clock) {
	env := p.u.m.env
	if k.Due {
		env.Cancel(&p.ev)
		p.due()
		return
	}
	left := sim.Time(k.Left)
	if left <= 0 {
		if k.Since <= 0 {
			return // not known: it keeps its fresh start
		}
		if left = p.mp.Every - sim.Time(k.Since); left <= 0 {
			env.Cancel(&p.ev)
			p.due()
			return
		}
	}
	env.Cancel(&p.ev)
	if p.mp.Basis == plant.CalendarTime {
		env.ScheduleIn(&p.ev, left)
		return
	}
	p.left = left
	if p.u.phase == phRun && p.u.timer.Pending() {
		env.ScheduleIn(&p.ev, left)
	}
}

// set puts the failure mode's clock where k says: its time left, or one
// drawn given the time since its last repair (a failure that has not come
// in that long).
func (fm *failureMode) set(k Clock) {
	env := fm.u.m.env
	fm.pending = k.Due
	left := sim.Time(k.Left)
	if left <= 0 {
		if k.Since <= 0 {
			return
		}
		since := sim.Time(k.Since)
		left = sim.Time(fm.f.TBF.Mean() * float64(sim.Second) / 10)
		for range 64 {
			if d := fm.tbf.Duration(fm.f.TBF); d > since {
				left = d - since
				break
			}
		}
	}
	env.Cancel(&fm.ev)
	if fm.f.Basis == plant.CalendarTime {
		env.ScheduleIn(&fm.ev, left)
		return
	}
	fm.left = left
	if fm.u.phase == phRun && fm.u.timer.Pending() {
		env.ScheduleIn(&fm.ev, left)
	}
}
