package sim

import (
	"fmt"
	"strings"
	"testing"
)

// log records "time:what" lines for compact assertions.
type log []string

func (l *log) add(env *Env, format string, args ...any) {
	*l = append(*l, fmt.Sprintf("%d:", int64(env.Now()/Second))+fmt.Sprintf(format, args...))
}

func (l log) String() string { return strings.Join(l, " ") }

func TestHoldAndFinish(t *testing.T) {
	env := New(Options{})
	var l log
	p := env.Process("p", func(p *Proc, step int) {
		l.add(env, "step%d", step)
		if step < 2 {
			p.Hold(Second, step+1)
		}
	})
	waiter := env.Process("w", func(w *Proc, step int) {
		if step == 0 {
			w.Join(p, 1)
			return
		}
		l.add(env, "joined")
	})
	env.Run()
	if got, want := l.String(), "0:step0 1:step1 2:step2 2:joined"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !p.Finished() || !waiter.Finished() {
		t.Fatal("processes did not finish")
	}
}

func TestTwoBlockingCallsPanic(t *testing.T) {
	env := New(Options{})
	env.Process("bad", func(p *Proc, step int) {
		p.Hold(Second, 1)
		p.Hold(Second, 2)
	})
	defer func() {
		if recover() == nil {
			t.Fatal("two blocking calls in one step did not panic")
		}
	}()
	env.Run()
}

func TestInterruptHold(t *testing.T) {
	env := New(Options{})
	var l log
	worker := env.Process("worker", func(p *Proc, step int) {
		switch step {
		case 0:
			p.Hold(10*Second, 1)
		case 1:
			if in := p.Interrupted(); in != nil {
				l.add(env, "interrupted(%v, left %v)", in.Cause, in.Remaining)
				p.Hold(in.Remaining, 1)
				return
			}
			l.add(env, "done")
		}
	})
	env.Process("breaker", func(p *Proc, step int) {
		if step == 0 {
			p.Hold(3*Second, 1)
			return
		}
		if !worker.Interrupt("jam") {
			t.Error("interrupt refused")
		}
	})
	env.Run()
	if got, want := l.String(), "3:interrupted(jam, left 7s) 10:done"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if worker.Interrupt("late") {
		t.Fatal("interrupting a finished process succeeded")
	}
}

func TestPassivateActivate(t *testing.T) {
	env := New(Options{})
	var l log
	sleeper := env.Process("sleeper", func(p *Proc, step int) {
		if step == 0 {
			p.Passivate(1)
			return
		}
		l.add(env, "woken")
	})
	env.Process("waker", func(p *Proc, step int) {
		if step == 0 {
			p.Hold(5*Second, 1)
			return
		}
		if !sleeper.Activate() {
			t.Error("activate refused")
		}
		if sleeper.Activate() {
			t.Error("second activate accepted")
		}
	})
	env.Run()
	if l.String() != "5:woken" {
		t.Fatalf("got %q", l)
	}
}

func TestRestartReusesProcess(t *testing.T) {
	env := New(Options{})
	n := 0
	var body ProcFunc = func(p *Proc, step int) { n++ }
	p := env.Process("a", body)
	env.Run()
	p.Restart("b", body)
	env.Run()
	if n != 2 || p.Name() != "b" {
		t.Fatalf("ran %d times, name %q", n, p.Name())
	}
}

func TestResourceFIFOAndStats(t *testing.T) {
	env := New(Options{})
	r := env.NewResource("m", 2, FIFO)
	var l log
	for i := 0; i < 4; i++ {
		env.Process(fmt.Sprint(i), func(p *Proc, step int) {
			switch step {
			case 0:
				p.Hold(Time(i)*Second, 1) // arrive at 0, 1, 2, 3
			case 1:
				r.Request(p, 2)
			case 2:
				l.add(env, "got%d", i)
				p.Hold(10*Second, 3)
			case 3:
				r.Release(p)
			}
		})
	}
	env.Run()
	if got, want := l.String(), "0:got0 1:got1 10:got2 11:got3"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Waits: 0, 0, 8, 8 seconds.
	if r.Wait.N() != 4 || r.Wait.Mean() != 4 || r.Wait.Max() != 8 {
		t.Fatalf("wait n=%d mean=%v max=%v", r.Wait.N(), r.Wait.Mean(), r.Wait.Max())
	}
	// Busy units: 1 on [0,1), 2 on [1,20), 1 on [20,21) → 40 unit-seconds over 21 s.
	if got := r.Busy.Mean(env.Now()); env.Now() != 21*Second || !near(got, 40.0/21, 1e-12) {
		t.Fatalf("busy mean %v at %v", got, env.Now())
	}
}

func near(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }

