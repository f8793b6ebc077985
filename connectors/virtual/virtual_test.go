package virtual

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
)

func TestVirtualPlantPaced(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var n, states atomic.Int64
	var last atomic.Int64
	start := time.Date(2026, 3, 3, 7, 0, 0, 0, p.Location) // a Tuesday, before the early shift
	v, err := New(p, Options{Seed: 1, Speed: 3600, Start: start, Sink: event.SinkFunc(func(e event.Event) {
		n.Add(1)
		if e.Kind == event.State {
			states.Add(1)
		}
		if e.Source != event.Live {
			t.Errorf("source %v", e.Source)
		}
		last.Store(e.Time)
	})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	v.Run(ctx)
	// 1.5 s at ×3600: about 1.5 h of plant time, the early shift started
	reached := v.Now().Sub(start)
	if reached < time.Hour || reached > 2*time.Hour {
		t.Errorf("plant clock advanced %v in 1.5 s at ×3600", reached)
	}
	if n.Load() == 0 || states.Load() < int64(len(p.Units)) || time.Unix(0, last.Load()).Before(start) {
		t.Errorf("%d events, %d state changes", n.Load(), states.Load())
	}
	if v.Events() != uint64(n.Load()) {
		t.Errorf("Events() %d, sink saw %d", v.Events(), n.Load())
	}
}
