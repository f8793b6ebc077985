package metrics

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/ingest"
)

// BenchmarkScrape: one scrape of /metrics (the text format, as
// Prometheus asks for it by default here) with N connectors, every other
// source set, and the API's series of 20 routes; without the Go
// runtime's and the process's collectors (they cost the same whatever N,
// see BenchmarkScrapeRuntime).
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("connectors=%d", n), func(b *testing.B) { benchScrape(b, n, true) })
	}
}

// BenchmarkScrapeRuntime is BenchmarkScrape with 10 connectors and the
// go_* and process_* metrics, as twin serve serves them.
func BenchmarkScrapeRuntime(b *testing.B) { benchScrape(b, 10, false) }

func benchScrape(b *testing.B, n int, noRuntime bool) {
	m := New(Options{NoRuntime: noRuntime})
	conn, closed := ConnectorStats{Connected: true, Subscribed: true, Messages: 1e6, Malformed: map[string]uint64{"json": 3}}, false
	s := sources(&conn, &closed)
	s.Connectors = nil
	for i := range n {
		s.Connectors = append(s.Connectors, Connector{Kind: "mqtt", Name: fmt.Sprintf("tcp://10.0.0.%d:1883", i), Stats: func() ConnectorStats { return conn }})
	}
	m.Watch(s)
	for i := range 20 {
		m.requests.WithLabelValues(fmt.Sprintf("GET /api/v1/r%d/{id}", i), "200").Inc()
		m.duration.WithLabelValues(fmt.Sprintf("GET /api/v1/r%d/{id}", i)).Observe(0.01)
	}
	h := m.MetricsHandler()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:9"
	var size int
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}

// BenchmarkEmitMeasured is twin/ingest's BenchmarkEmit with the fold's
// latency measured into the histogram twin serve gives it: the
// difference is what measuring costs the hot path.
func BenchmarkEmitMeasured(b *testing.B) {
	for _, measured := range []bool{false, true} {
		b.Run(fmt.Sprintf("measured=%v", measured), func(b *testing.B) {
			opt := ingest.Options{}
			if measured {
				opt.FoldLatency = New(Options{NoRuntime: true}).Fold
			}
			in := ingest.New(nil, nil, opt)
			defer in.Close()
			t0 := time.Now().Add(-time.Hour).UnixNano()
			evs := make([]event.Event, 100)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				for k := range evs {
					evs[k] = event.Event{Time: t0 + int64(i*100+k)*1e3, Kind: event.Measure, Asset: "U" + string(rune('A'+k%20)), Name: "power_kw", Value: float64(k)}
				}
				in.EmitBatch(evs, nil)
			}
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
