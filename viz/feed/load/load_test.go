package load

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/viz/feed"
)

func serve(tb testing.TB) (string, func()) {
	p, err := plant.Load("../../../testdata/plants/motor.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	tk := NewTicker(p, 100*time.Millisecond)
	f := feed.New(tk, feed.Options{Token: "t"})
	srv := httptest.NewServer(f)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?token=t", func() { f.Close(); srv.Close(); tk.Stop() }
}

// TestLoad: 50 clients at 10 updates/s each get about 10 messages a second,
// with no gaps.
func TestLoad(t *testing.T) {
	url, stop := serve(t)
	defer stop()
	r, err := Run(context.Background(), url, 50, 10, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Failed != 0 || r.Gaps != 0 || r.PerClient < 8 || r.PerClient > 11 {
		t.Fatalf("%v", r)
	}
}

// BenchmarkClients1000: 1,000 WebSocket clients on loopback, each at 10
// updates/s, the source changing 10 times a second; the latency from a
// scene being made to a client holding it. The bar: p99 < 100 ms.
func BenchmarkClients1000(b *testing.B) {
	url, stop := serve(b)
	defer stop()
	var last Result
	for i := 0; i < b.N; i++ {
		r, err := Run(context.Background(), url, 1000, 10, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		last = r
	}
	b.ReportMetric(float64(last.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(last.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(last.Max.Microseconds())/1000, "max-ms")
	b.ReportMetric(last.PerClient, "msgs/client/s")
	b.ReportMetric(float64(last.Clients), "clients")
	b.ReportMetric(float64(last.Gaps), "gaps")
	b.Log(last)
}
