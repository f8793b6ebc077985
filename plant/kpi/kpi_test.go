package kpi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"twin/plant/event"
)

// stream is a random machine history: state changes, calendar changes and
// counts, each count planned at no more than its run when honest.
type step struct {
	at    int64
	kind  int // 0 state, 1 calendar, 2 count
	state event.MachineState
	on    bool
	good  float64
	rej   float64
	pru   time.Duration
}

func randomStream(r *rand.Rand, from int64, state event.MachineState, n int, honest bool) []step {
	var out []step
	t := from
	var run int64 // running since the last count
	for range n {
		dt := int64(r.IntN(int(2 * time.Hour)))
		if r.IntN(8) == 0 {
			dt = 0 // simultaneous events
		}
		if state == event.Running {
			run += dt
		}
		t += dt
		switch k := r.IntN(3); k {
		case 0:
			state = event.MachineState(r.IntN(10)) // 9: a code the twin does not know
			out = append(out, step{at: t, kind: 0, state: state})
		case 1:
			out = append(out, step{at: t, kind: 1, on: r.IntN(2) == 0})
		case 2:
			g, rj := float64(r.IntN(4)), float64(r.IntN(2))
			pru := time.Duration(r.Int64N(int64(time.Hour)))
			if honest {
				if g+rj == 0 {
					continue
				}
				pru = time.Duration(float64(run) / (g + rj) * r.Float64())
			}
			if g+rj > 0 {
				run = 0
			}
			out = append(out, step{at: t, kind: 2, good: g, rej: rj, pru: pru})
		}
	}
	return out
}

func play(m *Machine, s []step) {
	for _, x := range s {
		switch x.kind {
		case 0:
			m.State(x.at, x.state)
		case 1:
			m.Calendar(x.at, x.on)
		case 2:
			m.Count(x.at, x.good, x.rej, x.pru)
		}
	}
}

// The time model's invariants over random histories: availability and
// quality rate in [0, 1], effectiveness at most 1 when every run takes at
// least its planned time, OEE = A × E × Q, and the buckets partition the
// window.
func TestMachineProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		honest := i%2 == 0
		from := int64(1_700_000_000) * 1e9
		st := event.MachineState(r.IntN(9))
		s := randomStream(r, from, st, 1+r.IntN(60), honest)
		var m Machine
		m.Open(from, st, r.IntN(2) == 0, 0, true)
		play(&m, s)
		end := from
		if len(s) > 0 {
			end = s[len(s)-1].at
		}
		end += int64(r.IntN(int(time.Hour)))
		m.Close(end)
		tm, q := m.Times(), m.Quantities()
		f := Compute(tm, q)
		if got := tm.POT() + tm.OffShift + tm.Unobserved; int64(got) != end-from {
			t.Fatalf("case %d: buckets sum to %v, the window is %v (%+v)", i, got, time.Duration(end-from), tm)
		}
		if f.Availability < 0 || f.Availability > 1 {
			t.Fatalf("case %d: availability %v (%+v)", i, f.Availability, tm)
		}
		if f.QualityRate < 0 || f.QualityRate > 1 {
			t.Fatalf("case %d: quality rate %v", i, f.QualityRate)
		}
		if honest && f.Effectiveness > 1+1e-9 {
			t.Fatalf("case %d: effectiveness %v with every run at least its planned time (%+v, %+v)", i, f.Effectiveness, tm, q)
		}
		if !math.IsNaN(f.OEE) && f.OEE != f.Availability*f.Effectiveness*f.QualityRate {
			t.Fatalf("case %d: OEE %v ≠ A×E×Q", i, f.OEE)
		}
		if tm.Overtime > tm.APT+tm.AUST {
			t.Fatalf("case %d: overtime %v beyond production and setup", i, tm.Overtime)
		}
	}
}

