package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/kpi"
	"twin/sim"
)

// order is a customer order in the run.
type order struct {
	seq      int
	id       string
	customer string
	product  *plant.Product
	qty      int
	release  sim.Time
	due      sim.Time
	priority int

	done, scrapped int
	launched       int64 // jobs launched: a job's id is (order, launch number)
	fam            int   // the product family's index (Model.families)
	times          *stepTimes
	completed      sim.Time
	finished       bool
	stock          []int  // made components waiting for assembly, by part index
	kitWait        []*job // final jobs waiting for their components
}

// job is one unit of a part or a product moving along its routing.
type job struct {
	id      int64
	order   *order
	part    *plant.Part // nil for the product itself
	routing *plant.Routing
	family  string
	fam     int  // the family's index (Model.families)
	op      int  // index of the current operation
	attempt int  // inspections failed at the current operation
	rework  bool // at the rework step of the current operation
	kitted  bool // its components for the current operation are consumed
	onFloor bool // counted in WIP
	alt     *plant.Alternative
	arrived sim.Time // at the current queue
	// comingFrom is the first operation whose arrival is still counted
	// as coming (wcenter.coming)
	comingFrom int
	created    sim.Time
	name       string // for events; built when a sink asks for it

	// dist is the time of the step at distAlt for this job's product, pru
	// its planned time per unit (kpi.PerUnitTime): from the order's
	// stepTimes, once per step.
	distAlt *plant.Alternative
	dist    sim.Dist
	pru     time.Duration

	// loops counts the loops back (rework from an earlier operation)
	// that the inspection at operation loopOp sent it on; passes counts
	// every loop back, for the keys of its draws; reached is the
	// furthest operation it has failed an inspection at, before which
	// it does not take parts again.
	loops, loopOp, passes, reached int
	// reserved is the buffer that keeps a place for it, if any
	// (blocking before service)
	reserved *wcenter

	// In a work centre's queue: the arrival order (qprev, qnext, and
	// fprev, fnext within its family), its place in arrival order, the
	// heap of the dispatch rule that holds it and its index there, and the
	// rule's static key.
	qprev, qnext *job
	fprev, fnext *job
	qseq         uint64
	heap         *jobHeap
	hidx         int
	qkey         float64
}

// next is the job after j in arrival order: in its queue, or in its
// family within the queue.
func (j *job) next(family bool) *job {
	if family {
		return j.fnext
	}
	return j.qnext
}

func (j *job) String() string {
	if j.name == "" {
		what := "P"
		if j.part != nil {
			what = j.part.ID
		}
		j.name = j.order.id + "/" + what + "/" + strconv.FormatInt(j.id, 10)
	}
	return j.name
}

// procTime is the time of the job's current step at its alternative.
func (j *job) step() (*plant.Alternative, sim.Dist) {
	a := j.alt
	if j.rework {
		a = j.routing.Ops[j.op].Inspect.Rework
	}
	if a != j.distAlt {
		t := j.order.times.of(a, j.order.product)
		j.distAlt, j.dist, j.pru = a, t.d, t.pru
	}
	return a, j.dist
}

// stepTimes holds, by alternative and product, the time of a step and its
// planned time per unit: a step's start and end would otherwise look the
// time up in two maps by name and compute the mean (an exp for a
// lognormal) again.
type stepTimes struct {
	by map[*plant.Alternative][]stepTime // by product index
	p  *plant.Plant
}

type stepTime struct {
	d   sim.Dist
	pru time.Duration
}

// of returns the step time of product pr at alternative a.
// A nil stepTimes looks it up every time.
func (s *stepTimes) of(a *plant.Alternative, pr *plant.Product) stepTime {
	if s == nil {
		d := a.Time.ForProduct(pr.ID, pr.Family)
		return stepTime{d: d, pru: kpi.PerUnitTime(d, a.WorkCenter)}
	}
	ts := s.by[a]
	if ts == nil {
		ts = make([]stepTime, len(s.p.Products))
		for i, p := range s.p.Products {
			d := a.Time.ForProduct(p.ID, p.Family)
			ts[i] = stepTime{d: d, pru: kpi.PerUnitTime(d, a.WorkCenter)}
		}
		s.by[a] = ts
	}
	if pr.Index < len(ts) && s.p.Products[pr.Index] == pr {
		return ts[pr.Index]
	}
	return (*stepTimes)(nil).of(a, pr) // not one of the plant's products
}

