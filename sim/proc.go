package sim

import "fmt"

// A ProcFunc is the body of a process. The kernel calls it with the step to
// run; the body does the work of that step and ends it with at most one
// blocking call (Hold, Request, Get, Put, Wait, …), naming the step to
// resume at when the call completes. A body that returns without a blocking
// call ends the process.
//
// Writing a loop this way keeps each process a plain struct: no goroutine,
// no stack, no allocation per step.
//
//	const (waitPart = iota; setUp; work; done)
//	func (m *Machine) run(p *sim.Proc, step int) {
//		switch step {
//		case waitPart:
//			m.in.Get(p, &m.part, setUp)
//		case setUp:
//			p.Hold(m.setupTime(m.part), work)
//		case work:
//			p.Hold(m.processTime(m.part), done)
//		case done:
//			m.out.Put(p, m.part, waitPart)
//		}
//	}
type ProcFunc func(p *Proc, step int)

// Proc is a process: a ProcFunc and the state the kernel keeps for it.
type Proc struct {
	ev   Event // resumption
	env  *Env
	fn   ProcFunc
	next int

	blocked bool   // a blocking call was made in the current step
	again   bool   // that call was served at once: the next step runs now
	againK  uint64 // the calendar key the next step got when it was served
	done    bool

	// Waiting.
	wq      waitQueue // the queue the process waits in, if any
	since   Time      // when it started waiting, for wait statistics
	prio    int       // its request priority
	amount  float64   // for containers
	qprev   *Proc     // intrusive links for kernel wait queues
	qnext   *Proc
	wakeAt  Time // end of the current Hold
	holding bool

	patience Time // timeout for the next wait; <0 when none
	timer    Event
	timedOut bool

	intr        Interrupt
	interrupted bool

	// Done fires when the process ends.
	Done Signal

	// Data is free for the model: the entity the process stands for.
	Data any
}

// Interrupt describes why a process was interrupted.
type Interrupt struct {
	Cause any // what the interrupter passed

	// Set when the interrupt is a preemption of a Resource.
	Preempted bool
	By        *Proc     // the process that took the resource
	Resource  *Resource // the resource that was taken
	Since     Time      // when the preempted process had acquired it

	// Remaining is what was left of an interrupted Hold; 0 otherwise.
	Remaining Time
}

type waitQueue interface {
	cancelWait(p *Proc)
}

// Process starts a process named name whose body is fn. Its first step (0)
// runs at the current time, after the events already scheduled for now.
func (e *Env) Process(name string, fn ProcFunc) *Proc {
	p := &Proc{env: e, fn: fn, patience: -1}
	p.ev.Init(name, p.run)
	p.timer.Init(name+"/timeout", p.timeout)
	e.Schedule(&p.ev, e.now, Default)
	return p
}

// Restart reuses a finished process for a new run of fn starting at step 0,
// without allocating. It panics if p has not finished.
func (p *Proc) Restart(name string, fn ProcFunc) {
	if !p.done {
		panic("sim: Restart of a running process " + p.ev.Name)
	}
	p.ev.Name, p.fn, p.next, p.done = name, fn, 0, false
	p.patience, p.timedOut, p.interrupted, p.intr = -1, false, false, Interrupt{}
	p.env.Schedule(&p.ev, p.env.now, Default)
}

// Name returns the process name.
func (p *Proc) Name() string { return p.ev.Name }

// Env returns the environment of the process.
func (p *Proc) Env() *Env { return p.env }

// Now returns the current simulated time.
func (p *Proc) Now() Time { return p.env.now }

// Finished reports whether the process has ended.
func (p *Proc) Finished() bool { return p.done }

// Interrupted returns the interrupt that resumed the current step, or nil.
func (p *Proc) Interrupted() *Interrupt {
	if p.interrupted {
		return &p.intr
	}
	return nil
}

// TimedOut reports whether the current step was resumed because the
// patience set with Within ran out before the wait was served.
func (p *Proc) TimedOut() bool { return p.timedOut }

func (p *Proc) run() {
	e := p.env
	prev := e.current
	e.current = p
	for {
		p.blocked = false
		p.wq = nil
		p.holding = false
		p.fn(p, p.next)
		p.interrupted, p.timedOut = false, false
		if !p.again {
			break
		}
		p.again = false // served at once: go on without an event...
		if e.stopped || !e.idleNow() || p.ev.key != 0 {
			// ...unless the run stops or the rest of the step made
			// something else due now: the next step waits its turn
			// then, in the place it was given when served
			if p.ev.key == 0 {
				p.ev.key, p.ev.when = p.againK, e.now
				e.cal.Push(int64(e.now), p.againK, &p.ev)
			}
			break
		}
	}
	e.current = prev
	if !p.blocked {
		p.done = true
		p.patience = -1
		p.Done.Fire()
	}
}

func (p *Proc) block(next int) {
	if p.blocked {
		panic(fmt.Sprintf("sim: process %q made two blocking calls in one step", p.ev.Name))
	}
	if p.done {
		panic(fmt.Sprintf("sim: blocking call on finished process %q", p.ev.Name))
	}
	p.blocked = true
	p.next = next
}