// Consecutive windows add up to the window that spans them: times
// exactly, and the planned time too when the runs under way at each
// boundary are settled with their real end.
func TestWindowsAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		from := int64(1_800_000_000) * 1e9
		st0, on0 := event.Running, true
		s := randomStream(r, from, st0, 2+r.IntN(80), true)
		end := s[len(s)-1].at + 1
		var whole Machine
		whole.Open(from, st0, on0, 0, true)
		play(&whole, s)
		whole.Close(end)

		// split at random points into windows
		cuts := []int64{from}
		for range 1 + r.IntN(5) {
			cuts = append(cuts, from+r.Int64N(end-from))
		}
		cuts = append(cuts, end)
		sortInts(cuts)
		var sumT Times
		var sumQ Quantities
		st, on, run, known := st0, on0, time.Duration(0), true
		for w := 0; w+1 < len(cuts); w++ {
			a, b := cuts[w], cuts[w+1]
			var m Machine
			m.Open(a, st, on, run, known)
			var rest []step
			for k, x := range s {
				if x.at >= b {
					rest = s[k:]
					break
				}
				if x.at >= a {
					play(&m, []step{x})
				}
			}
			m.Close(b)
			// settle the open run with its real end: follow the stream on
			if in, _ := m.OpenRun(); in > 0 {
				left, planned, ok := runEnd(m.MachineState(), b, rest)
				if ok {
					m.Pending(left, planned)
				}
			}
			st, on = m.MachineState(), m.on
			run, known = m.Run()
			sumT.Add(m.Times())
			sumQ.Add(m.Quantities())
		}
		if sumT != whole.Times() {
			t.Fatalf("case %d: windows' times %+v, the whole's %+v", i, sumT, whole.Times())
		}
		wq := whole.Quantities()
		if sumQ.PQ != wq.PQ || sumQ.GQ != wq.GQ || sumQ.SQ != wq.SQ {
			t.Fatalf("case %d: windows' quantities %+v, the whole's %+v", i, sumQ, wq)
		}
		// the whole's open run at its end is not credited: the windows'
		// last one is not either (no end known); rounding of shares
		if d := math.Abs(float64(sumQ.Planned - wq.Planned)); d > float64(len(cuts))*2 {
			t.Fatalf("case %d: windows' planned %v, the whole's %v", i, sumQ.Planned, wq.Planned)
		}
	}
}

// runEnd follows a stream from a window's end at b (machine in state st)
// to the count that ends the run under way: the running time left and the
// planned time of what it makes.
func runEnd(st event.MachineState, b int64, rest []step) (left, planned time.Duration, ok bool) {
	last := b
	for _, x := range rest {
		if st == event.Running {
			left += time.Duration(x.at - last)
		}
		last = x.at
		switch x.kind {
		case 0:
			st = x.state
		case 2:
			if n := x.good + x.rej; n > 0 {
				return left, time.Duration(float64(x.pru) * n), true
			}
		}
	}
	return 0, 0, false
}

func sortInts(a []int64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// A part whose run began before the window counts only the share of its
// planned time the window saw.
func TestProRating(t *testing.T) {
	h := int64(time.Hour)
	var m Machine
	m.Open(0, event.Running, true, 2*time.Hour, true) // two hours into a cycle
	m.Count(h, 40, 0, 3*time.Hour/40)                 // a 3 h oven cycle of 40 parts ends
	m.State(h, event.Idle)
	m.Close(2 * h)
	tm, q := m.Times(), m.Quantities()
	if tm.APT != time.Hour || q.Planned != time.Hour || q.PQ != 40 {
		t.Fatalf("APT %v, planned %v, PQ %v: want 1h, 1h (a third of the cycle), 40", tm.APT, q.Planned, q.PQ)
	}
	if f := Compute(tm, q); f.Effectiveness != 1 || f.Availability != 0.5 {
		t.Fatalf("E %v A %v", f.Effectiveness, f.Availability)
	}
}

// Unobserved time is neither planned nor lost; overtime counts as planned.
func TestUnobservedAndOvertime(t *testing.T) {
	h := int64(time.Hour)
	var m Machine
	m.Open(0, event.Unknown, true, 0, true) // 00:00–09:00 unseen
	m.State(9*h, event.Running)             // seen from 09:00, running
	m.Calendar(17*h, false)                 // the shift ends at 17:00; it runs on
	m.State(18*h, event.Idle)               // to 18:00, then idles off shift
	m.Close(24 * h)
	tm := m.Times()
	if tm.Unobserved != 9*time.Hour || tm.APT != 9*time.Hour || tm.Overtime != time.Hour || tm.OffShift != 6*time.Hour || tm.PBT() != 9*time.Hour {
		t.Fatalf("%+v", tm)
	}
	if a := Compute(tm, Quantities{}).Availability; a != 1 {
		t.Fatalf("availability %v", a)
	}
}

func ExampleCompute() {
	h := int64(time.Hour)
	var m Machine
	m.Open(0, event.Running, true, 0, true)
	m.Count(h/2, 5, 1, 4*time.Minute) // 6 parts planned at 4 min each in 30 min
	m.State(h/2, event.Down)          // a failure for 15 min
	m.State(3*h/4, event.Idle)        // then nothing to do
	m.Close(h)
	f := Compute(m.Times(), m.Quantities())
	fmt.Printf("A %.3f E %.3f Q %.3f OEE %.3f\n", f.Availability, f.Effectiveness, f.QualityRate, f.OEE)
	// Output: A 0.500 E 0.800 Q 0.833 OEE 0.333
}
