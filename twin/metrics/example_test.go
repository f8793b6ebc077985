package metrics_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"twin/twin/ingest"
	"twin/twin/metrics"
)

// The API's requests count by route pattern: two orders are one series.
// The figures of a package are read from its Stats() at the scrape.
func Example() {
	m := metrics.New(metrics.Options{NoRuntime: true})
	m.Watch(metrics.Sources{Ingest: func() ingest.Stats { return ingest.Stats{Events: 42} }})
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux := http.NewServeMux()
	m.Mount(mux)
	mux.Handle("/api/v1/", m.Instrument(api))
	for _, id := range []string{"PO-1", "PO-2"} {
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/orders/"+id, nil))
	}
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.RemoteAddr = "127.0.0.1:50000" // a loopback peer: no token needed
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	for sc := bufio.NewScanner(w.Body); sc.Scan(); {
		if l := sc.Text(); strings.HasPrefix(l, "twin_api_requests_total") || strings.HasPrefix(l, "twin_ingest_events_total") {
			fmt.Println(l)
		}
	}
	// Output:
	// twin_api_requests_total{code="200",route="GET /api/v1/orders/{id}"} 2
	// twin_ingest_events_total 42
}
