package model

import (
	"math"

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
	pending  fifo[*job]       // released jobs waiting for room, not held by a machine
	blocked  fifo[blockEntry] // machines holding a finished job for this buffer
	// waking counts the blocked machines woken that have not looked yet
	waking int
	// coming counts the jobs on their way here (launched, not arrived
	// yet): a batch below its minimum goes after its wait when none are.
	coming int
	// batchTimer is when a batch waiting for more parts may go anyway
	batchTimer sim.Event
	// idle counts its machines in state idle (not starved)
	idle int
	// reserved counts the places kept for parts being made upstream
	// (blocking before service)
	reserved int
	// sources are the saturated lines whose first operation is here
	sources []source
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
	c.batchTimer.Init(c.path+"/batch", c.wakeOne)
	return c
}

// armBatch asks for a look at the batch at t (the earliest asked for).
func (w *wcenter) armBatch(t sim.Time) {
	if !w.batchTimer.Pending() || t < w.batchTimer.When() {
		w.m.env.Schedule(&w.batchTimer, t, sim.Default)
	}
}

// room reports whether the buffer can take another job.
func (w *wcenter) room() bool { return w.p.Buffer <= 0 || w.queue.n+w.reserved < w.p.Buffer }

// keeps returns the buffer that must keep a place for j before a machine
// starts its current operation (blocking before service): that of its
// next operation when it has one work centre, bounded, with that rule;
// or nil.
func (m *Model) keeps(j *job) *wcenter {
	if j.rework || j.op+1 >= len(j.routing.Ops) {
		return nil
	}
	next := j.routing.Ops[j.op+1]
	if len(next.Alternatives) != 1 || len(next.Consumes) > 0 {
		return nil
	}
	w := m.wcs[next.Alternatives[0].WorkCenter.Index]
	if w.p.Blocking != plant.BeforeService || w.p.Buffer <= 0 {
		return nil
	}
	return w
}

// taken is called when j leaves the buffer for a machine: a saturated
// line puts the next unit of its product in its place.
func (w *wcenter) taken(j *job) {
	if len(w.sources) == 0 || j.part != nil || j.op != 0 || j.rework {
		return
	}
	for k := range w.sources {
		if w.sources[k].product == j.order.product && j.routing == j.order.product.Routing {
			w.feed(k)
			return
		}
	}
}

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
	w.wake()
}

// wake wakes the machine that takes the job just queued: the first one
// free for work and not yet woken (one per job: a machine that takes one
// and finds more wakes the next, see unit.next). A batch's machines all
// see the same batch (but by the setup rule, which starts from each
// machine's family): one of them looks, and another looks after it
// starts one. Machines that are idle while the plant has open orders are
// starved from now on, whether they are woken or not.
func (w *wcenter) wake() {
	w.wakeOne()
	if w.idle > 0 && w.m.open > 0 {
		for _, u := range w.units {
			if u.state == event.Idle && u.waitingForWork() && !u.wake.Pending() {
				u.setState(event.Starved)
			}
		}
	}
}

func (w *wcenter) wakeOne() {
	batch := w.p.Batch != nil
	if batch && w.rule == plant.Setup {
		for _, u := range w.units {
			if u.waitingForWork() {
				u.poke()
			}
		}
		return
	}
	for _, u := range w.units {
		if !u.waitingForWork() || u.want != nil {
			continue
		}
		if !u.wake.Pending() {
			u.poke()
			return
		}
		if batch {
			return // one looks already
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
	w.taken(j)
}

// freed is called when the buffer has room again: released jobs waiting
// for it come first, then machines blocked on it, the first blocked
// first: one per free place, and the next one each time a woken one has
// looked (it may have sent its part elsewhere, or found the place taken).
func (w *wcenter) freed() {
	for w.pending.len() > 0 && w.room() {
		if !w.m.forward(w.pending.front()) {
			break
		}
		w.pending.pop()
	}
	w.wakeBlocked()
}

// blockEntry is a machine blocked on a buffer, in one episode of its
// blocking (gen): entries of earlier episodes are stale.
type blockEntry struct {
	u   *unit
	gen uint32
}

func (e blockEntry) stale() bool { return e.gen != e.u.blockGen || !e.u.blocking }

// block registers machine u, blocked on a part this buffer could take.
func (w *wcenter) block(u *unit) {
	if w.blocked.len() > 64 && w.blocked.len() > 4*len(w.m.units) {
		w.blocked.filter(func(e blockEntry) bool { return !e.stale() })
	}
	w.blocked.push(blockEntry{u, u.blockGen})
}

// wakeBlocked wakes blocked machines while there is room for them.
func (w *wcenter) wakeBlocked() {
	free := math.MaxInt
	if w.p.Buffer > 0 {
		free = w.p.Buffer - w.queue.n
	}
	for w.waking < free && w.blocked.len() > 0 {
		e := w.blocked.pop()
		if e.stale() {
			continue
		}
		w.waking++
		e.u.wokenBy = append(e.u.wokenBy, w)
		e.u.poke()
	}
}

// fifo is a first-in first-out queue on a slice: pop does not shift.
type fifo[T any] struct {
	s []T
	h int
}

func (f *fifo[T]) len() int { return len(f.s) - f.h }
func (f *fifo[T]) push(x T) { f.s = append(f.s, x) }
func (f *fifo[T]) front() T { return f.s[f.h] }
func (f *fifo[T]) all() []T { return f.s[f.h:] }
func (f *fifo[T]) pop() T {
	x := f.s[f.h]
	var zero T
	f.s[f.h] = zero
	f.h++
	if f.h == len(f.s) {
		f.s, f.h = f.s[:0], 0
	} else if f.h >= 32 && 2*f.h >= len(f.s) {
		n := copy(f.s, f.s[f.h:])
		clear(f.s[n:])
		f.s, f.h = f.s[:n], 0
	}
	return x
}

// filter keeps the elements for which keep is true, in order.
func (f *fifo[T]) filter(keep func(T) bool) {
	out := f.s[:0]
	for _, x := range f.s[f.h:] {
		if keep(x) {
			out = append(out, x)
		}
	}
	clear(f.s[len(out):])
	f.s, f.h = out, 0
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
