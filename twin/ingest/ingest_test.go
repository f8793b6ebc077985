package ingest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/state"
	"twin/twin/store"
)

func TestIngestAcksAfterStore(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	// the events are stamped in the first 2000 s of 1970: so is the clock
	in := New(st, nil, Options{Clock: Clock{Now: func() time.Time { return time.Unix(2000, 0) }}})
	var seen atomic.Int64
	cancel := in.Subscribe(func(event.Event) { seen.Add(1) })
	var wg sync.WaitGroup
	var acked atomic.Int64
	for b := 0; b < 50; b++ {
		evs := make([]event.Event, 20)
		for i := range evs {
			evs[i] = event.Event{Time: int64(b*20+i) * 1e9, Kind: event.Counter, Asset: "W1", Name: "good", Value: float64(b*20 + i)}
		}
		wg.Add(1)
		in.EmitBatch(evs, func(err error) {
			defer wg.Done()
			if err != nil {
				t.Error(err)
				return
			}
			// acknowledged: it must be readable from the store now
			n := 0
			st.Range(evs[0].Time, evs[len(evs)-1].Time, func(event.Event) error { n++; return nil })
			if n != len(evs) {
				t.Errorf("acked batch: %d of %d events in the store", n, len(evs))
			}
			acked.Add(int64(len(evs)))
		})
	}
	wg.Wait()
	cancel()
	in.Emit(event.Event{Time: 2000e9, Kind: event.Fault, Asset: "mqtt", Ref: "bad payload"})
	in.Close()
	if acked.Load() != 1000 || seen.Load() != 1000 {
		t.Errorf("acked %d, subscriber saw %d", acked.Load(), seen.Load())
	}
	var good float64
	in.View(func(s *state.State) { good = s.Asset("W1").Counters["good"] })
	stats := in.Stats()
	if good != 999 || stats.Events != 1001 || stats.Faults != 1 || stats.Stored != 1001 {
		t.Errorf("good %v, stats %+v", good, stats)
	}
	st.Close()
	st2, _ := store.Open(dir, store.Options{SnapshotEvery: -1})
	defer st2.Close()
	if st2.Seq() != 1001 {
		t.Errorf("store holds %d events after close", st2.Seq())
	}
}

// TestSlowSubscriber: a subscriber that stops taking events delays
// neither ingest nor another subscriber; what does not fit in its queue
// is dropped for it and counted, and what it gets comes in order.
func TestSlowSubscriber(t *testing.T) {
	in := New(nil, nil, Options{SubscriberQueue: 4, Clock: Clock{Now: func() time.Time { return time.Unix(2000, 0) }}})
	defer in.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	var slow, fast []float64
	var once sync.Once
	cancelSlow := in.Subscribe(func(e event.Event) {
		once.Do(func() { close(entered); <-release }) // stuck in its first event
		slow = append(slow, e.Value)
	})
	got := make(chan float64, 1)
	cancelFast := in.Subscribe(func(e event.Event) { got <- e.Value })
	emit := func(i int) {
		in.EmitBatch([]event.Event{{Time: int64(1000+i) * 1e9, Kind: event.Counter, Asset: "W1", Name: "good", Value: float64(i)}}, nil)
		fast = append(fast, <-got) // the fast one takes each event before the next
	}
	emit(1)
	<-entered // the slow one holds event 1; its queue is empty
	for i := 2; i <= 10; i++ {
		emit(i) // returns although the slow subscriber takes nothing
	}
	cancelFast()
	if want := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(fast, want) {
		t.Errorf("the fast subscriber got %v, want %v", fast, want)
	}
	if got := in.Stats().SubscriberDropped; got != 5 {
		t.Errorf("%d events dropped, want 5 (events 6 to 10: the slow queue holds 4)", got)
	}
	close(release)
	cancelSlow()
	if want := []float64{1, 2, 3, 4, 5}; !slices.Equal(slow, want) {
		t.Errorf("the slow subscriber got %v, want %v", slow, want)
	}
	var good float64
	in.View(func(s *state.State) { good = s.Asset("W1").Counters["good"] })
	if good != 10 {
		t.Errorf("the state holds %v, want 10", good)
	}
}

