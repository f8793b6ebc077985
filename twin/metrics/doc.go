// Package metrics exports the running twin's figures for plant IT's
// monitoring: /metrics in the Prometheus text format, /healthz
// (liveness) and /readyz (readiness: every connector connected and
// subscribed, the history and the records open).
//
// It keeps no second count of what the packages count already: at each
// scrape it reads their Stats() (ingest, store, each connector, the feed,
// the records, the sign-in throttler) through the funcs of Sources. What
// no package measured before it measures itself: the latency histograms
// ingest and the store fill through their Options' Observer
// (FoldLatency, AppendLatency, CommitLatency) and the API's requests, by
// route pattern and status, through Instrument. Every metric is listed,
// with its type, labels and meaning, in METRICS.md (generated from the
// table in metrics.go; a test keeps the two in step).
//
// It is not a metrics library (that is client_golang's), nor a
// time-series store (Prometheus scrapes and keeps), nor the status line
// twin serve prints.
//
// /metrics answers only to a loopback peer, like a Prometheus exporter
// on the same host, unless Options.Token is set: then every peer must
// send "Authorization: Bearer TOKEN". A request that a proxy forwarded
// (Forwarded, X-Forwarded-For, X-Real-IP) is not a loopback peer's.
//
//	m := metrics.New(metrics.Options{Token: os.Getenv("TWIN_METRICS_TOKEN")})
//	st, _ := store.Open(dir, store.Options{AppendLatency: m.Append, CommitLatency: m.Commit})
//	in := ingest.New(st, nil, ingest.Options{FoldLatency: m.Fold})
//	m.Watch(metrics.Sources{Ingest: in.Stats, Store: st.Stats})
//	mux := http.NewServeMux()
//	m.Mount(mux)                                   // /metrics, /healthz, /readyz
//	mux.Handle("/api/v1/", m.Instrument(apiHandler)) // requests by route and status
package metrics
