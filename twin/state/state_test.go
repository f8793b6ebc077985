package state

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"twin/plant/event"
)

const w2 = "qijiang/motor/stator/winding/W2"

func ev(t int64, k event.Kind, asset, name, ref string, v float64) event.Event {
	return event.Event{Time: t, Kind: k, Source: event.Live, Asset: asset, Name: name, Ref: ref, Value: v}
}

func TestApply(t *testing.T) {
	var s State
	for _, e := range []event.Event{
		ev(10, event.State, w2, "", "", float64(event.Running)),
		ev(11, event.OpStarted, w2, "wind", "O1/stator/3", 0),
		ev(12, event.Counter, w2, "good", "", 41),
		ev(13, event.Measure, w2, "power_kw", "", 7.5),
		ev(14, event.Alarm, w2, "failure/jam", "wire jam", 700),
		ev(15, event.State, w2, "", "", float64(event.Running)), // no change: Since stays
		ev(16, event.Moved, "qijiang/motor/stator/oven/buffer", "", "O1/stator/3", 4),
		ev(17, event.Order, "M-small", "released", "O1", 5),
		ev(17, event.Order, "M-small", "due", "O1", 86400),
		ev(17, event.Order, "M-small", "priority", "O1", 2),
		ev(18, event.Order, "M-small", "progress", "O1", 3),
		ev(19, event.OpFinished, w2, "wind", "O1/stator/3", 1),
		ev(20, event.Fault, "mqtt", "payload", "not JSON", 0),
	} {
		s.Apply(e)
	}
	a := s.Asset(w2)
	if a.State != event.Running || a.Since != 10 || a.Counters["good"] != 41 || a.Measures["power_kw"] != 7.5 {
		t.Fatalf("asset %+v", a)
	}
	if a.Job != "" || a.Alarms["failure/jam"].Text != "wire jam" {
		t.Fatalf("job %q alarms %v", a.Job, a.Alarms)
	}
	if b := s.Buffer("qijiang/motor/stator/oven/buffer"); b.Level != 4 {
		t.Fatalf("buffer %+v", b)
	}
	if o := s.Order("O1"); o.Status != "progress" || o.Done != 3 || o.Released != 17 || o.Quantity != 5 ||
		o.Product != "M-small" || o.Due != 86400e9 || o.Priority != 2 {
		t.Fatalf("order %+v", o)
	}
	// the Fault at 20 is counted but does not move the clock
	if s.Time != 19 || s.Applied != 13 || s.Faults() != 1 {
		t.Fatalf("time %d applied %d faults %d", s.Time, s.Applied, s.Faults())
	}
	s.Apply(ev(21, event.Alarm, w2, "failure/jam", "", 0))
	s.Apply(ev(22, event.Order, "qijiang", "completed", "O1", 5))
	if len(a.Alarms) != 0 || s.Order("O1").Status != "completed" || s.Order("O1").Done != 5 {
		t.Fatal("alarm not cleared or order not completed")
	}
}

// randomEvents makes a reproducible mixed stream.
func randomEvents(seed uint64, n int) []event.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	assets := []string{w2, "a/b/c/d/P1", "a/b/c/d/P2"}
	out := make([]event.Event, n)
	for i := range out {
		a := assets[r.IntN(len(assets))]
		switch r.IntN(6) {
		case 0:
			out[i] = ev(int64(i), event.State, a, "", "", float64(r.IntN(9)))
		case 1:
			out[i] = ev(int64(i), event.Counter, a, "good", "", float64(i))
		case 2:
			out[i] = ev(int64(i), event.Measure, a, "power_kw", "", r.Float64()*10)
		case 3:
			out[i] = ev(int64(i), event.Moved, a+"/buffer", "", "p", float64(r.IntN(20)))
		case 4:
			out[i] = ev(int64(i), event.Alarm, a, "x", "t", float64(r.IntN(2)*500))
		default:
			out[i] = ev(int64(i), event.Order, "s", []string{"released", "progress", "completed"}[r.IntN(3)], "O"+string(rune('A'+r.IntN(5))), float64(r.IntN(9)))
		}
	}
	return out
}

