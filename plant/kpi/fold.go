package kpi

import (
	"strings"
	"time"

	"twin/plant"
	"twin/plant/event"
)

// Initial is a machine's state when a window opens: what the twin knew
// of it just before the window's first instant.
type Initial struct {
	State     event.MachineState
	Good      float64
	Reject    float64
	EnergyKWh float64
	HasGood   bool
	HasReject bool
	HasEnergy bool
	PowerKW   float64
	HasPower  bool
	// Run is its running time since its last count (a cycle under way);
	// RunKnown is false when that began before the twin watched it (Run
	// is then the part the twin saw).
	Run      time.Duration
	RunKnown bool
	// Job and Op are the part in process and its operation.
	Job, Op string
}

// Fold computes the times and quantities of every machine of a plant
// over a window [From, To) from the twin's events: each machine's state
// at the window's start (Start), then the window's events in time order
// (Add), then the end of what was observed (Finish). The shift calendars
// are read in the plant's zone. A Fold is for one goroutine.
type Fold struct {
	p        *plant.Plant
	from, to int64
	ms       map[string]*folded // by unit path
	list     []*folded          // in the plant's unit order
	cals     []*calTrack
	// Product resolves the product of an order the window's events do
	// not name (an order released before it); nil: unknown orders count
	// the work centre's mean time.
	Product func(order string) *plant.Product
	orders  map[string]*plant.Product
	pru     map[pruKey]time.Duration
	final   map[*plant.WorkCenter]bool
	done    bool // finished: events after the window only settle open runs

	// from the events alone, for views without the records: units'
	// first inspections and the orders completed
	inspect   map[*plant.WorkCenter]map[string]bool // work centre → inspecting operations there
	tested    map[string]bool                       // job/op inspected once already
	first     Inspections
	released  map[string][2]int64 // order → release, due (Unix ns)
	completed Orders
}

type folded struct {
	Machine
	u         *plant.Unit
	job, op   string
	inProcess int           // jobs started since the last count
	mean      time.Duration // the work centre's mean time per unit
	ahead     *ahead        // after the window: the open run's end, being looked for
}

// ahead follows a machine past the window's end until the run that was
// under way at the end finishes.
type ahead struct {
	last      int64
	running   bool
	run       int64 // running time after the window
	good, rej counter
	countAt   int64         // the time of the counts that end the run (0: none yet)
	planned   time.Duration // their planned time (counts at one instant share a run)
}

type calTrack struct {
	cal  *plant.Calendar
	on   bool
	next int64 // the next change; 0: none
	ms   []*folded
}

type pruKey struct {
	product *plant.Product
	item    string
	op      string
	wc      *plant.WorkCenter
}

// NewFold starts a fold of plant p over [from, to).
func NewFold(p *plant.Plant, from, to time.Time) *Fold {
	f := &Fold{p: p, from: from.UnixNano(), to: to.UnixNano(), ms: map[string]*folded{}, orders: map[string]*plant.Product{},
		pru: map[pruKey]time.Duration{}, final: FinalWorkCenters(p), inspect: map[*plant.WorkCenter]map[string]bool{},
		tested: map[string]bool{}, released: map[string][2]int64{}}
	for _, r := range p.Routings {
		for _, op := range r.Ops {
			if op.Inspect == nil {
				continue
			}
			for _, a := range op.Alternatives {
				if f.inspect[a.WorkCenter] == nil {
					f.inspect[a.WorkCenter] = map[string]bool{}
				}
				f.inspect[a.WorkCenter][op.ID] = true
			}
		}
	}
	byCal := map[*plant.Calendar]*calTrack{}
	for _, u := range p.Units {
		m := &folded{u: u, mean: MeanTime(p, u.WorkCenter)}
		m.Open(f.from, event.Unknown, false, 0, false)
		f.ms[u.Path()] = m
		f.list = append(f.list, m)
		c := u.WorkCenter.Calendar
		if c == nil {
			c = p.Calendar
		}
		t := byCal[c]
		if t == nil {
			t = &calTrack{cal: c}
			byCal[c] = t
			f.cals = append(f.cals, t)
		}
		t.ms = append(t.ms, m)
	}
	for _, t := range f.cals {
		t.on, t.next = calState(t.cal, from, p.Location)
		for _, m := range t.ms {
			m.Calendar(f.from, t.on)
		}
	}
	return f
}

// calState is whether c works at t and when that next changes (0: never).
func calState(c *plant.Calendar, t time.Time, loc *time.Location) (bool, int64) {
	if c == nil {
		return true, 0
	}
	on, _, next := c.State(t.In(loc))
	if next.IsZero() {
		return on, 0
	}
	return on, next.UnixNano()
}

