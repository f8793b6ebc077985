package model

import (
	"slices"

	"twin/plant"
	"twin/plant/event"
	"twin/sim"
)

// wcenter is a work centre in the run: its input buffer and its machines.
type wcenter struct {
	m        *Model
	p        *plant.WorkCenter
	path     string
	bufPath  string
	units    []*unit
	queue    []*job // the input buffer, in arrival order
	batchBuf []int  // pickBatch's result, reused
	rule     plant.Rule
	pending  []*job  // released jobs waiting for room, not held by a machine
	blocked  []*unit // machines holding a finished job for this buffer
	// coming counts the jobs on their way here (launched, not arrived
	// yet): a batch below its minimum goes after its wait when none are.
	coming int

	queueLen sim.TimeWeighted
}

func newWorkCenter(m *Model, w *plant.WorkCenter) *wcenter {
	c := &wcenter{m: m, p: w, path: w.Path(), bufPath: w.Path() + "/buffer", rule: w.Dispatch}
	if m.opt.Dispatch != nil {
		c.rule = *m.opt.Dispatch
	}
	c.queueLen.Reset(0, 0)
	return c
}

// room reports whether the buffer can take another job.
func (w *wcenter) room() bool { return w.p.Buffer <= 0 || len(w.queue) < w.p.Buffer }

// enqueue puts j into the buffer, to be done with alternative a, and wakes
// an idle machine.
func (w *wcenter) enqueue(j *job, a *plant.Alternative) {
	now := w.m.env.Now()
	if !j.rework {
		j.alt = a
		w.m.arrived(j, j.op)
	}
	j.arrived = now
	w.queue = append(w.queue, j)
	w.queueLen.Set(now, float64(len(w.queue)))
	w.m.enterFloor(j)
	if w.m.sink != nil {
		w.m.emit(event.Moved, w.bufPath, "", j.String(), float64(len(w.queue)))
	}
	for _, u := range w.units {
		if u.waitingForWork() {
			u.poke()
		}
	}
}

// take removes the job at index i from the buffer. The caller calls freed
// once it has the job in hand, so that nothing it sets off sees a machine
// half-way through taking work.
func (w *wcenter) take(i int) *job {
	j := w.queue[i]
	w.queue = slices.Delete(w.queue, i, i+1)
	w.queueLen.Set(w.m.env.Now(), float64(len(w.queue)))
	if w.m.sink != nil {
		w.m.emit(event.Moved, w.path, w.bufPath, j.String(), 0)
	}
	return j
}

// freed is called when the buffer has room again: released jobs waiting
// for it come first, then machines blocked on it.
func (w *wcenter) freed() {
	for len(w.pending) > 0 && w.room() {
		j := w.pending[0]
		w.pending = slices.Delete(w.pending, 0, 1)
		if !w.m.forward(j) {
			w.pending = slices.Insert(w.pending, 0, j)
			break
		}
	}
	// Every blocked machine looks again; those that still find no room
	// register again.
	for _, u := range w.blocked {
		u.poke()
	}
	clear(w.blocked)
	w.blocked = w.blocked[:0]
}

// pick chooses the next job for machine u by the dispatch rule and returns
// its index in the buffer, or -1.
func (w *wcenter) pick(u *unit) int {
	if len(w.queue) == 0 {
		return -1
	}
	best := 0
	now := w.m.env.Now()
	for i := 1; i < len(w.queue); i++ {
		if w.better(u, w.queue[i], w.queue[best], now) {
			best = i
		}
	}
	return best
}

// better reports whether a should go before b on machine u. Ties keep
// arrival order (FIFO).
func (w *wcenter) better(u *unit, a, b *job, now sim.Time) bool {
	switch w.rule {
	case plant.EDD:
		return a.order.due < b.order.due
	case plant.SPT:
		return w.mean(a) < w.mean(b)
	case plant.Priority:
		if a.order.priority != b.order.priority {
			return a.order.priority > b.order.priority
		}
		return a.order.due < b.order.due
	case plant.CR:
		return w.m.criticalRatio(a, now) < w.m.criticalRatio(b, now)
	case plant.Setup:
		sa, sb := a.family == u.lastFamily, b.family == u.lastFamily
		if sa != sb {
			return sa
		}
		return a.order.due < b.order.due
	}
	return false
}

// mean is the mean time of j's step here, in seconds.
func (w *wcenter) mean(j *job) float64 {
	_, d := j.step()
	if d == nil {
		return 0
	}
	return d.Mean()
}

// criticalRatio is the time left to the due date over the work left.
func (m *Model) criticalRatio(j *job, now sim.Time) float64 {
	work := m.remainingWork(j.routing, j.op, j.order.product)
	if j.part != nil && j.order.product.Routing != nil {
		work += m.remainingWork(j.order.product.Routing, 0, j.order.product)
	}
	slack := (j.order.due - now).Seconds()
	if work <= 0 {
		work = 1
	}
	return slack / work
}

// pickBatch chooses the jobs of the next batch for machine u, or nil if a
// batch should not start yet. wake is when to look again (0: on the next
// arrival).
func (w *wcenter) pickBatch(u *unit) (batch []int, wake sim.Time) {
	b := w.p.Batch
	now := w.m.env.Now()
	if len(w.queue) == 0 {
		return nil, 0
	}
	// The family of the batch: that of the job first by the dispatch rule.
	first := w.pick(u)
	fam := w.queue[first].family
	oldest := sim.MaxTime
	batch = w.batchBuf[:0] // reused: the caller is done with it before the next call
	for i, j := range w.queue {
		if b.SameFamily && j.family != fam {
			continue
		}
		if len(batch) < b.Max {
			batch = append(batch, i)
		}
		if j.arrived < oldest {
			oldest = j.arrived
		}
	}
	w.batchBuf = batch[:0]
	min := max(b.Min, 1)
	switch {
	case len(batch) >= b.Max:
		return batch, 0
	case len(batch) >= min && now-oldest >= b.MaxWait:
		return batch, 0
	case len(batch) >= min:
		return nil, oldest + b.MaxWait
	case w.coming == 0 && now-oldest >= b.MaxWait:
		return batch, 0 // nothing more is on its way: the plant runs what it has
	case w.coming == 0:
		return nil, oldest + b.MaxWait
	}
	return nil, 0
}
