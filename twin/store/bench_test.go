package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/state"
)

// BenchmarkAppend: durable appends (fsync before return) by batch size.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 8192} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s := open(b, b.TempDir(), Options{SnapshotEvery: -1})
			defer s.Close()
			evs := events(8, n, 1_700_000_000e9)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := range evs {
					evs[k].Time += 1e9
				}
				if err := s.Append(evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// bigStore builds (once, cached under the temp dir) a store of n events of
// 200 assets, one every 10 ms of plant time, with the default snapshots.
func bigStore(b *testing.B, n int) (*Store, int64, int64) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("twin-store-bench-%d", n))
	t0 := int64(1_700_000_000e9)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err != nil {
		os.RemoveAll(dir)
		s := open(b, dir, Options{NoSync: true})
		r := rand.New(rand.NewPCG(9, 9))
		batch := make([]event.Event, 10000)
		for i := 0; i < n; i += len(batch) {
			for k := range batch {
				t := t0 + int64(i+k)*10e6
				a := fmt.Sprintf("qijiang/area%d/line/wc%d/U%d", r.IntN(4), r.IntN(10), r.IntN(200))
				switch r.IntN(3) {
				case 0:
					batch[k] = event.Event{Time: t, Kind: event.State, Asset: a, Value: float64(1 + r.IntN(8))}
				case 1:
					batch[k] = event.Event{Time: t, Kind: event.Counter, Asset: a, Name: "good", Value: float64(i + k)}
				default:
					batch[k] = event.Event{Time: t, Kind: event.Measure, Asset: a, Name: "power_kw", Value: r.Float64() * 20}
				}
			}
			if err := s.Append(batch); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
		os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644)
	}
	s := open(b, dir, Options{SnapshotEvery: -1})
	return s, t0, t0 + int64(n-1)*10e6
}

// BenchmarkReplay: events/s read back, decoded and folded into a state,
// as fast as possible, over the whole 10M-event store.
func BenchmarkReplay(b *testing.B) {
	s, from, to := bigStore(b, 10_000_000)
	defer s.Close()
	b.ResetTimer()
	total := 0
	for i := 0; i < b.N; i++ {
		var st state.State
		n, err := s.Replay(context.Background(), from, to, 0, event.SinkFunc(st.Apply))
		if err != nil {
			b.Fatal(err)
		}
		if st.Applied != uint64(n) {
			b.Fatalf("folded %d of %d events", st.Applied, n)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStateAt: the state at a random instant of a 10M-event store
// (one snapshot plus the events after it).
func BenchmarkStateAt(b *testing.B) {
	s, from, to := bigStore(b, 10_000_000)
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 1))
	b.ResetTimer()
	var worst time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := s.StateAt(from + r.Int64N(to-from)); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, time.Since(t0))
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/seek")
	b.ReportMetric(float64(worst.Microseconds())/1000, "ms-worst")
}
