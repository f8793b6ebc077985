package metrics

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"twin/twin/disk"
	"twin/twin/ingest"
	"twin/twin/mes"
	"twin/twin/store"
)

// sources are fixed figures, in the shapes the packages' Stats() have.
func sources(conn *ConnectorStats, closed *bool) Sources {
	return Sources{
		Ingest: func() ingest.Stats {
			return ingest.Stats{Events: 7, Stored: 6, Quarantined: map[string]uint64{"ahead": 2}}
		},
		Store:   func() store.Stats { return store.Stats{Seq: 40, LSMBytes: 1000, Late: 3} },
		Feed:    func() FeedStats { return FeedStats{Clients: 2, Sent: 9} },
		Records: func() mes.Stats { return mes.Stats{Started: 4, Confirmed: 3, Refused: 1} },
		Disk:    func() disk.Stats { return disk.Stats{FreeBytes: 5 << 30, Reserve: 512 << 20} },
		Backup:  func() BackupStats { return BackupStats{Runs: 2, LastBytes: 1 << 20} },
		Connectors: []Connector{{Kind: "mqtt", Name: "tcp://10.0.0.5:1883", Stats: func() ConnectorStats { return *conn }},
			{Kind: "opcua", Name: "opc.tcp://plc:4840", Stats: func() ConnectorStats {
				return ConnectorStats{Connected: true, Subscribed: true, Malformed: map[string]uint64{"value": 0}}
			}}},
		Checks: []Check{{Name: "history", NotReady: func() string {
			if *closed {
				return "closed"
			}
			return ""
		}}},
	}
}