// The fold is deterministic, snapshots round-trip exactly, and a state
// restored from a snapshot then fed the rest equals the state fed all.
func TestSnapshotSeekEqualsFullFold(t *testing.T) {
	evs := randomEvents(3, 5000)
	var full State
	for _, e := range evs {
		full.Apply(e)
	}
	var head State
	for _, e := range evs[:2000] {
		head.Apply(e)
	}
	snap, _ := head.MarshalBinary()
	var seek State
	if err := seek.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	again, _ := seek.MarshalBinary()
	if !bytes.Equal(snap, again) {
		t.Fatal("snapshot does not round-trip")
	}
	for _, e := range evs[2000:] {
		seek.Apply(e)
	}
	a, _ := full.MarshalBinary()
	b, _ := seek.MarshalBinary()
	c, _ := full.Clone().MarshalBinary()
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Fatal("seek (snapshot + tail) differs from the full fold, or Clone differs")
	}
}

func TestCorruptSnapshot(t *testing.T) {
	var s State
	for _, e := range randomEvents(4, 300) {
		s.Apply(e)
	}
	good, _ := s.MarshalBinary()
	for _, bad := range [][]byte{nil, {2}, good[:len(good)-1], append(append([]byte{}, good...), 0)} {
		var x State
		if err := x.UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decoding %d bytes: %v, want ErrCorrupt", len(bad), err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	var s State
	for _, e := range randomEvents(5, 200) {
		s.Apply(e)
	}
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var x State
		if x.UnmarshalBinary(data) != nil {
			return
		}
		// Input may be non-canonical (repeated keys, unsorted maps), but
		// what it decodes to encodes canonically: encode, decode, encode
		// gives the same bytes.
		once, _ := x.MarshalBinary()
		var y State
		if err := y.UnmarshalBinary(once); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if twice, _ := y.MarshalBinary(); !bytes.Equal(once, twice) {
			t.Fatal("encoding is not stable")
		}
	})
}

func BenchmarkApply(b *testing.B) {
	evs := randomEvents(6, 100000)
	var s State
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Apply(evs[i%len(evs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// The run since the last count: what a KPI window opening mid-cycle needs.
func TestCycle(t *testing.T) {
	var s State
	for _, e := range []event.Event{
		ev(100, event.State, w2, "", "", float64(event.Running)),
		ev(160, event.Counter, w2, "good", "", 1), // first reading: a base, not a count
	} {
		s.Apply(e)
	}
	a := s.Asset(w2)
	if r, known := a.Run(170); known || r != 70 {
		t.Fatalf("before any count: run %v, known %v; want the 70ns seen, not known", r, known)
	}
	for _, e := range []event.Event{
		ev(200, event.State, w2, "", "", float64(event.Down)),
		ev(260, event.State, w2, "", "", float64(event.Running)),
		ev(300, event.Counter, w2, "good", "", 2), // a count
		ev(330, event.Counter, w2, "good", "", 2), // no change: no count
		ev(400, event.State, w2, "", "", float64(event.Idle)),
		ev(450, event.State, w2, "", "", float64(event.Running)),
	} {
		s.Apply(e)
	}
	// running 300–400 and 450–500
	if got, known := a.Run(500); got != 150 || !known {
		t.Fatalf("run at 500: %v (known %v), want 150ns", got, known)
	}
	b, _ := s.MarshalBinary()
	var c State
	if err := c.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got, known := c.Asset(w2).Run(500); got != 150 || !known {
		t.Fatalf("after a snapshot: %v, %v", got, known)
	}
	if in := a.KPI(500); in.Run != 150 || !in.RunKnown || !in.HasGood || in.Good != 2 || in.HasReject || in.State != event.Running {
		t.Fatalf("KPI start %+v", in)
	}
	s.Apply(ev(600, event.State, w2, "", "", float64(event.Unknown))) // its source went away
	s.Apply(ev(700, event.State, w2, "", "", float64(event.Running)))
	if r, known := a.Run(800); known {
		t.Fatalf("run known across an unwatched stretch: %v", r)
	}
}
