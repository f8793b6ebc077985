package ingest

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/state"
	"twin/twin/store"
)

func TestClockCheck(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixNano()
	def := Clock{}.WithDefaults()
	for _, c := range []struct {
		name  string
		clock Clock
		t     int64
		want  Reason
	}{
		{"now", def, now, InBounds},
		{"at the skew", def, now + int64(DefaultMaxSkew), InBounds},
		{"past the skew", def, now + int64(DefaultMaxSkew) + 1, Ahead},
		{"2100", def, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Ahead},
		{"the end of int64", def, math.MaxInt64, Ahead},
		{"a week old (an outage)", def, now - int64(7*24*time.Hour), InBounds},
		{"at the age", def, now - int64(DefaultMaxAge), InBounds},
		{"past the age", def, now - int64(DefaultMaxAge) - 1, Old},
		{"1970", def, 1e9, Old},
		{"zero", def, 0, Old},
		{"the start of int64", def, math.MinInt64, Old},
		{"no skew bound", Clock{MaxSkew: -1}.WithDefaults(), math.MaxInt64, InBounds},
		{"no age bound", Clock{MaxAge: -1}.WithDefaults(), math.MinInt64, InBounds},
		{"a tight skew", Clock{MaxSkew: time.Second}.WithDefaults(), now + 2e9, Ahead},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.clock.Check(c.t, now); got != c.want {
				t.Errorf("Check(%d, %d) = %v, want %v", c.t, now, got, c.want)
			}
		})
	}
	// a receive clock at the ends of int64 does not overflow either
	if r := def.Check(math.MinInt64, math.MaxInt64); r != Old {
		t.Errorf("MinInt64 at MaxInt64: %v", r)
	}
	if r := def.Check(math.MaxInt64, math.MinInt64); r != Ahead {
		t.Errorf("MaxInt64 at MinInt64: %v", r)
	}
}

func TestSaturatingTimes(t *testing.T) {
	if UnixNano(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) != math.MaxInt64 || UnixNano(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)) != math.MinInt64 {
		t.Error("UnixNano does not saturate")
	}
	if at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC); UnixNano(at) != at.UnixNano() {
		t.Error("UnixNano changes a time in range")
	}
	if UnixMilli(math.MaxUint64) != math.MaxInt64 || UnixMilli(1772413200000) != 1772413200000*1e6 {
		t.Error("UnixMilli")
	}
}

// logCount is a slog handler that counts warnings.
type logCount struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		l.msgs = append(l.msgs, r.Message)
	}
	return nil
}
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCount) WithGroup(string) slog.Handler      { return l }