// scrape reads /metrics of h as a loopback peer and parses it with
// Prometheus' own text parser.
func scrape(t *testing.T, h http.Handler, header ...string) map[string]*dto.MetricFamily {
	t.Helper()
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", w.Code, w.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value is the value of the series of fam with the labels (name, value
// pairs), or -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(m.Label, func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestEveryMetricInTheTable: with every source given, /metrics shows
// every metric of the table (so of METRICS.md) with its type and labels,
// and no twin_ metric the table does not have.
func TestEveryMetricInTheTable(t *testing.T) {
	m := New(Options{})
	conn, closed := ConnectorStats{Connected: true, Subscribed: true, Malformed: map[string]uint64{"json": 1}}, false
	s := sources(&conn, &closed)
	s.Throttle = func() ThrottleStats { return ThrottleStats{Locked: 1} }
	m.Watch(s)
	m.Fold.Observe(1e-5)
	m.Append.Observe(1e-3)
	m.Commit.Observe(1e-3)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	r := httptest.NewRequest("GET", "/api/v1/orders/PO-1", nil)
	m.Instrument(mux).ServeHTTP(httptest.NewRecorder(), r)

	fams := scrape(t, m.MetricsHandler())
	types := map[kind]dto.MetricType{counter: dto.MetricType_COUNTER, gauge: dto.MetricType_GAUGE, histogram: dto.MetricType_HISTOGRAM}
	for name, d := range table {
		f := fams[name]
		if f == nil {
			t.Errorf("%s is in the table but not in /metrics", name)
			continue
		}
		if f.GetType() != types[d.Kind] {
			t.Errorf("%s: type %v, the table says %v", name, f.GetType(), d.Kind)
		}
		for _, s := range f.Metric {
			var got []string
			for _, l := range s.Label {
				got = append(got, l.GetName())
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(d.Labels))
			if !slices.Equal(got, want) {
				t.Errorf("%s: labels %v, the table says %v", name, got, want)
			}
		}
	}
	for name := range fams {
		if _, ok := table[name]; strings.HasPrefix(name, "twin_") && !ok {
			t.Errorf("%s is in /metrics but not in the table (nor METRICS.md)", name)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("the runtime's and the process's metrics are missing")
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{mIngestEvents, nil, 7},
		{mQuarantined, []string{"reason", "ahead"}, 2},
		{mQuarantined, []string{"reason", "old"}, 0},
		{mStoreSeq, nil, 40},
		{mStoreLate, nil, 3},
		{mConnUp, []string{"kind", "mqtt", "connector", "tcp://10.0.0.5:1883"}, 1},
		{mConnMalformed, []string{"connector", "tcp://10.0.0.5:1883", "reason", "json"}, 1},
		{mScans, []string{"outcome", "confirmed"}, 3},
		{mFeedClients, nil, 2},
		{mThrottleLocked, nil, 1},
		{mRequests, []string{"route", "GET /api/v1/orders/{id}", "code", "200"}, 1},
		{mReady, []string{"check", "history"}, 1},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// TestMetricsPeers: without a token /metrics answers a loopback peer
// only, and not a request a proxy forwarded; with one, every peer that
// sends it and none that does not.
func TestMetricsPeers(t *testing.T) {
	for _, c := range []struct {
		name, token, peer string
		header            []string
		want              int
	}{
		{"loopback", "", "127.0.0.1:5000", nil, 200},
		{"loopback v6", "", "[::1]:5000", nil, 200},
		{"plant LAN", "", "192.168.1.20:5000", nil, 403},
		{"through a proxy", "", "127.0.0.1:5000", []string{"X-Forwarded-For", "192.168.1.20"}, 403},
		{"forwarded", "", "127.0.0.1:5000", []string{"Forwarded", "for=192.168.1.20"}, 403},
		{"token, none sent", "s3cret-metrics", "192.168.1.20:5000", nil, 401},
		{"token, none sent from loopback", "s3cret-metrics", "127.0.0.1:5000", nil, 401},
		{"token, wrong", "s3cret-metrics", "192.168.1.20:5000", []string{"Authorization", "Bearer s3cret-metricz"}, 401},
		{"token, in the query", "s3cret-metrics", "192.168.1.20:5000", []string{"X-Query", "token=s3cret-metrics"}, 401},
		{"token", "s3cret-metrics", "192.168.1.20:5000", []string{"Authorization", "Bearer s3cret-metrics"}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := New(Options{Token: c.token, NoRuntime: true})
			r := httptest.NewRequest("GET", "/metrics?token="+c.token, nil)
			r.RemoteAddr = c.peer
			for i := 0; i+1 < len(c.header); i += 2 {
				r.Header.Set(c.header[i], c.header[i+1])
			}
			w := httptest.NewRecorder()
			m.MetricsHandler().ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("%d, want %d: %s", w.Code, c.want, w.Body)
			}
			if c.want != 200 && strings.Contains(w.Body.String(), "twin_") {
				t.Fatal("a refusal shows metrics")
			}
			if c.token != "" && strings.Contains(w.Body.String()+m.Access(), c.token) {
				t.Fatal("the token is in an answer")
			}
		})
	}
}

// TestReadyz: 200 while every condition holds; 503 naming the one that
// does not, to a loopback peer; the names left out for another peer.
func TestReadyz(t *testing.T) {
	m := New(Options{NoRuntime: true})
	conn, closed := ConnectorStats{Connected: true, Subscribed: true}, false
	m.Watch(sources(&conn, &closed))
	ask := func(peer string) (int, Readiness) {
		r := httptest.NewRequest("GET", "/readyz", nil)
		r.RemoteAddr = peer
		w := httptest.NewRecorder()
		m.Readyz().ServeHTTP(w, r)
		var rd Readiness
		if err := json.Unmarshal(w.Body.Bytes(), &rd); err != nil {
			t.Fatalf("%s: %v", w.Body, err)
		}
		return w.Code, rd
	}
	if code, rd := ask("127.0.0.1:1"); code != 200 || !rd.Ready || len(rd.Checks) != 3 {
		t.Fatalf("all ready: %d %+v", code, rd)
	}
	conn.Connected, conn.Subscribed = false, false
	closed = true
	code, rd := ask("127.0.0.1:1")
	if code != 503 || rd.Ready || rd.NotReady["mqtt tcp://10.0.0.5:1883"] != "not connected" || rd.NotReady["history"] != "closed" || len(rd.NotReady) != 2 {
		t.Fatalf("broker lost, history closed: %d %+v", code, rd)
	}
	if code, rd := ask("10.1.1.1:1"); code != 503 || rd.Ready || rd.NotReady != nil || rd.Checks != nil {
		t.Fatalf("to a peer elsewhere: %d %+v", code, rd)
	}
	conn.Connected = true
	if _, rd := ask("127.0.0.1:1"); rd.NotReady["mqtt tcp://10.0.0.5:1883"] != "connected, its subscriptions not confirmed yet" {
		t.Fatalf("connected, not subscribed: %+v", rd)
	}
	r := httptest.NewRequest("GET", "/healthz", nil)
	w := httptest.NewRecorder()
	m.Healthz().ServeHTTP(w, r)
	if b, _ := io.ReadAll(w.Body); w.Code != 200 || string(b) != "ok\n" {
		t.Fatalf("/healthz: %d %q", w.Code, b)
	}
}

// TestInstrumentRoutes: requests count by route pattern, never by raw
// path (two orders are one series), unmatched ones as "unmatched"; the
// sign-in route's 401 and 429 count as sign-in failures.
func TestInstrumentRoutes(t *testing.T) {
	m := New(Options{NoRuntime: true})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	signIn := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("as") {
		case "wrong":
			http.Error(w, "no", http.StatusUnauthorized)
		case "flood":
			http.Error(w, "later", http.StatusTooManyRequests)
		}
	}
	mux.HandleFunc(LoginRoute, signIn)
	mux.HandleFunc(SessionRoute, signIn)
	// as in twin serve: the outer mux hands /api/v1/ to the API's own
	outer := http.NewServeMux()
	outer.Handle("/api/v1/", m.Instrument(mux))
	for _, u := range []string{"GET /api/v1/orders/PO-1", "GET /api/v1/orders/PO-2", "GET /api/v1/nothing/here", "POST /api/v1/login?as=wrong",
		"POST /api/v1/login?as=wrong", "POST /api/v1/login?as=flood", "POST /api/v1/login",
		"POST /api/v1/session?as=wrong", "POST /api/v1/session"} {
		method, path, _ := strings.Cut(u, " ")
		outer.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	fams := scrape(t, m.MetricsHandler())
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"route", "GET /api/v1/orders/{id}", "code", "200"}, 2},
		{[]string{"route", "unmatched", "code", "404"}, 1}, // no pattern of the API's mux
		{[]string{"route", LoginRoute, "code", "401"}, 2},
		{[]string{"route", LoginRoute, "code", "429"}, 1},
		{[]string{"route", LoginRoute, "code", "200"}, 1},
		{[]string{"route", SessionRoute, "code", "401"}, 1},
	} {
		if got := value(fams, mRequests, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", mRequests, c.labels, got, c.want)
		}
	}
	for _, s := range fams[mRequests].Metric {
		for _, l := range s.Label {
			if strings.Contains(l.GetValue(), "PO-") {
				t.Errorf("a raw path is a label: %v", s.Label)
			}
		}
	}
	if got := value(fams, mSignInFailures, "reason", "bad_credentials"); got != 3 {
		t.Errorf("bad credentials (two tokens', one session's): %v, want 3", got)
	}
	if got := value(fams, mSignInFailures, "reason", "throttled"); got != 1 {
		t.Errorf("throttled: %v, want 1", got)
	}
	if got := value(fams, mDuration, "route", "GET /api/v1/orders/{id}"); got != 2 {
		t.Errorf("durations of the orders route: %v, want 2", got)
	}
}