// Hold suspends the process for d, then resumes it at step next. A negative
// d counts as zero.
func (p *Proc) Hold(d Time, next int) {
	p.block(next)
	if d < 0 {
		d = 0
	}
	p.holding = true
	p.wakeAt = p.env.now + d
	p.env.Schedule(&p.ev, p.wakeAt, Default)
}

// Yield resumes the process at step next at the current time, after the
// other events of this instant.
func (p *Proc) Yield(next int) { p.Hold(0, next) }

// Passivate suspends the process until another process calls Activate or
// Interrupt.
func (p *Proc) Passivate(next int) {
	p.block(next)
	p.wq = passive{}
}

// Activate resumes a passivated process at the current time. Activating a
// process that is not passive does nothing and reports false.
func (p *Proc) Activate() bool {
	if _, ok := p.wq.(passive); !ok || p.done {
		return false
	}
	p.wq = nil
	p.resume()
	return true
}

type passive struct{}

func (passive) cancelWait(*Proc) {}

// Within sets a patience for the process's next wait on a resource, store,
// container or signal: if the wait is not served within d, the process
// leaves the queue and resumes at the wait's next step with TimedOut true.
// It has no effect on Hold.
func (p *Proc) Within(d Time) {
	if d < 0 {
		d = 0
	}
	p.patience = d
}

// armPatience is called by a wait primitive once p is queued.
func (p *Proc) armPatience() {
	if p.patience >= 0 {
		p.env.Schedule(&p.timer, p.env.now+p.patience, Default)
		p.patience = -1
	}
}

// resume schedules p to run its next step now, after the events already
// scheduled for now: a wait was served. When the wait was served in the
// step that made it (a free unit, an item there, room for a put) and no
// other event is due now, the next step would run straight after this one
// anyway: it runs at once, without an event (run checks again when the
// step ends). The order of events is the same either way; Fired counts
// one event fewer.
func (p *Proc) resume() {
	e := p.env
	p.patience = -1
	if p.timer.key != 0 {
		e.Cancel(&p.timer)
	}
	if e.current == p && p.blocked && !e.stopped && e.idleNow() {
		e.seq++
		p.againK = uint64(uint8(Default)^0x80)<<56 | e.seq
		p.again = true
		return
	}
	e.Schedule(&p.ev, e.now, Default)
}

func (p *Proc) timeout() {
	if p.wq != nil {
		p.wq.cancelWait(p)
		p.wq = nil
	}
	p.timedOut = true
	p.run()
}

// Interrupt interrupts p: a pending Hold is cut short and a pending wait is
// abandoned (the process leaves the queue). p resumes at its pending step at
// the current time, before normal events, with Interrupted returning the
// interrupt. Interrupting a finished process, or the running process
// itself, does nothing and reports false.
func (p *Proc) Interrupt(cause any) bool {
	return p.interrupt(Interrupt{Cause: cause})
}

func (p *Proc) interrupt(in Interrupt) bool {
	e := p.env
	if p.done || e.current == p {
		return false
	}
	if p.holding {
		in.Remaining = p.wakeAt - e.now
		p.holding = false
	}
	if p.wq != nil {
		p.wq.cancelWait(p)
		p.wq = nil
	}
	if p.timer.key != 0 {
		e.Cancel(&p.timer)
	}
	p.patience = -1
	p.intr, p.interrupted = in, true
	e.Schedule(&p.ev, e.now, Urgent)
	return true
}

// Join waits for process q to finish, then resumes at step next.
func (p *Proc) Join(q *Proc, next int) {
	if q.done {
		p.Yield(next)
		return
	}
	q.Done.Wait(p, next)
}

// queue is an intrusive list of waiting processes, ordered by priority (lower
// first) and arrival; FIFO when all priorities are equal.
type queue struct {
	head, tail *Proc
	n          int
}

func (q *queue) Len() int { return q.n }

func (q *queue) pushBack(p *Proc) {
	p.qnext = nil
	p.qprev = q.tail
	if q.tail != nil {
		q.tail.qnext = p
	} else {
		q.head = p
	}
	q.tail = p
	q.n++
}

// insert places p after the last waiter whose priority is not greater.
func (q *queue) insert(p *Proc) {
	at := q.tail
	for at != nil && at.prio > p.prio {
		at = at.qprev
	}
	if at == q.tail {
		q.pushBack(p)
		return
	}
	p.qprev = at
	if at == nil {
		p.qnext = q.head
		q.head.qprev = p
		q.head = p
	} else {
		p.qnext = at.qnext
		at.qnext.qprev = p
		at.qnext = p
	}
	q.n++
}

func (q *queue) remove(p *Proc) {
	if p.qprev != nil {
		p.qprev.qnext = p.qnext
	} else {
		q.head = p.qnext
	}
	if p.qnext != nil {
		p.qnext.qprev = p.qprev
	} else {
		q.tail = p.qprev
	}
	p.qprev, p.qnext = nil, nil
	q.n--
}

func (q *queue) popFront() *Proc {
	p := q.head
	if p != nil {
		q.remove(p)
	}
	return p
}
