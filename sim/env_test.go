package sim

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
)

func TestOrderTimePriorityInsertion(t *testing.T) {
	env := New(Options{})
	var got []string
	add := func(name string, at Time, prio Priority) {
		ev := NewEvent(name, func() { got = append(got, name) })
		env.Schedule(ev, at, prio)
	}
	add("t2-a", 2, Default)
	add("t1-late", 1, Late)
	add("t1-a", 1, Default)
	add("t1-urgent", 1, Urgent)
	add("t1-b", 1, Default)
	add("t0", 0, Default)
	env.Run()
	want := "t0 t1-urgent t1-a t1-b t1-late t2-a"
	if g := strings.Join(got, " "); g != want {
		t.Fatalf("order %q, want %q", g, want)
	}
}

func TestRunUntilAndClock(t *testing.T) {
	env := New(Options{})
	fired := map[string]Time{}
	for _, at := range []Time{5, 10, 15} {
		name := fmt.Sprint(int64(at))
		env.Schedule(NewEvent(name, func() { fired[name] = env.Now() }), at, Default)
	}
	env.RunUntil(10)
	if len(fired) != 2 || fired["10"] != 10 {
		t.Fatalf("after RunUntil(10): %v, want events at 5 and 10 fired", fired)
	}
	if env.Now() != 10 {
		t.Fatalf("clock %v after RunUntil(10)", env.Now())
	}
	env.RunUntil(12)
	if env.Now() != 12 || len(fired) != 2 {
		t.Fatalf("clock %v fired %v after RunUntil(12)", env.Now(), fired)
	}
	// An event scheduled between RunUntil calls, earlier than the next one
	// pending, still fires first.
	env.Schedule(NewEvent("13", func() { fired["13"] = env.Now() }), 13, Default)
	if env.Peek() != 13 {
		t.Fatalf("Peek %v, want 13", env.Peek())
	}
	env.Run()
	if fired["13"] != 13 || fired["15"] != 15 || env.Now() != 15 {
		t.Fatalf("fired %v, clock %v", fired, env.Now())
	}
	if env.Peek() != MaxTime || env.Pending() != 0 {
		t.Fatalf("Peek %v Pending %d on an empty calendar", env.Peek(), env.Pending())
	}
}

func TestStopAndStep(t *testing.T) {
	env := New(Options{})
	n := 0
	var tick Event
	tick.Init("tick", func() {
		n++
		if n == 3 {
			env.Stop()
		}
		env.ScheduleIn(&tick, Second)
	})
	env.ScheduleIn(&tick, Second)
	env.Run()
	if n != 3 || env.Now() != 3*Second {
		t.Fatalf("stopped after %d ticks at %v, want 3 at 3s", n, env.Now())
	}
	if !env.Step() || n != 4 || env.Now() != 4*Second {
		t.Fatalf("Step: %d ticks at %v", n, env.Now())
	}
	env.RunUntil(10 * Second)
	if n != 10 || env.Now() != 10*Second {
		t.Fatalf("RunUntil after Stop: %d ticks at %v", n, env.Now())
	}
}

func TestCancelAndReschedule(t *testing.T) {
	env := New(Options{})
	var got []Time
	ev := NewEvent("x", func() { got = append(got, env.Now()) })
	env.Schedule(ev, 5, Default)
	env.Schedule(ev, 7, Default) // moves it
	if !ev.Pending() || ev.When() != 7 {
		t.Fatalf("pending %v when %v", ev.Pending(), ev.When())
	}
	other := NewEvent("y", func() { got = append(got, -env.Now()) })
	env.Schedule(other, 6, Default)
	env.Cancel(other)
	env.Cancel(other) // twice is fine
	env.Run()
	if len(got) != 1 || got[0] != 7 {
		t.Fatalf("fired %v, want only the moved event at 7", got)
	}
	if env.Pending() != 0 {
		t.Fatalf("pending %d after the run", env.Pending())
	}
}

// Mass cancellation compacts the calendar and leaves the survivors in
// order.
func TestCancelCompaction(t *testing.T) {
	env := New(Options{})
	evs := make([]*Event, 5000)
	var last Time
	fired := 0
	for i := range evs {
		evs[i] = NewEvent("e", func() {
			if env.Now() < last {
				t.Fatalf("time went back from %v to %v", last, env.Now())
			}
			last = env.Now()
			fired++
		})
		env.Schedule(evs[i], Time(i*37%5000)+1, Default)
	}
	for i := range evs {
		if i%5 != 0 {
			env.Cancel(evs[i])
		}
	}
	if env.Pending() != 1000 {
		t.Fatalf("pending %d, want 1000", env.Pending())
	}
	env.Run()
	if fired != 1000 {
		t.Fatalf("fired %d, want 1000", fired)
	}
}

