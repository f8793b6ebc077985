package ingest

import (
	"testing"

	"twin/plant/event"
)

// folds is an Observer that counts what it was given.
type folds struct{ n int }

func (f *folds) Observe(float64) { f.n++ }

// TestFoldLatency: each batch's fold is measured once, the closed
// ingest's refusals not at all.
func TestFoldLatency(t *testing.T) {
	var f folds
	in := New(nil, nil, Options{FoldLatency: &f})
	for i := range 3 {
		in.EmitBatch([]event.Event{{Time: int64(i + 1), Kind: event.Counter, Asset: "M1", Name: "good", Value: 1}}, nil)
	}
	in.Close()
	in.Emit(event.Event{Time: 9, Kind: event.Counter, Asset: "M1", Name: "good"})
	if f.n != 3 {
		t.Fatalf("%d folds measured, want 3", f.n)
	}
}