// Start sets the state of the machine at path when the window opens.
// Machines without a start are unobserved until their first event.
func (f *Fold) Start(path string, in Initial) {
	m := f.ms[path]
	if m == nil {
		return
	}
	on := m.on
	m.Open(f.from, in.State, on, in.Run, in.RunKnown)
	if in.HasPower {
		m.Power(f.from, in.PowerKW)
	}
	if in.HasGood {
		m.good.observe(in.Good)
	}
	if in.HasReject {
		m.rej.observe(in.Reject)
	}
	if in.HasEnergy {
		m.metered = true
		m.meter.observe(in.EnergyKWh)
	}
	m.job, m.op = in.Job, in.Op
	if in.Job != "" {
		m.inProcess = 1
	}
}

// Order tells the fold of an order released before the window: its
// product, release and due date (Unix ns; 0 unknown).
func (f *Fold) Order(id, product string, released, due int64) {
	if pr := f.product(product); pr != nil {
		f.orders[id] = pr
	}
	r := f.released[id]
	if released != 0 {
		r[0] = released
	}
	if due != 0 {
		r[1] = due
	}
	f.released[id] = r
}

// calendars applies the calendar changes up to t.
func (f *Fold) calendars(t int64) {
	for _, c := range f.cals {
		for c.next != 0 && c.next <= t {
			at := c.next
			c.on, c.next = calState(c.cal, time.Unix(0, at), f.p.Location)
			if c.next != 0 && c.next <= at { // a calendar that does not move on
				c.next = 0
			}
			for _, m := range c.ms {
				m.Calendar(at, c.on)
			}
		}
	}
}

// Add folds one event of the window. Events must come in time order.
// Before Finish, events outside [from, to) are ignored (but orders
// released earlier still name their products); after Finish, the events
// of the machines Ahead names settle the runs that were under way at the
// window's end.
func (f *Fold) Add(e event.Event) {
	if e.Kind == event.Order {
		switch e.Name {
		case "released":
			f.Order(e.Ref, e.Asset, e.Time, 0)
		case "due":
			f.Order(e.Ref, e.Asset, 0, int64(e.Value*1e9))
		case "completed":
			if !f.done && e.Time >= f.from && e.Time < f.to {
				r := f.released[e.Ref]
				var due time.Time
				if r[1] != 0 {
					due = time.Unix(0, r[1])
				}
				f.completed.Add(time.Unix(0, r[0]), due, time.Unix(0, e.Time))
			}
		}
		return
	}
	m := f.ms[e.Asset]
	if m == nil {
		return
	}
	if f.done {
		if m.ahead != nil && e.Time >= f.to {
			f.look(m, e)
		}
		return
	}
	if e.Time < f.from || e.Time >= f.to {
		return
	}
	f.calendars(e.Time)
	switch e.Kind {
	case event.State:
		m.State(e.Time, event.MachineState(e.Value))
	case event.Counter:
		var g, r float64
		switch e.Name {
		case "good":
			g = m.good.observe(e.Value)
		case "reject":
			r = m.rej.observe(e.Value)
		default:
			return
		}
		if g > 0 || r > 0 {
			m.Count(e.Time, g, r, f.unitTime(m))
			m.inProcess = 0
		}
	case event.Measure:
		switch e.Name {
		case "energy_kwh":
			m.Meter(e.Time, e.Value)
		case "power_kw":
			m.Power(e.Time, e.Value)
		}
	case event.OpStarted:
		if e.Ref != m.job || m.inProcess == 0 {
			m.inProcess++
		}
		m.job, m.op = e.Ref, e.Name
	case event.OpFinished:
		m.job, m.op = e.Ref, e.Name
		if f.inspect[m.u.WorkCenter][e.Name] {
			k := e.Ref + "\x00" + e.Name
			if !f.tested[k] {
				f.tested[k] = true
				f.first.Add(e.Value != 0)
			}
		}
	case event.Alarm:
		// a source that went away (a Sparkplug node's death): its
		// machines are unobserved until their next state
		if e.Value != 0 && strings.HasSuffix(e.Name, "/offline") {
			m.Unobserved(e.Time)
		}
	}
}

// look follows machine m after the window until its open run ends: at
// its first count, and every count at that instant (a batch).
func (f *Fold) look(m *folded, e event.Event) {
	a := m.ahead
	if a.countAt != 0 && e.Time > a.countAt {
		f.settle(m)
		return
	}
	if a.running && e.Time > a.last {
		a.run += e.Time - a.last
	}
	a.last = e.Time
	switch e.Kind {
	case event.State:
		a.running = event.MachineState(e.Value) == event.Running
	case event.OpStarted, event.OpFinished:
		m.job, m.op = e.Ref, e.Name
	case event.Counter:
		var n float64
		switch e.Name {
		case "good":
			n = a.good.observe(e.Value)
		case "reject":
			n = a.rej.observe(e.Value)
		}
		if n > 0 {
			a.countAt = e.Time
			a.planned += time.Duration(float64(f.unitTime(m)) * n)
		}
	}
}

