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
	queue    *queue // the input buffer
	batchBuf []*job // pickBatch's result, reused
	rule     plant.Rule
	pending  []*job  // released jobs waiting for room, not held by a machine
	blocked  []*unit // machines holding a finished job for this buffer
	// coming counts the jobs on their way here (launched, not arrived
	// yet): a batch below its minimum goes after its wait when none are.
	coming int
	// unordered: a position set arrival times that may not follow the
	// order of arrival in the buffer (pickBatch then finds the oldest)
	unordered bool

	queueLen sim.TimeWeighted
}

func newWorkCenter(m *Model, w *plant.WorkCenter) *wcenter {
	c := &wcenter{m: m, p: w, path: w.Path(), bufPath: w.Path() + "/buffer", rule: w.Dispatch}
	if m.opt.Dispatch != nil {
		c.rule = *m.opt.Dispatch
	}
	c.queue = newQueue(c.rule, m.families, w.Batch != nil && w.Batch.SameFamily)
	c.queueLen.Reset(0, 0)
	return c
}

// room reports whether the buffer can take another job.
func (w *wcenter) room() bool { return w.p.Buffer <= 0 || w.queue.n < w.p.Buffer }

// enqueue puts j into the buffer, to be done with alternative a, and wakes
// an idle machine.
func (w *wcenter) enqueue(j *job, a *plant.Alternative) {
	now := w.m.env.Now()
	if !j.rework {
		j.alt = a
		w.m.arrived(j, j.op)
	}
	j.arrived = now
	key := 0.0
	switch w.rule {
	case plant.SPT:
		key = w.mean(j)
	case plant.CR:
		key = w.m.workLeft(j)
	}
	w.queue.push(j, key)
	w.queueLen.Set(now, float64(w.queue.n))
	w.m.enterFloor(j)
	if w.m.sink != nil {
		w.m.emit(event.Moved, w.bufPath, "", j.String(), float64(w.queue.n))
	}
	for _, u := range w.units {
		if u.waitingForWork() {
			u.poke()
		}
	}
}

// take removes job j from the buffer. The caller calls freed once it has
// the job in hand, so that nothing it sets off sees a machine half-way
// through taking work.
func (w *wcenter) take(j *job) {
	w.queue.remove(j)
	w.queueLen.Set(w.m.env.Now(), float64(w.queue.n))
	if w.m.sink != nil {
		w.m.emit(event.Moved, w.path, w.bufPath, j.String(), 0)
	}
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

// pick chooses the next job for machine u by the dispatch rule, or nil
// (see queue for the rules and their cost).
func (w *wcenter) pick(u *unit) *job {
	return w.queue.pick(w.m, u.lastFamily, w.m.env.Now())
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
	return (j.order.due - now).Seconds() / m.workLeft(j)
}

// workLeft is the mean work left to j's order's unit from j's current
// operation on, in seconds (1 when none: the ratio stays defined).
func (m *Model) workLeft(j *job) float64 {
	work := m.remainingWork(j.routing, j.op, j.order.product)
	if j.part != nil && j.order.product.Routing != nil {
		work += m.remainingWork(j.order.product.Routing, 0, j.order.product)
	}
	if work <= 0 {
		work = 1
	}
	return work
}

// pickBatch chooses the jobs of the next batch for machine u, or nil if a
// batch should not start yet. wake is when to look again (0: on the next
// arrival).
//
// The batch is the first Max jobs to have arrived (of the family of the
// job the dispatch rule picks first, when the batch is of one family),
// and its wait counts from the first of them: O(Max), whatever the
// length of the queue.
func (w *wcenter) pickBatch(u *unit) (batch []*job, wake sim.Time) {
	b := w.p.Batch
	now := w.m.env.Now()
	q := w.queue
	if q.n == 0 {
		return nil, 0
	}
	n, first := q.n, q.head
	if b.SameFamily {
		// The family of the batch: that of the job first by the dispatch rule.
		l := &q.famList[q.families[w.pick(u).family]]
		n, first = l.n, l.head
	}
	oldest := first.arrived
	if w.unordered { // arrival times set by a position may not follow arrival order
		for j := first; j != nil; j = j.next(b.SameFamily) {
			oldest = min(oldest, j.arrived)
		}
	}
	min := max(b.Min, 1)
	take := func() []*job {
		batch = w.batchBuf[:0] // reused: the caller is done with it before the next call
		for j := first; j != nil && len(batch) < b.Max; j = j.next(b.SameFamily) {
			batch = append(batch, j)
		}
		w.batchBuf = batch[:0]
		return batch
	}
	switch {
	case n >= b.Max:
		return take(), 0
	case n >= min && now-oldest >= b.MaxWait:
		return take(), 0
	case n >= min:
		return nil, oldest + b.MaxWait
	case w.coming == 0 && now-oldest >= b.MaxWait:
		return take(), 0 // nothing more is on its way: the plant runs what it has
	case w.coming == 0:
		return nil, oldest + b.MaxWait
	}
	return nil, 0
}
