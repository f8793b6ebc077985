package sim

import (
	"fmt"

	"twin/sim/internal/calendar"
)

// Priority orders events scheduled for the same instant: lower values fire
// first. Events with equal time and priority fire in the order they were
// scheduled.
type Priority int8

// Priorities used by the kernel. Models may use any value in between.
const (
	Urgent  Priority = -64 // interrupts and preemptions
	Default Priority = 0   // timeouts, grants, resumptions
	Late    Priority = 64  // observers that must see an instant settle
)

// An Event is a reusable timer: a function to call at a scheduled time. The
// model owns its events and reschedules them, so scheduling allocates
// nothing. An Event is scheduled at most once at a time: scheduling it again
// moves it.
type Event struct {
	// fn and key first: the calendar touches an event's first bytes to
	// bring it into the cache before it fires.
	fn     func()
	key    uint64 // key of the live calendar entry; 0 when not scheduled
	when   Time
	pooled bool // owned by the kernel's free list (After)

	Name string // shown in traces; optional
}

// NewEvent returns an event that calls fn when it fires.
func NewEvent(name string, fn func()) *Event { return &Event{Name: name, fn: fn} }

// Init sets the function of an event embedded in a larger struct.
func (ev *Event) Init(name string, fn func()) { ev.Name, ev.fn = name, fn }

// Pending reports whether the event is scheduled.
func (ev *Event) Pending() bool { return ev.key != 0 }

// When returns the time the event is scheduled for; valid while Pending.
func (ev *Event) When() Time { return ev.when }

// Options configure an Env. The zero value is valid: seed 0.
type Options struct {
	// Seed is the master seed. Every named random stream derives from it
	// and its own name, so runs with the same seed are identical.
	Seed uint64
}

// Env is a simulation environment: a clock, an event calendar and the random
// streams of one run. It is not safe for concurrent use: a run belongs to
// one goroutine, and parallel replications use one Env each.
type Env struct {
	now     Time
	seq     uint64
	cal     calendar.Calendar[Event]
	dead    int // cancelled entries still in the calendar
	fired   uint64
	stopped bool
	running bool

	seed    uint64
	streams map[string]*Stream
	free    []*Event // pooled one-shot events for After and At
	trace   func(now Time, ev *Event)

	current *Proc  // the process whose step is running, if any
	firing  *Event // the event being dispatched, if any
}

// New returns an environment at time 0.
func New(opt Options) *Env {
	e := &Env{seed: opt.Seed, streams: make(map[string]*Stream)}
	e.cal.Init()
	return e
}

// Now returns the current simulated time.
func (e *Env) Now() Time { return e.now }

// Firing returns the event being dispatched, or nil between events. One
// function can then serve many events: it asks which one fired.
func (e *Env) Firing() *Event { return e.firing }

// Seed returns the master seed.
func (e *Env) Seed() uint64 { return e.seed }

// Fired returns the number of events dispatched so far.
func (e *Env) Fired() uint64 { return e.fired }

// Pending returns the number of scheduled events.
func (e *Env) Pending() int { return e.cal.Len() - e.dead }

// SetTrace installs a function called before every dispatched event, or
// removes it when fn is nil. Tracing costs one predictable branch per
// event when off.
func (e *Env) SetTrace(fn func(now Time, ev *Event)) { e.trace = fn }

// Schedule schedules ev at absolute time at with priority prio, moving it if
// it is already scheduled. Scheduling in the past panics: the clock never
// runs backwards. The cost is O(1) amortised, and it allocates nothing once
// the calendar has grown to its working size.
func (e *Env) Schedule(ev *Event, at Time, prio Priority) {
	if at < e.now {
		e.past(ev, at)
	}
	if ev.key != 0 {
		e.dead++ // the old entry stays behind, stale
	}
	e.seq++
	k := uint64(uint8(prio)^0x80)<<56 | e.seq
	ev.key, ev.when = k, at
	e.cal.Push(int64(at), k, ev)
}

//go:noinline
func (e *Env) past(ev *Event, at Time) {
	panic(fmt.Sprintf("sim: schedule %q at %v, before now %v", ev.Name, at, e.now))
}