func TestResourcePriority(t *testing.T) {
	env := New(Options{})
	r := env.NewResource("m", 1, PriorityOrder)
	var l log
	for i, prio := range []int{5, 3, 9, 3, 1} {
		env.Process(fmt.Sprint(i), func(p *Proc, step int) {
			switch step {
			case 0:
				r.RequestPrio(p, prio, 1)
			case 1:
				l.add(env, "p%d", prio)
				p.Hold(Second, 2)
			case 2:
				r.Release(p)
			}
		})
	}
	env.Run()
	// The first request is served at once; the rest by priority, FIFO
	// among equal priorities.
	if got, want := l.String(), "0:p5 1:p1 2:p3 3:p3 4:p9"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestResourcePreemption(t *testing.T) {
	env := New(Options{})
	r := env.NewResource("repairman", 1, Preemptive)
	var l log
	low := env.Process("low", func(p *Proc, step int) {
		switch step {
		case 0:
			r.RequestPrio(p, 2, 1)
		case 1:
			p.Hold(10*Second, 2)
		case 2:
			if in := p.Interrupted(); in != nil {
				if !in.Preempted || in.Resource != r || in.By.Name() != "high" || r.Holds(p) {
					t.Errorf("preemption interrupt %+v", in)
				}
				l.add(env, "preempted(left %v)", in.Remaining)
				r.RequestPrio(p, 2, 3)
				return
			}
			l.add(env, "low done")
			r.Release(p)
		case 3:
			l.add(env, "low back")
			p.Hold(Second, 4)
		case 4:
			r.Release(p)
		}
	})
	env.Process("high", func(p *Proc, step int) {
		switch step {
		case 0:
			p.Hold(4*Second, 1)
		case 1:
			r.RequestPrio(p, 1, 2)
		case 2:
			l.add(env, "high got it")
			p.Hold(3*Second, 3)
		case 3:
			r.Release(p)
		}
	})
	// An equal-priority request never preempts.
	env.Process("peer", func(p *Proc, step int) {
		switch step {
		case 0:
			p.Hold(5*Second, 1)
		case 1:
			r.RequestPrio(p, 1, 2)
		case 2:
			l.add(env, "peer got it")
			r.Release(p)
		}
	})
	env.Run()
	if got, want := l.String(), "4:preempted(left 6s) 4:high got it 7:peer got it 7:low back"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !low.Finished() {
		t.Fatal("low did not finish")
	}
}

func TestRenegeWithin(t *testing.T) {
	env := New(Options{})
	r := env.NewResource("counter", 1, FIFO)
	var l log
	for i, patience := range []Time{100, 3, 20} {
		env.Process(fmt.Sprint(i), func(p *Proc, step int) {
			switch step {
			case 0:
				p.Within(patience * Second)
				r.Request(p, 1)
			case 1:
				if p.TimedOut() {
					l.add(env, "%d reneged", i)
					return
				}
				l.add(env, "%d served", i)
				p.Hold(10*Second, 2)
			case 2:
				r.Release(p)
			}
		})
	}
	env.Run()
	if got, want := l.String(), "0:0 served 3:1 reneged 10:2 served"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if r.Waiting() != 0 || r.InUse() != 0 || env.Pending() != 0 {
		t.Fatalf("left behind: waiting %d in use %d pending %d", r.Waiting(), r.InUse(), env.Pending())
	}
}

func TestStoreFIFOAndBlockingPut(t *testing.T) {
	env := New(Options{})
	s := NewStore[string](env, "buffer", 2)
	var l log
	env.Process("producer", func(p *Proc, step int) {
		items := []string{"a", "b", "c", "d"}
		if step > 0 {
			l.add(env, "put%s", items[step-1]) // the put completed
		}
		if step < len(items) {
			s.Put(p, items[step], step+1)
		}
	})
	var got string
	env.Process("consumer", func(p *Proc, step int) {
		switch step {
		case 0:
			p.Hold(5*Second, 1)
		case 1:
			s.Get(p, &got, 2)
		case 2:
			l.add(env, "got%s", got)
			if got != "d" {
				p.Hold(Second, 1)
			}
		}
	})
	env.Run()
	// Room for two: c waits until a is taken at 5, d until b is taken at 6.
	want := "0:puta 0:putb 5:gota 5:putc 6:gotb 6:putd 7:gotc 8:gotd"
	if l.String() != want {
		t.Fatalf("got  %q\nwant %q", l, want)
	}
}

func TestStoreFilteredGet(t *testing.T) {
	env := New(Options{})
	s := NewStore[int](env, "parts", 0)
	var l log
	var even, any int
	env.Process("evens", func(p *Proc, step int) {
		if step == 0 {
			s.GetFunc(p, &even, func(v int) bool { return v%2 == 0 }, 1)
			return
		}
		l.add(env, "even%d", even)
	})
	env.Process("anyone", func(p *Proc, step int) {
		if step == 0 {
			p.Hold(Second, 1)
			return
		}
		if step == 1 {
			s.Get(p, &any, 2)
			return
		}
		l.add(env, "any%d", any)
	})
	env.Process("feeder", func(p *Proc, step int) {
		switch step {
		case 0:
			p.Hold(2*Second, 1)
		case 1:
			s.TryPut(3) // odd: the evens getter waits on, anyone takes it
			s.TryPut(4) // the evens getter takes it
		}
	})
	env.Run()
	if got, want := l.String(), "2:any3 2:even4"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if v, ok := s.TryGet(nil); ok {
		t.Fatalf("store should be empty, got %d", v)
	}
}

func TestContainer(t *testing.T) {
	env := New(Options{})
	tank := env.NewContainer("varnish", 100, 10)
	var l log
	env.Process("oven", func(p *Proc, step int) {
		if step == 0 {
			tank.Get(p, 40, 1)
			return
		}
		l.add(env, "drew40 left%.0f", tank.Amount())
	})
	env.Process("supplier", func(p *Proc, step int) {
		switch step {
		case 0:
			p.Hold(3*Second, 1)
		case 1:
			tank.Put(p, 50, 2)
		case 2:
			l.add(env, "filled%.0f", tank.Amount())
			tank.Add(500) // clamps at capacity
		}
	})
	env.Run()
	// The put of 50 (level 60) lets the oven draw 40 (level 20); the
	// supplier resumes first, then the oven sees the clamped top-up.
	if got, want := l.String(), "3:filled20 3:drew40 left100"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestSignal(t *testing.T) {
	env := New(Options{})
	var shiftStart Signal
	var l log
	for i := 0; i < 3; i++ {
		env.Process(fmt.Sprint(i), func(p *Proc, step int) {
			if step == 0 {
				shiftStart.Wait(p, 1)
				return
			}
			l.add(env, "w%d", i)
		})
	}
	env.Process("bell", func(p *Proc, step int) {
		if step == 0 {
			p.Hold(6*Second, 1)
			return
		}
		if n := shiftStart.Fire(); n != 3 {
			t.Errorf("woke %d", n)
		}
	})
	env.Run()
	if got, want := l.String(), "6:w0 6:w1 6:w2"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestServedAtOnceKeepsOrder: a Get served in the step that made it runs
// the next step without an event, but only when nothing else is due then:
// an urgent event the rest of the step schedules for now still fires
// first, a Stop in that step still stops before the next step, and the
// later events see the same order as without the shortcut.
func TestServedAtOnceKeepsOrder(t *testing.T) {
	t.Run("urgent after the get", func(t *testing.T) {
		env := New(Options{})
		var l log
		s := NewStore[int](env, "s", 0)
		s.TryPut(7)
		urgent := NewEvent("urgent", func() { l.add(env, "urgent") })
		var got int
		env.Process("p", func(p *Proc, step int) {
			switch step {
			case 0:
				s.Get(p, &got, 1)
				env.Schedule(urgent, env.Now(), Urgent)
			case 1:
				l.add(env, "got%d", got)
			}
		})
		env.Run()
		if want := "0:urgent 0:got7"; l.String() != want {
			t.Fatalf("got %q, want %q", l.String(), want)
		}
	})
	t.Run("served at once", func(t *testing.T) {
		env := New(Options{})
		var l log
		s := NewStore[int](env, "s", 0)
		s.TryPut(1)
		s.TryPut(2)
		var got int
		env.Process("p", func(p *Proc, step int) {
			switch step {
			case 0, 1:
				if step == 1 {
					l.add(env, "got%d", got)
				}
				s.Get(p, &got, 1)
			}
		})
		env.Run()
		if want := "0:got1 0:got2"; l.String() != want {
			t.Fatalf("got %q, want %q", l.String(), want)
		}
		if env.Fired() != 1 {
			t.Errorf("fired %d events, want 1 (the start; the gets were served at once)", env.Fired())
		}
	})
	t.Run("stop in the step", func(t *testing.T) {
		env := New(Options{})
		var l log
		s := NewStore[int](env, "s", 0)
		s.TryPut(7)
		var got int
		env.Process("p", func(p *Proc, step int) {
			switch step {
			case 0:
				env.Stop()
				s.Get(p, &got, 1)
			case 1:
				l.add(env, "got%d", got)
			}
		})
		env.Run()
		if len(l) != 0 {
			t.Fatalf("the step after a stop ran: %q", l.String())
		}
		env.Run()
		if want := "0:got7"; l.String() != want {
			t.Fatalf("after resuming the run: got %q, want %q", l.String(), want)
		}
	})
}