// startDemand schedules the order list and starts the generator.
func (m *Model) startDemand() {
	orders := m.p.Demand.Orders
	if m.opt.Orders != nil {
		orders = m.opt.Orders
	}
	for i := range orders {
		o := orders[i]
		at := m.simTime(o.Release)
		if at < 0 {
			at = 0
		}
		m.env.At(at, func() {
			m.release(o.ID, o.Customer, o.Product, o.Quantity, m.simTime(o.Due), o.Priority)
		})
	}
	g := m.p.Demand.Generator
	if g == nil || m.opt.Orders != nil || m.opt.NoGenerator {
		return
	}
	ia := m.env.Stream("demand/interarrival")
	mixS := m.env.Stream("demand/mix")
	qtyS := m.env.Stream("demand/quantity")
	dueS := m.env.Stream("demand/due")
	prioS := m.env.Stream("demand/priority")
	var mix, prio *sim.Discrete
	idx := make([]float64, len(g.Mix))
	w := make([]float64, len(g.Mix))
	for i, s := range g.Mix {
		idx[i], w[i] = float64(i), s.Weight
	}
	mix, _ = sim.NewDiscrete(idx, w)
	if len(g.Priority) > 0 {
		pi := make([]float64, len(g.Priority))
		for i := range pi {
			pi[i] = float64(i)
		}
		prio, _ = sim.NewDiscrete(pi, g.Priority)
	}
	until := sim.MaxTime
	if !g.Until.IsZero() {
		until = m.simTime(g.Until)
	}
	n := max(m.opt.FirstOrder, 1) - 1
	var next sim.Event
	next.Init("demand", func() {
		now := m.env.Now()
		if now > until {
			return
		}
		n++
		prod := g.Mix[0].Product
		if mix != nil {
			prod = g.Mix[mix.Index(mixS)].Product
		}
		qty := 1
		if g.Quantity != nil {
			qty = max(1, int(math.Round(g.Quantity.Sample(qtyS))))
		}
		due := now + dueS.Duration(g.DueIn)
		p := 0
		if prio != nil {
			p = prio.Index(prioS)
		}
		cust := ""
		if len(g.Customers) > 0 {
			cust = g.Customers[(n-1)%len(g.Customers)]
		}
		m.release(fmt.Sprintf("G%05d", n), cust, prod, qty, due, p)
		m.env.ScheduleIn(&next, ia.Duration(g.Interarrival))
	})
	m.env.ScheduleIn(&next, ia.Duration(g.Interarrival))
}

// startSources starts the saturated lines: each puts a unit of its
// product in the buffer of its routing's first operation, and another
// each time one is taken from there (wcenter.taken).
func (m *Model) startSources() {
	for _, n := range m.p.Nodes {
		if n.Level != plant.LineLevel || n.Saturate == nil {
			continue
		}
		w := m.wcs[n.Saturate.Routing.Ops[0].Alternatives[0].WorkCenter.Index]
		w.sources = append(w.sources, source{line: n.ID, product: n.Saturate})
		k := len(w.sources) - 1
		m.env.At(0, func() { w.feed(k) })
	}
}

// source is a saturated line's supply of its product at the first work
// centre of its routing.
type source struct {
	line    string
	product *plant.Product
	n       int // units released
}

// feed releases the next unit of source k: an order of one, due never.
func (w *wcenter) feed(k int) {
	s := &w.sources[k]
	s.n++
	w.m.release(fmt.Sprintf("S-%s-%d", s.line, s.n), "", s.product, 1, sim.MaxTime/2, 0)
}