// ScheduleIn schedules ev d after now with normal priority.
func (e *Env) ScheduleIn(ev *Event, d Time) {
	if d < 0 {
		d = 0
	}
	e.Schedule(ev, e.now+d, Default)
}

// Cancel unschedules ev. Cancelling an event that is not scheduled does
// nothing. Cancelled entries are dropped lazily; the calendar is compacted
// when they outnumber the live ones.
func (e *Env) Cancel(ev *Event) {
	if ev.key == 0 {
		return
	}
	ev.key = 0
	e.dead++
	if e.dead > 1024 && e.dead > e.cal.Len()/2 {
		e.cal.Filter(e.live)
		e.dead = 0
	}
}

// live reports whether a calendar entry is the current schedule of its
// event.
func (e *Env) live(x calendar.Entry[Event]) bool {
	return x.Ev.key == x.Key
}

// After calls fn once, d from now. The event comes from a free list, so it
// allocates nothing in steady state; it cannot be cancelled (use an Event
// for that).
func (e *Env) After(d Time, fn func()) {
	if d < 0 {
		d = 0
	}
	e.At(e.now+d, fn)
}

// At calls fn once at absolute time t (see After).
func (e *Env) At(t Time, fn func()) {
	var ev *Event
	if n := len(e.free); n > 0 {
		ev = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		ev = &Event{pooled: true}
	}
	ev.fn = fn
	e.Schedule(ev, t, Default)
}

// Run dispatches events until the calendar is empty or Stop is called.
func (e *Env) Run() { e.RunUntil(MaxTime) }

// RunUntil dispatches every event scheduled at or before t, then sets the
// clock to t (unless stopped early or t is MaxTime). Events scheduled for
// exactly t do fire.
func (e *Env) RunUntil(t Time) {
	if e.running {
		panic("sim: RunUntil called from inside the run")
	}
	e.running, e.stopped = true, false
	defer func() { e.running = false }()
	for !e.stopped {
		ent, ok := e.cal.PopUntil(int64(t))
		if !ok {
			break
		}
		ev := ent.Ev
		if ev.key != ent.Key {
			e.dead--
			continue
		}
		// dispatch, inlined: this loop is the kernel's hot path.
		ev.key = 0
		e.now = Time(ent.When)
		e.fired++
		if e.trace != nil {
			e.trace(e.now, ev)
		}
		e.firing = ev
		ev.fn()
		e.firing = nil
		if ev.pooled && ev.key == 0 {
			e.recycle(ev)
		}
	}
	if !e.stopped && t != MaxTime && e.now < t {
		e.now = t
	}
}

// Step dispatches the next event, if any, and reports whether one fired.
func (e *Env) Step() bool {
	for {
		ent, ok := e.cal.PopUntil(int64(MaxTime))
		if !ok {
			return false
		}
		ev := ent.Ev
		if ev.key != ent.Key {
			e.dead--
			continue
		}
		e.dispatch(ev, Time(ent.When))
		return true
	}
}

// dispatch fires ev (RunUntil inlines the same steps).
func (e *Env) dispatch(ev *Event, at Time) {
	ev.key = 0
	e.now = at
	e.fired++
	if e.trace != nil {
		e.trace(at, ev)
	}
	e.firing = ev
	ev.fn()
	e.firing = nil
	if ev.pooled && ev.key == 0 {
		e.recycle(ev)
	}
}

// recycle returns a fired one-shot event to the free list.
func (e *Env) recycle(ev *Event) {
	ev.fn = nil
	e.free = append(e.free, ev)
}

// Peek returns the time of the next calendar entry, or MaxTime if there is
// none. The entry may belong to an event cancelled since, so Peek is a lower
// bound: no event fires before it. Real-time drivers use it to know how long
// they may sleep.
func (e *Env) Peek() Time {
	if t, ok := e.cal.Min(); ok {
		return Time(t)
	}
	return MaxTime
}

// idleNow reports whether no calendar entry is due at the current time
// (stale entries count: a lower bound is enough).
func (e *Env) idleNow() bool {
	t, ok := e.cal.Min()
	return !ok || t > int64(e.now)
}

// Stop makes the current Run or RunUntil return after the event being
// dispatched. The clock stays at that event's time.
func (e *Env) Stop() { e.stopped = true }
