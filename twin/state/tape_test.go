package state

import (
	"bytes"
	"testing"
)

// TestTapeAtEqualsFold checks that the tape's state at any time equals
// the fold of the events up to it, across checkpoints.
func TestTapeAtEqualsFold(t *testing.T) {
	evs := randomEvents(7, 5000)
	tp := NewTape(700)
	for _, e := range evs {
		tp.Emit(e)
	}
	if tp.Len() != len(evs) {
		t.Fatalf("len %d", tp.Len())
	}
	from, to := tp.Span()
	if from != evs[0].Time || to != evs[len(evs)-1].Time {
		t.Fatalf("span %d..%d", from, to)
	}
	for _, i := range []int{0, 1, 699, 700, 701, 1400, 2500, 4999} {
		ts := evs[i].Time
		var want State
		for _, e := range evs {
			if e.Time > ts {
				break
			}
			want.Apply(e)
		}
		a, _ := want.MarshalBinary()
		b, _ := tp.At(ts).MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("At(event %d): differs from the fold", i)
		}
	}
	if got := tp.At(from - 1); got.Applied != 0 {
		t.Fatalf("before the start: %d events applied", got.Applied)
	}
	a, _ := tp.End().MarshalBinary()
	b, _ := tp.At(to).MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatal("End differs from At(last)")
	}
}
