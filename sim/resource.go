package sim

import "fmt"

// Discipline is the queue discipline of a Resource.
type Discipline uint8

const (
	// FIFO serves requests in arrival order.
	FIFO Discipline = iota
	// PriorityOrder serves the lowest priority value first, FIFO among
	// equals.
	PriorityOrder
	// Preemptive is PriorityOrder where a request may also take the resource
	// from a user with a strictly greater priority value; that user is
	// interrupted with Interrupt.Preempted set.
	Preemptive
)

func (d Discipline) String() string {
	switch d {
	case FIFO:
		return "fifo"
	case PriorityOrder:
		return "priority"
	case Preemptive:
		return "preemptive"
	}
	return fmt.Sprintf("Discipline(%d)", uint8(d))
}

// Resource is a set of identical units (machines, workers, a repairman) that
// processes request and release. It keeps its own statistics: the number of
// busy units and waiting requests over time, and the wait of every served
// request.
type Resource struct {
	Name string

	env   *Env
	cap   int
	disc  Discipline
	users []user
	q     queue

	Busy  TimeWeighted // units in use
	Queue TimeWeighted // requests waiting
	Wait  Tally        // seconds each served request waited
}

type user struct {
	p     *Proc
	prio  int
	since Time
}

// NewResource returns a resource with capacity units.
func (e *Env) NewResource(name string, capacity int, disc Discipline) *Resource {
	if capacity < 1 {
		panic("sim: resource capacity must be at least 1")
	}
	r := &Resource{Name: name, env: e, cap: capacity, disc: disc}
	r.users = make([]user, 0, capacity)
	r.Busy.Reset(e.now, 0)
	r.Queue.Reset(e.now, 0)
	return r
}

// Capacity returns the number of units.
func (r *Resource) Capacity() int { return r.cap }

// SetCapacity changes the number of units. Growing serves waiting requests
// at once; shrinking takes effect as users release (no one is evicted).
func (r *Resource) SetCapacity(n int) {
	if n < 1 {
		panic("sim: resource capacity must be at least 1")
	}
	r.cap = n
	r.serve()
}

// InUse returns the number of units held.
func (r *Resource) InUse() int { return len(r.users) }

// Waiting returns the number of queued requests.
func (r *Resource) Waiting() int { return r.q.n }

// Request asks for one unit with priority 0 and resumes p at step next once
// it holds it.
func (r *Resource) Request(p *Proc, next int) { r.RequestPrio(p, 0, next) }

// RequestPrio asks for one unit with a priority (lower is more important;
// ignored under FIFO) and resumes p at step next once it holds it.
func (r *Resource) RequestPrio(p *Proc, prio int, next int) {
	p.block(next)
	now := r.env.now
	p.prio, p.since = prio, now
	if len(r.users) < r.cap && r.q.n == 0 {
		r.grant(p, 0)
		return
	}
	if r.disc == Preemptive && len(r.users) >= r.cap {
		if v := r.victim(); v >= 0 && r.users[v].prio > prio {
			u := r.users[v]
			r.removeUser(v)
			u.p.interrupt(Interrupt{Preempted: true, By: p, Resource: r, Since: u.since})
			r.grant(p, 0)
			return
		}
	}
	if r.disc == FIFO {
		r.q.pushBack(p)
	} else {
		r.q.insert(p)
	}
	r.Queue.Set(now, float64(r.q.n))
	p.wq = r
	p.armPatience()
}

// victim returns the index of the user a preemption would take from: the
// greatest priority value, latest acquisition among equals.
func (r *Resource) victim() int {
	v := -1
	for i, u := range r.users {
		if v < 0 || u.prio > r.users[v].prio || (u.prio == r.users[v].prio && u.since >= r.users[v].since) {
			v = i
		}
	}
	return v
}

func (r *Resource) grant(p *Proc, waited Time) {
	now := r.env.now
	r.users = append(r.users, user{p: p, prio: p.prio, since: now})
	r.Busy.Set(now, float64(len(r.users)))
	r.Wait.Add(waited.Seconds())
	p.resume()
}

// Release gives back one unit held by p and serves waiting requests. It
// panics if p holds none: that is a modelling error.
func (r *Resource) Release(p *Proc) {
	for i := len(r.users) - 1; i >= 0; i-- {
		if r.users[i].p == p {
			r.removeUser(i)
			r.serve()
			return
		}
	}
	panic(fmt.Sprintf("sim: %q releases %q without holding it", p.ev.Name, r.Name))
}

// Holds reports whether p holds a unit of r.
func (r *Resource) Holds(p *Proc) bool {
	for _, u := range r.users {
		if u.p == p {
			return true
		}
	}
	return false
}

func (r *Resource) removeUser(i int) {
	last := len(r.users) - 1
	copy(r.users[i:], r.users[i+1:])
	r.users[last] = user{}
	r.users = r.users[:last]
	r.Busy.Set(r.env.now, float64(len(r.users)))
}

func (r *Resource) serve() {
	served := false
	for len(r.users) < r.cap && r.q.n > 0 {
		p := r.q.popFront()
		p.wq = nil
		r.grant(p, r.env.now-p.since)
		served = true
	}
	if served {
		r.Queue.Set(r.env.now, float64(r.q.n))
	}
}

func (r *Resource) cancelWait(p *Proc) {
	r.q.remove(p)
	r.Queue.Set(r.env.now, float64(r.q.n))
}

// Signal is a condition that processes wait on until it fires. Fire wakes
// every waiter; a signal can fire any number of times.
type Signal struct {
	q queue
}

// Wait suspends p until the signal fires, then resumes it at step next.
func (s *Signal) Wait(p *Proc, next int) {
	p.block(next)
	s.q.pushBack(p)
	p.wq = s
	p.armPatience()
}

// Fire resumes every waiting process, in the order they began to wait, and
// returns how many it woke.
func (s *Signal) Fire() int {
	n := 0
	for p := s.q.popFront(); p != nil; p = s.q.popFront() {
		p.wq = nil
		p.resume()
		n++
	}
	return n
}

// FireOne resumes the longest-waiting process, if any.
func (s *Signal) FireOne() bool {
	p := s.q.popFront()
	if p == nil {
		return false
	}
	p.wq = nil
	p.resume()
	return true
}

// Waiting returns the number of waiting processes.
func (s *Signal) Waiting() int { return s.q.n }

func (s *Signal) cancelWait(p *Proc) { s.q.remove(p) }