// release creates an order and its jobs: one per unit of the product and
// one per made component of its bill of materials.
func (m *Model) release(id, customer string, p *plant.Product, qty int, due sim.Time, priority int) {
	now := m.env.Now()
	o := &order{
		seq: len(m.orders), id: id, customer: customer, product: p, qty: qty,
		release: now, due: due, priority: priority,
		stock: make([]int, len(m.p.Parts)), fam: m.families[p.Family], times: &m.times,
	}
	m.orders = append(m.orders, o)
	m.open++
	m.emit(event.Order, p.ID, "released", id, float64(qty))
	if m.sink != nil {
		m.emit(event.Order, p.ID, "due", id, float64(m.WallTime(due).UnixNano())/1e9)
		m.emit(event.Order, p.ID, "priority", id, float64(priority))
	}
	for u := 0; u < qty; u++ {
		for _, c := range p.BOM {
			if c.Part.Purchased || c.Part.Routing == nil {
				continue
			}
			for k := 0; k < c.Qty; k++ {
				m.launch(o, c.Part, c.Part.Routing)
			}
		}
		if p.Routing != nil {
			m.launch(o, nil, p.Routing)
		}
	}
	if p.Routing == nil {
		// A product without final operations completes with its parts.
		o.kitWait = nil
	}
}

// launch creates a job at the first operation of r. A job's id depends
// only on its order and its place among the order's jobs, never on when
// things happened, so keyed draws line up across scenario variants.
func (m *Model) launch(o *order, part *plant.Part, r *plant.Routing) {
	o.launched++
	j := m.newJob()
	*j = job{id: int64(o.seq)<<24 | o.launched, order: o, part: part, routing: r, family: o.product.Family, fam: o.fam, created: m.env.Now()}
	m.countComing(j, 0)
	m.route(j)
}

// newJob returns a job to fill in: a finished one when there is one
// (freeJob), so that a long run allocates no job per unit made.
func (m *Model) newJob() *job {
	if n := len(m.freeJobs); n > 0 {
		j := m.freeJobs[n-1]
		m.freeJobs = m.freeJobs[:n-1]
		return j
	}
	return new(job)
}

// freeJob takes back a job that has left the plant (completed or
// scrapped): nothing refers to it any more, and newJob hands it out again.
func (m *Model) freeJob(j *job) {
	*j = job{}
	m.freeJobs = append(m.freeJobs, j)
}

// route sends a job that is not held by a machine to its current
// operation: into a buffer, the kitting area, or a buffer's waiting line
// when the buffer is full.
func (m *Model) route(j *job) {
	if m.forward(j) {
		return
	}
	w := m.wcs[j.routing.Ops[j.op].Alternatives[0].WorkCenter.Index]
	if j.rework {
		w = m.wcs[j.routing.Ops[j.op].Inspect.Rework.WorkCenter.Index]
	}
	w.pending.push(j)
}

// forward moves job j to its current operation and reports whether it
// found a place. False means every buffer that could take it is full.
func (m *Model) forward(j *job) bool {
	if j.op >= len(j.routing.Ops) {
		m.complete(j)
		return true
	}
	op := j.routing.Ops[j.op]
	if len(op.Consumes) > 0 && !j.kitted && !j.rework && j.op >= j.reached {
		if !m.kit(j) {
			o := j.order
			if o.kitWait == nil {
				o.kitWait = make([]*job, 0, o.qty) // one per unit at most, usually
			}
			o.kitWait = append(o.kitWait, j)
			m.leaveFloor(j)
			return true
		}
		j.kitted = true
	}
	if j.rework {
		w := m.wcs[op.Inspect.Rework.WorkCenter.Index]
		if !w.room() {
			return false
		}
		w.enqueue(j, op.Inspect.Rework)
		return true
	}
	if r := j.reserved; r != nil { // a place kept for it (blocking before service)
		r.reserved--
		j.reserved = nil
	}
	for i := range op.Alternatives {
		a := &op.Alternatives[i]
		w := m.wcs[a.WorkCenter.Index]
		if w.room() {
			w.enqueue(j, a)
			return true
		}
	}
	return false
}