// TestQuarantine: readings stamped beyond the skew or the age are kept in
// the history as faults with what was received, counted by reason and
// logged once, and neither reach the state nor move its clock; the
// readings in bounds (an outage's backlog a week old, a clock a few
// minutes fast) go on as before.
func TestQuarantine(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	logs := &logCount{}
	in := New(st, nil, Options{Logger: slog.New(logs), Clock: Clock{Now: func() time.Time { return now }}})
	const w1 = "qijiang/stator/stator-line/winding/W1"
	at := func(d time.Duration) int64 { return now.Add(d).UnixNano() }
	y2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var acked sync.WaitGroup
	acked.Add(2)
	in.EmitBatch([]event.Event{
		{Time: at(-7 * 24 * time.Hour), Kind: event.Counter, Source: event.Live, Asset: w1, Name: "good", Value: 10},
		{Time: at(-time.Minute), Kind: event.Counter, Source: event.Live, Asset: w1, Name: "good", Value: 11},
		{Time: y2100, Kind: event.Counter, Source: event.Live, Asset: w1, Name: "good", Value: 999},
		{Time: 1e9, Kind: event.State, Source: event.Live, Asset: w1, Value: float64(event.Down)},
		{Time: at(4 * time.Minute), Kind: event.Measure, Source: event.Live, Asset: w1, Name: "power_kw", Value: 7.5},
	}, func(err error) { acked.Done() })
	// a connector that quarantined a reading itself hands over its fault,
	// raw payload and all; and a flood of bad readings logs once
	flood := make([]event.Event, 100)
	for i := range flood {
		flood[i] = event.Event{Time: y2100 + int64(i), Kind: event.Counter, Source: event.Live, Asset: w1, Name: "reject", Value: float64(i)}
	}
	flood[0] = Quarantine(event.Event{Time: y2100, Kind: event.Counter, Source: event.Live, Asset: w1, Name: "good", Value: 1000}, Ahead, now.UnixNano(),
		`mqtt topic gw/W1/good payload {"value": 1000, "ts": 4102444800000}`)
	in.EmitBatch(flood, func(err error) { acked.Done() })
	acked.Wait()

	s := in.Snapshot()
	a := s.Asset(w1)
	if a.Counters["good"] != 11 || a.State != event.Unknown || a.Measures["power_kw"] != 7.5 || len(a.Counters) != 1 {
		t.Errorf("the state took a quarantined reading: counters %v, state %v, measures %v", a.Counters, a.State, a.Measures)
	}
	if s.Time != at(4*time.Minute) {
		t.Errorf("the twin's clock is %v, want the newest reading in bounds, %v", time.Unix(0, s.Time).UTC(), now.Add(4*time.Minute))
	}
	stats := in.Stats()
	if stats.Quarantined["ahead"] != 101 || stats.Quarantined["old"] != 1 || len(stats.Quarantined) != 2 {
		t.Errorf("quarantined by reason: %v", stats.Quarantined)
	}
	logs.mu.Lock()
	if len(logs.msgs) != 2 { // one per reason
		t.Errorf("%d warnings logged for 102 quarantined readings: %q", len(logs.msgs), logs.msgs)
	}
	logs.mu.Unlock()

	// the history holds every reading: the quarantined as faults at the
	// receive time, with the claimed time and what was received
	var faults []event.Event
	n := 0
	if err := st.Range(math.MinInt64, math.MaxInt64, func(e event.Event) error {
		n++
		if e.Kind == event.Fault {
			faults = append(faults, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 105 || len(faults) != 102 {
		t.Fatalf("history: %d events, %d faults; want 105 and 102", n, len(faults))
	}
	var sawOld, sawRaw bool
	for _, f := range faults {
		if f.Time != now.UnixNano() || f.Asset != w1 || f.Quality != event.Bad {
			t.Fatalf("fault %+v: want it at the receive time on the reading's asset", f)
		}
		switch f.Name {
		case "quarantine/old":
			sawOld = true
			if f.Value != 1 || !strings.Contains(f.Ref, "claimed 1970-01-01T00:00:01Z") || !strings.Contains(f.Ref, "state "+w1+" down") || !strings.Contains(f.Ref, "behind the receive clock") {
				t.Errorf("the 1970 reading's fault: %v %q", f.Value, f.Ref)
			}
		case "quarantine/ahead":
			if strings.Contains(f.Ref, "gw/W1/good") {
				sawRaw = strings.Contains(f.Ref, `payload {"value": 1000, "ts": 4102444800000}`) && strings.Contains(f.Ref, "claimed 2100-01-01T00:00:00Z")
			}
			if f.Value < 4.1e9 || !strings.Contains(f.Ref, "ahead of the receive clock (2026-12-01T09:00:00Z)") {
				t.Errorf("a 2100 reading's fault: %v %q", f.Value, f.Ref)
			}
		default:
			t.Errorf("fault %q", f.Name)
		}
	}
	if !sawOld || !sawRaw {
		t.Errorf("old fault %v, the connector's raw payload kept %v", sawOld, sawRaw)
	}
	in.Close()
	// the history folds to the same state: the faults do not move the clock there either
	folded, err := st.StateAt(math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	if folded.Time != s.Time || folded.Faults() != 102 {
		t.Errorf("history's state: time %v, %d faults", time.Unix(0, folded.Time).UTC(), folded.Faults())
	}
}

// TestGuardAllocs: checking readings in bounds allocates nothing.
func TestGuardAllocs(t *testing.T) {
	in := New(nil, &state.State{}, Options{})
	defer in.Close()
	evs := make([]event.Event, 100)
	now := time.Now().UnixNano()
	for i := range evs {
		evs[i] = event.Event{Time: now - int64(i)*1e6, Kind: event.Measure, Asset: "U", Name: "power_kw", Value: 1}
	}
	if n := testing.AllocsPerRun(100, func() { in.guard(evs) }); n != 0 {
		t.Errorf("guard allocates %v times per batch of 100", n)
	}
}

// BenchmarkGuard: the clock's check of a batch of 100 readings in bounds
// (what EmitBatch adds per batch for the quarantine).
func BenchmarkGuard(b *testing.B) {
	in := New(nil, nil, Options{})
	defer in.Close()
	evs := make([]event.Event, 100)
	now := time.Now().UnixNano()
	for i := range evs {
		evs[i] = event.Event{Time: now - int64(i)*1e6, Kind: event.Measure, Asset: "U", Name: "power_kw", Value: 1}
	}
	b.ReportAllocs()
	for b.Loop() {
		in.guard(evs)
	}
}
