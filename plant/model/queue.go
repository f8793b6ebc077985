package model

import (
	"math"

	"twin/plant"
	"twin/sim"
)

// queue is a work centre's input buffer: its jobs in arrival order (an
// intrusive list) and the same jobs ordered by the dispatch rule (binary
// heaps), so that choosing the next job costs O(log n) and taking it out
// O(log n), whatever the length of the queue:
//
//   - fifo: the head of the arrival list;
//   - edd, spt, priority: one heap on the rule's key (due date; mean
//     time of the step; priority, then due date), then arrival;
//   - setup: one heap per family on (due date, arrival): the machine's
//     own family's head if it has jobs, else the earliest due of the
//     heads (one per family: a plant constant);
//   - cr: one heap per amount of work left on (due date, arrival): with
//     the same work, the job due first has the lowest critical ratio
//     now and at any later time, so each heap's head is its best and the
//     best head (ties: arrival) is the job a scan would find.
//
// Ties go to the job that arrived first, as a scan of the buffer in
// arrival order keeping the first best would choose.
type queue struct {
	rule plant.Rule
	n    int
	head *job
	tail *job
	seq  uint64 // arrivals so far: a job's place in arrival order

	heap    jobHeap             // edd, spt, priority
	byFam   []*jobHeap          // setup: by family index
	byWork  map[uint64]*jobHeap // cr: by work left (float bits)
	active  []*jobHeap          // cr: the heaps of byWork that hold jobs
	famList []jobList           // batches of one family: arrival order per family

	families map[string]int // family → index
}

// jobList is a list of jobs in arrival order, linked through fprev/fnext.
type jobList struct {
	n          int
	head, tail *job
}

func newQueue(rule plant.Rule, families map[string]int, sameFamily bool) *queue {
	q := &queue{rule: rule, families: families}
	switch rule {
	case plant.Setup:
		q.byFam = make([]*jobHeap, len(families))
		for i := range q.byFam {
			q.byFam[i] = &jobHeap{}
		}
	case plant.CR:
		q.byWork = map[uint64]*jobHeap{}
	}
	if sameFamily {
		q.famList = make([]jobList, len(families))
	}
	return q
}

// Len returns the number of jobs waiting.
func (q *queue) Len() int { return q.n }

// push adds j at the end of the arrival order; key is the rule's static
// key for spt (the step's mean time) and cr (the work left), unused
// otherwise.
func (q *queue) push(j *job, key float64) {
	q.seq++
	j.qseq = q.seq
	j.qprev, j.qnext = q.tail, nil
	if q.tail != nil {
		q.tail.qnext = j
	} else {
		q.head = j
	}
	q.tail = j
	q.n++
	j.qkey = key
	switch q.rule {
	case plant.EDD:
		q.heap.push(j, int64(j.order.due), 0)
	case plant.SPT:
		q.heap.push(j, floatKey(key), 0)
	case plant.Priority:
		q.heap.push(j, -int64(j.order.priority), int64(j.order.due))
	case plant.Setup:
		q.byFam[j.fam].push(j, int64(j.order.due), 0)
	case plant.CR:
		bits := math.Float64bits(key)
		h := q.byWork[bits]
		if h == nil {
			h = &jobHeap{work: key}
			q.byWork[bits] = h
		}
		if len(h.h) == 0 {
			h.active = len(q.active)
			q.active = append(q.active, h)
		}
		h.push(j, int64(j.order.due), 0)
	}
	if q.famList != nil {
		l := &q.famList[j.fam]
		j.fprev, j.fnext = l.tail, nil
		if l.tail != nil {
			l.tail.fnext = j
		} else {
			l.head = j
		}
		l.tail = j
		l.n++
	}
}

// remove takes j out of the queue.
func (q *queue) remove(j *job) {
	if j.qprev != nil {
		j.qprev.qnext = j.qnext
	} else {
		q.head = j.qnext
	}
	if j.qnext != nil {
		j.qnext.qprev = j.qprev
	} else {
		q.tail = j.qprev
	}
	j.qprev, j.qnext = nil, nil
	q.n--
	if h := j.heap; h != nil {
		h.remove(j)
		if q.rule == plant.CR && len(h.h) == 0 {
			last := q.active[len(q.active)-1]
			q.active[h.active] = last
			last.active = h.active
			q.active = q.active[:len(q.active)-1]
		}
	}
	if q.famList != nil {
		l := &q.famList[j.fam]
		if j.fprev != nil {
			j.fprev.fnext = j.fnext
		} else {
			l.head = j.fnext
		}
		if j.fnext != nil {
			j.fnext.fprev = j.fprev
		} else {
			l.tail = j.fprev
		}
		j.fprev, j.fnext = nil, nil
		l.n--
	}
}