func (f *Fold) product(id string) *plant.Product {
	for _, pr := range f.p.Products {
		if pr.ID == id {
			return pr
		}
	}
	return nil
}

// unitTime is the planned time per unit of what machine m is making: the
// operation of its last job for that job's product, or the work centre's
// mean when that is not known.
func (f *Fold) unitTime(m *folded) time.Duration {
	if m.job == "" || m.op == "" {
		return m.mean
	}
	order, rest, _ := strings.Cut(m.job, "/")
	item, _, _ := strings.Cut(rest, "/")
	pr, ok := f.orders[order]
	if !ok && f.Product != nil {
		pr = f.Product(order)
		f.orders[order] = pr
	}
	if pr == nil {
		return m.mean
	}
	k := pruKey{pr, item, m.op, m.u.WorkCenter}
	if d, ok := f.pru[k]; ok {
		return d
	}
	r := pr.Routing
	if item != "P" && item != "" && item != pr.ID {
		r = nil
		for _, pt := range f.p.Parts {
			if pt.ID == item {
				r = pt.Routing
			}
		}
	}
	d, ok := OperationTime(r, m.op, pr, m.u.WorkCenter)
	if !ok {
		d = m.mean
	}
	f.pru[k] = d
	return d
}

// settle credits m's open run once its end is known.
func (f *Fold) settle(m *folded) {
	m.Pending(time.Duration(m.ahead.run), m.ahead.planned)
	m.ahead = nil
}

// Finish closes the window at end: the window's end, or the end of what
// was observed when that is earlier (the future has no states yet).
func (f *Fold) Finish(end time.Time) {
	if f.done {
		return
	}
	f.done = true
	t := min(end.UnixNano(), f.to)
	f.calendars(t)
	for _, m := range f.list {
		m.Close(t)
		if in, _ := m.OpenRun(); in > 0 {
			m.ahead = &ahead{last: f.to, running: m.state == event.Running, good: m.good, rej: m.rej}
		}
	}
}

// Ahead returns the machines whose run was under way at the window's end:
// feed their events after the window (Add) to settle what share of that
// run's planned time the window gets, then call Settle.
func (f *Fold) Ahead() []string {
	var out []string
	for _, m := range f.list {
		if m.ahead != nil {
			out = append(out, m.u.Path())
		}
	}
	return out
}

// Settle estimates the share of the runs still under way (the window is
// the present, or their end lies beyond what was read): each is taken to
// need its planned time, or as long as it has run if that is longer, so
// the estimate never credits more than the running time.
func (f *Fold) Settle() {
	for _, m := range f.list {
		if m.ahead == nil {
			continue
		}
		if m.ahead.countAt != 0 {
			f.settle(m)
			continue
		}
		n := max(m.inProcess, 1)
		planned := time.Duration(float64(f.unitTime(m)) * float64(n))
		_, total := m.OpenRun()
		seen := time.Duration(m.ahead.run)
		m.Pending(max(planned-total-seen, 0)+seen, planned)
		m.ahead = nil
	}
}

// Stops sets the stops people reported at the unit at path (see
// Machine.Stops); call it before the window's events.
func (f *Fold) Stops(path string, stops []Stop) {
	if m := f.ms[path]; m != nil {
		m.Stops(stops)
	}
}

// Machine returns the accumulator of the unit at path (nil if the plant
// has none).
func (f *Fold) Machine(path string) *Machine {
	if m := f.ms[path]; m != nil {
		return &m.Machine
	}
	return nil
}

// Before tells the fold of an event before the window: an inspection
// then makes a later one of the same unit a re-inspection, not a first.
func (f *Fold) Before(e event.Event) {
	if e.Kind != event.OpFinished || e.Time >= f.from {
		return
	}
	if m := f.ms[e.Asset]; m != nil && f.inspect[m.u.WorkCenter][e.Name] {
		f.tested[e.Ref+"\x00"+e.Name] = true
	}
}

// Inspecting returns the machines whose operations inspect: their events
// before the window tell re-inspections from first ones (Before).
func (f *Fold) Inspecting() []string {
	var out []string
	for _, m := range f.list {
		if len(f.inspect[m.u.WorkCenter]) > 0 {
			out = append(out, m.u.Path())
		}
	}
	return out
}

// FirstPass returns the first inspections of units in the window, from
// the events (the plant's OpFinished at an inspecting operation): for
// views without the records, which have the inspectors' results.
func (f *Fold) FirstPass() Inspections { return f.first }

// OrdersDone returns the orders completed in the window, from the events.
func (f *Fold) OrdersDone() Orders { return f.completed }

// Completed returns the units completed on machine path in the window:
// its good count when it does a product's last operation, else 0.
func (f *Fold) Completed(path string) float64 {
	m := f.ms[path]
	if m == nil || !f.final[m.u.WorkCenter] {
		return 0
	}
	return m.q.GQ
}