func TestSchedulePastPanics(t *testing.T) {
	env := New(Options{})
	env.RunUntil(10)
	defer func() {
		if recover() == nil {
			t.Fatal("scheduling before now did not panic")
		}
	}()
	env.Schedule(NewEvent("late", func() {}), 5, Default)
}

func TestAfterPoolsEvents(t *testing.T) {
	env := New(Options{})
	n := 0
	var fn func()
	fn = func() {
		n++
		if n < 100 {
			env.After(Second, fn)
		}
	}
	env.After(0, fn)
	env.Run()
	// The event firing is recycled after fn returns, so a chain of After
	// calls uses two pooled events in turn, however long it runs.
	if n != 100 || len(env.free) != 2 {
		t.Fatalf("%d calls, %d pooled events; want 100 and 2", n, len(env.free))
	}
}

// A run's trace hash: time and name of every dispatched event.
func traceHash(env *Env) func() uint64 {
	h := fnv.New64a()
	env.SetTrace(func(now Time, ev *Event) {
		fmt.Fprintf(h, "%d %s\n", now, ev.Name)
	})
	return h.Sum64
}

// shop is a small model using every blocking primitive: processes that
// hold, request a shared resource with priorities and preemption, pass
// parts through a bounded store, and get interrupted.
func shop(seed uint64, until Time) uint64 {
	env := New(Options{Seed: seed})
	sum := traceHash(env)
	crane := env.NewResource("crane", 1, Preemptive)
	buf := NewStore[int](env, "buffer", 3)
	for i := 0; i < 4; i++ {
		s := env.Stream(fmt.Sprintf("press%d", i))
		part := i * 1000
		env.Process(fmt.Sprintf("press%d", i), func(p *Proc, step int) {
			switch step {
			case 0:
				crane.RequestPrio(p, i%2, 1)
			case 1:
				p.Hold(s.Duration(Exponential{M: 3}), 2)
			case 2:
				if p.Interrupted() != nil {
					crane.RequestPrio(p, i%2, 1)
					return
				}
				crane.Release(p)
				part++
				buf.Put(p, part, 0)
			}
		})
	}
	var got int
	env.Process("packer", func(p *Proc, step int) {
		if step == 1 {
			p.Hold(env.Stream("packer").Duration(Uniform{Min: 1, Max: 4}), 0)
			return
		}
		buf.Get(p, &got, 1)
	})
	env.RunUntil(until)
	return sum()
}

func TestDeterministicTrace(t *testing.T) {
	a, b := shop(1, 2*Hour), shop(1, 2*Hour)
	if a != b {
		t.Fatalf("same seed, different traces: %x %x", a, b)
	}
	if c := shop(2, 2*Hour); c == a {
		t.Fatalf("different seeds, same trace %x", c)
	}
}

// Streams depend on the seed and the name only, not on creation order.
func TestStreamsIndependentOfOrder(t *testing.T) {
	e1, e2 := New(Options{Seed: 9}), New(Options{Seed: 9})
	a1 := e1.Stream("a").Uint64()
	e2.Stream("b").Uint64()
	e2.Stream("c").Uint64()
	if a2 := e2.Stream("a").Uint64(); a1 != a2 {
		t.Fatalf("stream a depends on creation order: %x %x", a1, a2)
	}
	if NewStream(9, "a").Uint64() == NewStream(9, "b").Uint64() {
		t.Fatal("streams a and b start alike")
	}
	if ReplicationSeed(9, 0) == ReplicationSeed(9, 1) {
		t.Fatal("replication seeds coincide")
	}
}