// pick returns the job the rule chooses for a machine whose last family
// is last (the setup rule's), at now (the critical ratio's), or nil.
func (q *queue) pick(m *Model, last string, now sim.Time) *job {
	if q.n == 0 {
		return nil
	}
	switch q.rule {
	case plant.EDD, plant.SPT, plant.Priority:
		return q.heap.h[0].j
	case plant.Setup:
		if fi, ok := q.families[last]; ok && len(q.byFam[fi].h) > 0 {
			return q.byFam[fi].h[0].j
		}
		var best *hentry
		for _, h := range q.byFam {
			if len(h.h) > 0 && (best == nil || h.h[0].less(best)) {
				best = &h.h[0]
			}
		}
		if best == nil {
			return nil
		}
		return best.j
	case plant.CR:
		return q.pickCR(now)
	}
	return q.head
}

// pickCR finds the job of lowest critical ratio, the first arrived among
// equals: the lowest ratio of the heaps' heads, then, in every heap whose
// head has it, the first arrived of the jobs that have it too (two due
// dates less than a rounding error apart give one ratio; normally the
// head alone).
func (q *queue) pickCR(now sim.Time) *job {
	best := math.Inf(1)
	for _, h := range q.active {
		best = min(best, h.ratio(&h.h[0], now))
	}
	var pick *hentry
	for _, h := range q.active {
		if h.ratio(&h.h[0], now) == best {
			pick = h.firstWithRatio(0, best, now, pick)
		}
	}
	return pick.j
}

// jobHeap is a binary heap of jobs on integer keys held beside them (a,
// then b, then arrival: the rule's order), so that a sift compares
// integers without chasing pointers; each job knows its index (hidx).
type jobHeap struct {
	h []hentry
	// cr: the work left of its jobs, in seconds, and its place in
	// queue.active
	work   float64
	active int
}

// hentry is a job in a heap with its keys: for edd (due, 0), spt (the
// step's mean time, 0), priority (−priority, due), setup and cr (due, 0).
type hentry struct {
	a, b int64
	seq  uint64 // the job's place in arrival order
	j    *job
}

func (x *hentry) less(y *hentry) bool {
	if x.a != y.a {
		return x.a < y.a
	}
	if x.b != y.b {
		return x.b < y.b
	}
	return x.seq < y.seq
}

// floatKey maps a float64 to an int64 of the same order.
func floatKey(f float64) int64 {
	k := int64(math.Float64bits(f))
	if k < 0 {
		k ^= math.MaxInt64
	}
	return k
}

// ratio is the critical ratio now of a job of the heap due at e.a: time
// to its due date over the work left (model.criticalRatio).
func (h *jobHeap) ratio(e *hentry, now sim.Time) float64 {
	return (sim.Time(e.a) - now).Seconds() / h.work
}

// firstWithRatio returns, of the jobs under index i with ratio r, the
// first arrived (or pick, if it arrived before them). A child's due date
// is not earlier than its parent's, so its ratio is not lower: the walk
// stops below any job whose ratio is higher.
func (h *jobHeap) firstWithRatio(i int, r float64, now sim.Time, pick *hentry) *hentry {
	e := &h.h[i]
	if h.ratio(e, now) != r {
		return pick
	}
	if pick == nil || e.seq < pick.seq {
		pick = e
	}
	for c := 2*i + 1; c <= 2*i+2 && c < len(h.h); c++ {
		pick = h.firstWithRatio(c, r, now, pick)
	}
	return pick
}

// push adds j with keys a and b. O(log n).
func (h *jobHeap) push(j *job, a, b int64) {
	j.heap = h
	j.hidx = len(h.h)
	h.h = append(h.h, hentry{a: a, b: b, seq: j.qseq, j: j})
	h.up(j.hidx)
}

// remove takes j out. O(log n).
func (h *jobHeap) remove(j *job) {
	i := j.hidx
	last := len(h.h) - 1
	if i != last {
		h.h[i] = h.h[last]
		h.h[i].j.hidx = i
	}
	h.h[last] = hentry{}
	h.h = h.h[:last]
	if i != last {
		h.down(i)
		h.up(i)
	}
	j.heap, j.hidx = nil, -1
}

func (h *jobHeap) up(i int) {
	x := h.h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !x.less(&h.h[p]) {
			break
		}
		h.h[i] = h.h[p]
		h.h[i].j.hidx = i
		i = p
	}
	h.h[i] = x
	x.j.hidx = i
}

func (h *jobHeap) down(i int) {
	n := len(h.h)
	x := h.h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h.h[r].less(&h.h[c]) {
			c = r
		}
		if !h.h[c].less(&x) {
			break
		}
		h.h[i] = h.h[c]
		h.h[i].j.hidx = i
		i = c
	}
	h.h[i] = x
	x.j.hidx = i
}
