package forecast

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/twin/state"
	"twin/twin/window"
)

// Position reconstructs where plant p stood at time at from the twin's
// history h: the open orders (from the state), and every unit of theirs
// the plant has reported (its moves into buffers, operations started and
// finished, passed or failed): in which buffer since when, on which
// machine and for how long it has run there, finished and waiting for
// room, at a rework step; the made parts finished and not yet joined; the
// machines down. Units the plant has not reported yet wait for their
// first operation. A model resumed from it (model.Options.Resume) carries
// on as the plant would; the forecast and a resumed virtual plant do.
//
// It reads the history from the oldest open order's release to at.
func Position(p *plant.Plant, h window.History, at time.Time) (*model.Position, error) {
	st, err := h.StateAt(at.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("position: the state at %s: %w", at.Format(time.RFC3339), err)
	}
	r := newReplay(p)
	from := int64(math.MaxInt64)
	for _, o := range st.Orders() {
		if closed(o.Status) {
			continue
		}
		pr := r.products[o.Product]
		if pr == nil {
			continue
		}
		oo := &model.OpenOrder{ID: o.ID, Product: pr, Quantity: int(math.Round(o.Quantity)), Done: int(math.Round(o.Done)),
			Priority: o.Priority, Release: time.Unix(0, o.Released).In(p.Location), Stock: map[string]int{}}
		if o.Due != 0 {
			oo.Due = time.Unix(0, o.Due).In(p.Location)
		}
		r.orders[o.ID] = oo
		r.list = append(r.list, oo)
		from = min(from, o.Released)
	}
	for _, a := range st.Assets() {
		if u := r.units[a.Path]; u != nil && a.State == event.Down {
			r.down = append(r.down, a.Path)
		}
	}
	if from < math.MaxInt64 {
		// an order's release is stamped where it was entered (the records),
		// a little after the plant may have started its units: read a day
		// before the oldest
		from -= int64(24 * time.Hour)
		// the machines' states then, for their running time
		s0, err := h.StateAt(from - 1)
		if err != nil {
			return nil, fmt.Errorf("position: the state at the oldest open order's release: %w", err)
		}
		for path, u := range r.units {
			if a := s0.Asset(path); a != nil {
				u.state, u.last = a.State, from
			}
		}
		err = h.Range(from, at.UnixNano(), func(e event.Event) error {
			r.apply(e)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("position: reading the history: %w", err)
		}
	}
	pos := r.position(at.UnixNano())
	if pos.Clocks, err = clocks(p, h, at, st); err != nil {
		return nil, err
	}
	return pos, nil
}

// clockLookback is how far back the machines' last maintenance and
// repairs are looked for.
const clockLookback = 60 * 24 * time.Hour

// clocks reads each machine's wear clocks from its history: how much
// running (or wall) time has passed since each planned maintenance was
// last done and each failure mode last repaired; a plan whose alarm is
// raised is due. A plan or mode not seen in the lookback is left out (the
// model starts it afresh).
func clocks(p *plant.Plant, h window.History, at time.Time, st *state.State) ([]model.Clocks, error) {
	var out []model.Clocks
	end := at.UnixNano()
	for _, u := range p.Units {
		c := model.Clocks{Unit: u.Path()}
		if a := st.Asset(u.Path()); a != nil {
			c.Good, c.Reject, c.EnergyKWh, c.Meters = a.Counters["good"], a.Counters["reject"], a.Measures["energy_kwh"], true
		}
		type mark struct {
			cleared int64 // last clear (maintenance done, repair done)
			run     int64 // running time of the machine at that clear
			raised  bool  // raised and not cleared
		}
		marks := map[string]*mark{}
		var running int64
		var state event.MachineState
		var last int64
		runAt := func(t int64) int64 {
			if state == event.Running && t > last {
				return running + t - last
			}
			return running
		}
		err := h.AssetRange(u.Path(), end-int64(clockLookback), end, func(e event.Event) error {
			switch e.Kind {
			case event.State:
				running = runAt(e.Time)
				state, last = event.MachineState(e.Value), e.Time
			case event.Alarm:
				k := marks[e.Name]
				if k == nil {
					k = &mark{}
					marks[e.Name] = k
				}
				if e.Value == 0 {
					k.cleared, k.run, k.raised = e.Time, runAt(e.Time), false
				} else {
					k.raised = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("position: the wear clocks of %s: %w", u.ID(), err)
		}
		since := func(k *mark, basis plant.Basis) time.Duration {
			if basis == plant.CalendarTime {
				return time.Duration(end - k.cleared)
			}
			return time.Duration(runAt(end) - k.run)
		}
		for _, mp := range u.Maintenance {
			k := marks["maintenance/"+mp.Name]
			switch {
			case k == nil:
			case k.raised:
				c.Maintenance = append(c.Maintenance, model.Clock{Name: mp.Name, Due: true})
			case k.cleared != 0:
				c.Maintenance = append(c.Maintenance, model.Clock{Name: mp.Name, Since: max(since(k, mp.Basis), time.Nanosecond)})
			}
		}
		for _, f := range u.Failures {
			if k := marks["failure/"+f.Name]; k != nil && k.cleared != 0 && !k.raised {
				c.Failures = append(c.Failures, model.Clock{Name: f.Name, Since: max(since(k, f.Basis), time.Nanosecond)})
			}
		}
		if len(c.Maintenance)+len(c.Failures) > 0 || c.Meters {
			out = append(out, c)
		}
	}
	return out, nil
}

func closed(status string) bool {
	return status == "completed" || status == "cancelled" || status == "shipped" || status == "closed"
}

// replay follows the units of the open orders through the events.
type replay struct {
	p        *plant.Plant
	products map[string]*plant.Product
	parts    map[string]*plant.Part
	units    map[string]*unitTrack // by equipment path
	wcByPath map[string]*plant.WorkCenter
	bufs     map[string]*plant.WorkCenter // buffer path → work centre
	orders   map[string]*model.OpenOrder
	list     []*model.OpenOrder
	jobs     map[string]*jobTrack
	order    []string // job refs in the order first seen
	down     []string
}

type unitTrack struct {
	u       *plant.Unit
	state   event.MachineState
	last    int64
	running int64 // running time so far (ns), up to last
}

// runAt is the unit's running time up to t.
func (u *unitTrack) runAt(t int64) int64 {
	if u.state == event.Running && t > u.last {
		return u.running + t - u.last
	}
	return u.running
}

type jobTrack struct {
	ref      string
	order    *model.OpenOrder
	part     *plant.Part // nil: the product
	routing  *plant.Routing
	op       int
	rework   bool
	attempt  int
	kitted   bool
	failed   bool   // failed its inspection, not yet sent to rework
	queued   string // work centre id of the buffer it waits in
	arrived  int64
	unit     string // the machine holding it
	finished bool   // the machine has finished it
	started  int64  // the machine's running time when it started it (OpStarted)
	taken    string // work centre it was taken into, not started yet (a setup)
	scrapped bool
}

func newReplay(p *plant.Plant) *replay {
	r := &replay{p: p, products: map[string]*plant.Product{}, parts: map[string]*plant.Part{}, units: map[string]*unitTrack{},
		wcByPath: map[string]*plant.WorkCenter{}, bufs: map[string]*plant.WorkCenter{}, orders: map[string]*model.OpenOrder{},
		jobs: map[string]*jobTrack{}}
	for _, pr := range p.Products {
		r.products[pr.ID] = pr
	}
	for _, pt := range p.Parts {
		r.parts[pt.ID] = pt
	}
	for _, u := range p.Units {
		r.units[u.Path()] = &unitTrack{u: u}
	}
	for _, w := range p.WorkCenters {
		r.wcByPath[w.Path()] = w
		r.bufs[w.Path()+"/buffer"] = w
	}
	return r
}

// job returns the track of job ref, made on first sight; nil when it is
// not a unit of an open order.
func (r *replay) job(ref string) *jobTrack {
	if j := r.jobs[ref]; j != nil {
		return j
	}
	parts := strings.Split(ref, "/")
	if len(parts) != 3 {
		return nil
	}
	o := r.orders[parts[0]]
	if o == nil {
		return nil
	}
	j := &jobTrack{ref: ref, order: o, routing: o.Product.Routing}
	if parts[1] != "P" {
		if j.part = r.parts[parts[1]]; j.part == nil {
			return nil
		}
		j.routing = j.part.Routing
	}
	if j.routing == nil {
		return nil
	}
	r.jobs[ref] = j
	r.order = append(r.order, ref)
	return j
}

func (r *replay) apply(e event.Event) {
	if u := r.units[e.Asset]; u != nil && e.Kind == event.State {
		if u.state == event.Running && e.Time > u.last {
			u.running += e.Time - u.last
		}
		u.state, u.last = event.MachineState(e.Value), e.Time
		return
	}
	switch e.Kind {
	case event.Moved, event.OpStarted, event.OpFinished:
	default:
		return
	}
	j := r.job(e.Ref)
	if j == nil || j.op >= len(j.routing.Ops) || j.scrapped {
		return
	}
	switch e.Kind {
	case event.Moved:
		if w := r.bufs[e.Asset]; w != nil { // into a buffer
			if j.failed {
				j.failed, j.rework = false, true
			} else {
				j.op = opAt(j.routing, j.op, w)
				if !j.rework && len(j.routing.Ops[j.op].Consumes) > 0 && j.part == nil {
					j.kitted = true
				}
			}
			j.queued, j.arrived, j.unit, j.finished, j.taken = w.ID(), e.Time, "", false, ""
			return
		}
		if u := r.units[e.Asset]; u != nil { // held by the machine that finished it
			j.op = min(opAt(j.routing, j.op, u.u.WorkCenter)+1, len(j.routing.Ops))
			j.queued, j.unit, j.finished, j.taken, j.failed = "", e.Asset, true, "", false
			return
		}
		if w := r.wcByPath[e.Asset]; w != nil {
			j.queued, j.unit, j.finished, j.taken = "", "", false, ""
			if r.bufs[e.Name] != nil { // taken from its buffer
				j.taken = w.ID()
			} else { // waiting to get into w (no room, or its parts)
				j.op = opAt(j.routing, j.op, w)
			}
		}
	case event.OpStarted:
		u := r.units[e.Asset]
		k := opIndex(j.routing, e.Name, j.op)
		if u == nil || k < 0 {
			return
		}
		j.op = k
		if in := j.routing.Ops[k].Inspect; in != nil && in.Rework != nil && u.u.WorkCenter == in.Rework.WorkCenter {
			j.rework = true // reworked there
		} else if j.part == nil && len(j.routing.Ops[k].Consumes) > 0 {
			j.kitted = true // it has its parts, or it would not have started
		}
		j.queued, j.taken, j.unit, j.finished = "", "", e.Asset, false
		j.started = u.runAt(e.Time)
	case event.OpFinished:
		u := r.units[e.Asset]
		k := opIndex(j.routing, e.Name, j.op)
		if u == nil || k < 0 {
			return
		}
		op := j.routing.Ops[k]
		j.queued, j.taken, j.unit, j.finished = "", "", e.Asset, true
		switch {
		case op.Inspect != nil && op.Inspect.Rework != nil && u.u.WorkCenter == op.Inspect.Rework.WorkCenter:
			j.op, j.rework = k, false // repaired: back to its inspection
		case op.Inspect != nil && e.Value == 0:
			j.op, j.failed = k, true
			j.attempt++
		default:
			j.op, j.attempt, j.kitted, j.rework = k+1, 0, false, false
		}
	}
}

// opIndex is the index of operation id in r, from index from on (a
// routing names an operation once; from keeps the search forward), or −1.
func opIndex(r *plant.Routing, id string, from int) int {
	for k := max(from, 0); k < len(r.Ops); k++ {
		if r.Ops[k].ID == id {
			return k
		}
	}
	for k := 0; k < min(from, len(r.Ops)); k++ {
		if r.Ops[k].ID == id {
			return k
		}
	}
	return -1
}

// opAt is the first operation of r from index from on that work centre w
// can do (a unit first seen part-way along its routing), else from.
func opAt(r *plant.Routing, from int, w *plant.WorkCenter) int {
	for k := max(from, 0); k < len(r.Ops); k++ {
		for _, a := range r.Ops[k].Alternatives {
			if a.WorkCenter == w {
				return k
			}
		}
	}
	return min(from, len(r.Ops)-1)
}

// position is the replay's result at time at.
func (r *replay) position(at int64) *model.Position {
	pos := &model.Position{Down: r.down}
	sort.Strings(pos.Down)
	finished := map[*model.OpenOrder]map[*plant.Part]int{}
	joinedBy := map[*model.OpenOrder]map[*plant.Part]int{}
	count := func(m map[*model.OpenOrder]map[*plant.Part]int, o *model.OpenOrder, pt *plant.Part, n int) {
		if m[o] == nil {
			m[o] = map[*plant.Part]int{}
		}
		m[o][pt] += n
	}
	setups := map[string]bool{} // machines given a unit in setup
	done := map[*model.OpenOrder]int{}
	for _, ref := range r.order {
		j := r.jobs[ref]
		o := j.order
		if j.op >= len(j.routing.Ops) {
			if j.part != nil {
				count(finished, o, j.part, 1)
			} else {
				r.joins(joinedBy, count, j)
				done[o]++
			}
			continue
		}
		if j.failed && j.finished { // failed, not sent to rework: scrapped
			if j.part == nil {
				o.Scrapped++
				r.joins(joinedBy, count, j)
			}
			continue
		}
		pj := model.Job{Ref: ref, Part: j.part, Op: j.op, Rework: j.rework, Attempt: j.attempt, Kitted: j.kitted}
		switch {
		case j.queued != "":
			pj.Queued, pj.At, pj.Arrived = true, j.queued, time.Unix(0, j.arrived).In(r.p.Location)
		case j.taken != "":
			for _, u := range r.p.Units {
				// in its setup, or in one paused by the end of a shift or a
				// failure (the run, and OpStarted, come after it)
				st := r.units[u.Path()].state
				if u.WorkCenter.ID() == j.taken && (st == event.Setup || st == event.Off || st == event.Down) && !setups[u.Path()] {
					pj.Unit = u.Path()
					setups[u.Path()] = true
					break
				}
			}
		case j.unit != "" && !j.finished:
			pj.Unit = j.unit
			pj.Run = time.Duration(r.units[j.unit].runAt(at) - j.started)
		case j.unit != "" && r.units[j.unit].state == event.Blocked:
			pj.Unit, pj.Finished = j.unit, true
			// a unit held for want of room was given its parts first
			if j.part == nil && len(j.routing.Ops[j.op].Consumes) > 0 {
				pj.Kitted = true
			}
		}
		if j.part == nil {
			r.joins(joinedBy, count, &jobTrack{routing: j.routing, op: pj.Op, kitted: pj.Kitted, order: o})
		}
		o.Jobs = append(o.Jobs, pj)
	}
	for _, o := range r.list {
		// the plant's units done count, whatever the records have confirmed
		o.Done = max(o.Done, done[o])
		for _, c := range o.Product.BOM {
			if !c.Part.Purchased && c.Part.Routing != nil {
				if n := finished[o][c.Part] - joinedBy[o][c.Part]; n > 0 {
					o.Stock[c.Part.ID] = n
				}
			}
		}
		sort.SliceStable(o.Jobs, func(a, b int) bool { return o.Jobs[a].Ref < o.Jobs[b].Ref })
		pos.Orders = append(pos.Orders, *o)
	}
	return pos
}

// joins counts the made parts product job j has taken (those joined at
// its operations before its current one, and at it when kitted).
func (r *replay) joins(joinedBy map[*model.OpenOrder]map[*plant.Part]int, count func(map[*model.OpenOrder]map[*plant.Part]int, *model.OpenOrder, *plant.Part, int), j *jobTrack) {
	for i, op := range j.routing.Ops {
		if i > j.op || i == j.op && !j.kitted {
			break
		}
		for _, c := range op.Consumes {
			if !c.Part.Purchased && c.Part.Routing != nil {
				count(joinedBy, j.order, c.Part, c.Qty)
			}
		}
	}
}