// BenchmarkIngest: events through the state into the durable store, in
// batches of 100 from 4 producers (connector goroutines).
func BenchmarkIngest(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	in := New(st, nil, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/4 + 1
	t0 := time.Now().Add(-time.Hour).UnixNano() // an hour of readings up to now: in the clock's bounds
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i += 100 {
				evs := make([]event.Event, 100)
				for k := range evs {
					evs[k] = event.Event{Time: t0 + int64(p*per+i+k)*1e3, Kind: event.Measure, Asset: "U" + string(rune('A'+k%20)), Name: "power_kw", Value: float64(k)}
				}
				in.EmitBatch(evs, nil)
			}
		}()
	}
	wg.Wait()
	in.Close()
	b.ReportMetric(float64(in.Stats().Stored)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkEmit: the ingest's own work per event (the clock's check, the
// state fold, the queue), without a store, in batches of 100.
func BenchmarkEmit(b *testing.B) {
	in := New(nil, nil, Options{})
	defer in.Close()
	t0 := time.Now().Add(-time.Hour).UnixNano()
	evs := make([]event.Event, 100)
	var assets [20]string
	for k := range assets {
		assets[k] = "U" + string(rune('A'+k))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for k := range evs {
			evs[k] = event.Event{Time: t0 + int64(i*100+k)*1e3, Kind: event.Measure, Asset: assets[k%20], Name: "power_kw", Value: float64(k)}
		}
		in.EmitBatch(evs, nil)
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// A twin that starts again on its history did not watch since the last
// thing it holds: its machines are unknown from then (kept in the
// history, of bad quality), so the KPIs count that stretch unobserved.
func TestUnobservedAfterRestart(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var s state.State
	s.Apply(event.Event{Time: 100, Kind: event.State, Asset: "W1", Value: float64(event.Running)})
	s.Apply(event.Event{Time: 100, Kind: event.State, Asset: "W2", Value: float64(event.Unknown)})
	in := New(st, &s, Options{Clock: Clock{Now: func() time.Time { return time.Unix(0, 200) }}})
	in.Unobserved(101)
	in.Close()
	got := in.Snapshot()
	if a := got.Asset("W1"); a.State != event.Unknown || a.Since != 101 || a.Quality != event.Bad {
		t.Fatalf("W1 after the restart: %+v", a)
	}
	n := 0
	st.Range(101, 101, func(e event.Event) error {
		if e.Kind != event.State || e.Asset != "W1" {
			t.Errorf("marked %v", e)
		}
		n++
		return nil
	})
	if n != 1 {
		t.Fatalf("%d markers in the history, want 1 (W2 was unknown already)", n)
	}
}

// gatedStore holds every Append until its gate is opened.
type gatedStore struct {
	gate chan struct{}
	mu   sync.Mutex
	n    int
}

func (s *gatedStore) Append(evs []event.Event) error {
	<-s.gate
	s.mu.Lock()
	s.n += len(evs)
	s.mu.Unlock()
	return nil
}

// TestFlush: Flush waits for the store to hold what was emitted before it
// (Emit does not): while the store is held, a Flush runs out of time;
// once it writes, Flush returns with everything in the store. After
// Close it fails.
func TestFlush(t *testing.T) {
	st := &gatedStore{gate: make(chan struct{})}
	in := New(st, nil, Options{Clock: Clock{Now: func() time.Time { return time.Unix(2000, 0) }}})
	for i := range 100 {
		in.Emit(event.Event{Time: int64(i) * 1e9, Kind: event.Counter, Asset: "W1", Name: "good", Value: float64(i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := in.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush with the store held: %v, want the deadline's error", err)
	}
	close(st.gate)
	if err := in.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	n := st.n
	st.mu.Unlock()
	if n != 100 {
		t.Errorf("after Flush the store holds %d of the 100 events emitted", n)
	}
	if s := in.Stats(); s.Stored != 100 || s.Batches == 0 {
		t.Errorf("stats after Flush: %+v", s)
	}
	in.Close()
	if err := in.Flush(context.Background()); err == nil {
		t.Error("Flush after Close: no error")
	}
}