// loopBack sends job j, which failed the inspection of its current
// operation, back to operation to of its routing: it does that operation
// and every one after it again.
func (m *Model) loopBack(j *job, to int) {
	if j.loopOp != j.op {
		j.loopOp, j.loops = j.op, 0
	}
	j.loops++
	j.passes++
	j.reached = max(j.reached, j.op)
	// on its way again to the operations it has passed
	for k := to; k < j.comingFrom && k < len(j.routing.Ops); k++ {
		for _, a := range j.routing.Ops[k].Alternatives {
			m.wcs[a.WorkCenter.Index].coming++
		}
	}
	j.comingFrom = min(j.comingFrom, to)
	j.op, j.attempt, j.kitted = to, 0, false
}

// kit consumes one set of the components operation j.op needs from the
// job's order, if all are there.
func (m *Model) kit(j *job) bool {
	o := j.order
	for _, c := range j.routing.Ops[j.op].Consumes {
		if !c.Part.Purchased && c.Part.Routing != nil && o.stock[c.Part.Index] < c.Qty {
			return false
		}
	}
	for _, c := range j.routing.Ops[j.op].Consumes {
		if !c.Part.Purchased && c.Part.Routing != nil {
			o.stock[c.Part.Index] -= c.Qty
		}
	}
	return true
}

// complete takes a job that finished its routing.
func (m *Model) complete(j *job) {
	m.leaveFloor(j)
	m.arrived(j, len(j.routing.Ops))
	o := j.order
	if j.part != nil {
		// A component: into the order's stock, then wake waiting assemblies.
		o.stock[j.part.Index]++
		m.freeJob(j)
		for len(o.kitWait) > 0 && m.kit(o.kitWait[0]) {
			k := o.kitWait[0]
			o.kitWait = slices.Delete(o.kitWait, 0, 1) // keeps its room for the next
			k.kitted = true
			m.route(k)
		}
		return
	}
	o.done++
	m.stats.produced++
	m.stats.flow.Add((m.env.Now() - j.created).Hours())
	m.freeJob(j)
	m.emit(event.Order, o.product.ID, "progress", o.id, float64(o.done))
	m.finishOrder(o)
}

// scrap takes a job that failed inspection beyond repair. A scrapped
// component is made again; a scrapped product leaves its order short.
func (m *Model) scrap(j *job) {
	m.leaveFloor(j)
	m.arrived(j, len(j.routing.Ops))
	m.stats.scrapped++
	o, part, r := j.order, j.part, j.routing
	m.freeJob(j)
	if part != nil {
		m.launch(o, part, r)
		return
	}
	o.scrapped++
	m.finishOrder(o)
}

func (m *Model) finishOrder(o *order) {
	if o.finished || o.done+o.scrapped < o.qty {
		return
	}
	now := m.env.Now()
	o.finished, o.completed = true, now
	m.open--
	m.emit(event.Order, o.product.ID, "completed", o.id, float64(o.done))
	// every order completed in the statistics window counts, whenever it
	// was released: the records' definition (plant/kpi.Orders)
	s := &m.stats
	lead := (now - o.release).Hours()
	late := (now - o.due).Hours()
	s.orders.AddHours(lead, late)
	s.tardiness.Add(max(late, 0))
}

// enterFloor and leaveFloor count work in process: jobs in buffers and
// machines (not jobs waiting for components or for room to be released).
func (m *Model) enterFloor(j *job) {
	if j.onFloor {
		return
	}
	j.onFloor = true
	m.nWIP++
	m.wip.Set(m.env.Now(), float64(m.nWIP))
}

func (m *Model) leaveFloor(j *job) {
	if !j.onFloor {
		return
	}
	j.onFloor = false
	m.nWIP--
	m.wip.Set(m.env.Now(), float64(m.nWIP))
}