// The hot path allocates nothing in steady state: scheduling, dispatching,
// holding processes, resource grants and store hand-offs.
func TestZeroAllocSteadyState(t *testing.T) {
	env := New(Options{Seed: 1})
	s := env.Stream("x")
	res := env.NewResource("r", 1, FIFO)
	st := NewStore[int](env, "s", 4)
	for i := 0; i < 3; i++ {
		env.Process("worker", func(p *Proc, step int) {
			switch step {
			case 0:
				res.Request(p, 1)
			case 1:
				p.Hold(s.Duration(Exponential{M: 1}), 2)
			case 2:
				res.Release(p)
				st.Put(p, 1, 0)
			}
		})
	}
	var v int
	env.Process("taker", func(p *Proc, step int) {
		if step == 1 {
			p.Hold(s.Duration(Exponential{M: 0.3}), 0)
			return
		}
		st.Get(p, &v, 1)
	})
	var tick Event
	tick.Init("tick", func() { env.ScheduleIn(&tick, s.Duration(Exponential{M: 1})) })
	env.ScheduleIn(&tick, 0)
	env.RunUntil(1000 * Second) // warm up: slices reach their working size
	until := env.Now()
	allocs := testing.AllocsPerRun(20, func() {
		until += 200 * Second
		env.RunUntil(until)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 200 simulated seconds, want 0", allocs)
	}
	if env.Fired() < 10000 {
		t.Fatalf("only %d events fired; the model stalled", env.Fired())
	}
}

func TestTimeFormatting(t *testing.T) {
	for _, tc := range []struct {
		t    Time
		want string
	}{
		{0, "d0 00:00:00"},
		{90 * Minute, "d0 01:30:00"},
		{Day + 7*Hour + 15*Minute + 2500*Millisecond, "d1 07:15:02.5"},
	} {
		if got := tc.t.Clock(); got != tc.want {
			t.Errorf("Clock(%d) = %q, want %q", tc.t, got, tc.want)
		}
	}
	if FromSeconds(-1) != 0 || FromSeconds(1.5) != 1500*Millisecond || FromSeconds(1e300) != MaxTime {
		t.Error("FromSeconds clamps and rounds wrongly")
	}
	if MaxTime.String() != "∞" || (90*Second).String() != "1m30s" {
		t.Error("String formats wrongly")
	}
}

func TestReseedIsKeyed(t *testing.T) {
	s := NewStream(1, "jobs")
	s.Reseed(Key(7, 17, 3, 0))
	a := s.Float64()
	s.Float64()
	s.Reseed(Key(7, 17, 3, 0))
	if b := s.Float64(); a != b {
		t.Fatalf("same key, different draws: %v %v", a, b)
	}
	s.Reseed(Key(7, 17, 4, 0))
	if c := s.Float64(); c == a {
		t.Fatal("different keys, same draw")
	}
	if Key(1, 2, 3, 4) == Key(1, 3, 2, 4) {
		t.Fatal("Key ignores argument order")
	}
}

// TestZeroAllocHold: at 100,000 pending events (the calendar's radix heap,
// buckets taking and giving back storage) the kernel allocates nothing once
// warm.
func TestZeroAllocHold(t *testing.T) {
	env := New(Options{Seed: 1})
	s := env.Stream("hold")
	evs := make([]Event, 100000)
	left := 0
	hold := func() {
		left--
		if left <= 0 {
			env.Stop()
		}
		env.Schedule(env.Firing(), env.Now()+FromSeconds(s.ExpFloat64()), Default)
	}
	for i := range evs {
		evs[i].Init("hold", hold)
		env.Schedule(&evs[i], FromSeconds(s.ExpFloat64()), Default)
	}
	left = 1000000 // warm up: the pool holds what the buckets need
	env.Run()
	allocs := testing.AllocsPerRun(10, func() {
		left = 100000
		env.Run()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 100,000 events at 100,000 pending, want 0", allocs)
	}
}

// TestZeroAllocCompaction: cancelling many events compacts the calendar
// (Filter) without allocating once it has done so before (a machine
// model pausing its timers at every shift end compacts often).
func TestZeroAllocCompaction(t *testing.T) {
	env := New(Options{})
	evs := make([]Event, 5000)
	for i := range evs {
		evs[i].Init("e", func() {})
	}
	round := func() {
		for i := range evs {
			env.Schedule(&evs[i], env.Now()+Time(i*37%5000)+1, Default)
		}
		for i := range evs {
			if i%5 != 0 {
				env.Cancel(&evs[i]) // compacts past 1024 dead
			}
		}
		env.Run()
	}
	round()
	if allocs := testing.AllocsPerRun(10, round); allocs != 0 {
		t.Fatalf("%v allocations per round of 5,000 scheduled and 4,000 cancelled, want 0", allocs)
	}
}
