package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"twin/connectors/mqtt/mqtttest"
	"twin/twin/mes"
	"twin/twin/metrics"
)

// series flattens the parsed families into "name{k=v,…}" → value (a
// histogram's count as name_count).
func series(fams map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(ls)
			key := name + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count{"+strings.Join(ls, ",")+"}"] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

// truth is what the packages' Stats() say in this run, as the series
// /metrics must show.
func truth(tw *live, recs *mes.DB, wv *webView) map[string]float64 {
	f := func(v uint64) float64 { return float64(v) }
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	in, st, fd, rs := tw.in.Stats(), tw.st.Stats(), wv.feed.Stats(), recs.Stats()
	want := map[string]float64{
		"twin_ingest_events_total{}":                  f(in.Events),
		"twin_ingest_faults_total{}":                  f(in.Faults),
		"twin_ingest_stored_events_total{}":           f(in.Stored),
		"twin_ingest_store_errors_total{}":            f(in.Failed),
		"twin_ingest_batches_total{}":                 f(in.Batches),
		"twin_ingest_queue_full_total{}":              f(in.QueueFull),
		"twin_ingest_subscriber_dropped_total{}":      f(in.SubscriberDropped),
		"twin_ingest_quarantined_total{reason=ahead}": f(in.Quarantined["ahead"]),
		"twin_ingest_quarantined_total{reason=old}":   f(in.Quarantined["old"]),
		"twin_store_events_total{}":                   f(st.Seq),
		"twin_store_lsm_bytes{}":                      float64(st.LSMBytes),
		"twin_store_vlog_bytes{}":                     float64(st.VLogBytes),
		"twin_store_snapshot_passes_total{}":          f(st.Passes),
		"twin_store_retention_dropped_total{}":        f(st.Dropped),
		"twin_store_late_events_total{}":              f(st.Late),
		// one append of the store per batch of ingest's writer
		"twin_store_append_seconds_count{}":           f(in.Batches),
		"twin_store_commit_seconds_count{}":           f(in.Batches),
		"twin_feed_clients{}":                         float64(fd.Clients),
		"twin_feed_sent_total{}":                      f(fd.Sent),
		"twin_feed_dropped_clients_total{}":           f(fd.Dropped),
		"twin_feed_frames_total{}":                    f(fd.Frames),
		"twin_feed_encoded_total{}":                   f(fd.Made),
		"twin_records_scans_total{outcome=started}":   f(rs.Started),
		"twin_records_scans_total{outcome=confirmed}": f(rs.Confirmed),
		"twin_records_scans_total{outcome=duplicate}": f(rs.Duplicates),
		"twin_records_scans_total{outcome=refused}":   f(rs.Refused),
		"twin_ready{check=history}":                   b(!tw.st.Closed()),
		"twin_ready{check=records}":                   b(!recs.Closed()),
	}
	for i, c := range tw.mqtts {
		s := c.Stats()
		l := "connector=" + tw.p.Tags.MQTT[i].URL + ",kind=mqtt"
		want["twin_connector_up{"+l+"}"] = b(c.Connected())
		want["twin_connector_subscribed{"+l+"}"] = b(s.Subscribed)
		want["twin_connector_connects_total{"+l+"}"] = f(s.Connects)
		want["twin_connector_messages_total{"+l+"}"] = f(s.Messages)
		want["twin_connector_events_total{"+l+"}"] = f(s.Events)
		want["twin_connector_unassigned_total{"+l+"}"] = f(s.Unassigned)
		want["twin_connector_rebirth_requests_total{"+l+"}"] = f(s.Rebirths)
		want["twin_connector_gap_dropped_total{"+l+"}"] = f(s.GapDropped)
		want["twin_connector_stale_deaths_total{"+l+"}"] = f(s.StaleDeaths)
		for r, n := range s.Reasons {
			want["twin_connector_malformed_total{"+l+",reason="+r+"}"] = f(n)
		}
		want["twin_ready{check=mqtt "+tw.p.Tags.MQTT[i].URL+"}"] = b(c.Connected() && s.Subscribed)
	}
	return want
}

// get asks the twin for path with the headers (name, value pairs).
func get(t *testing.T, url string, header ...string) (int, []byte) {
	t.Helper()
	return getWith(t, http.DefaultClient, url, header...)
}

// getWith is get with client hc (one that trusts the twin's CA).
func getWith(t *testing.T, hc *http.Client, url string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestServeMetrics: a running twin serve, following a real mosquitto and
// keeping its history in a real Badger, is scraped with Prometheus' own
// text parser. Once its figures are still (everything published is on
// disk), every series equals the Stats() of the same run: one truth. The
// sign-in route's 401s count by route pattern and as sign-in failures.
// /metrics wants the --metrics-token, which serve never prints. /readyz
// goes 503, naming the broker, when mosquitto stops, and 200 again when
// it is back.
func TestServeMetrics(t *testing.T) {
	broker := mqtttest.Start(t, mqtttest.Options{Config: "allow_anonymous true\n"})
	dir := t.TempDir()
	plantFile := onePlant(t, dir, broker.URL(), "twin-metrics")
	const mtoken = "metrics-s3cret-9f1c"
	type served struct {
		tw   *live
		recs *mes.DB
		wv   *webView
	}
	started := make(chan served, 1)
	serving = func(tw *live, recs *mes.DB, wv *webView) { started <- served{tw, recs, wv} }
	defer func() { serving = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--plant", plantFile, "--data", filepath.Join(dir, "data"), "--http", "127.0.0.1:0", "--http-only", "--token", "view", "--metrics-token", mtoken}, &out, &errs)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve: exit %d\n%s", code, errs.String())
		}
		if strings.Contains(out.String()+errs.String(), mtoken) {
			t.Error("twin serve printed the metrics token")
		}
	}()
	var r served
	select {
	case r = <-started:
	case <-time.After(60 * time.Second):
		t.Fatalf("twin serve did not start; it printed:\n%s%s", out.String(), errs.String())
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := r.tw.mqtts[0].WaitSubscribed(wctx); err != nil {
		t.Fatal(err)
	}
	base := "http://" + r.wv.addr.String()
	bearer := []string{"Authorization", "Bearer " + mtoken}

	// a gateway: good counts, a malformed message, a reading from 2100
	gw := paho.NewClient(paho.NewClientOptions().AddBroker(broker.URL()).SetClientID("gw-metrics"))
	if tok := gw.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer gw.Disconnect(100)
	publish := func(topic, payload string) {
		t.Helper()
		if tok := gw.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish on %s: %v", topic, tok.Error())
		}
	}
	const n = 300
	for i := 1; i <= n; i++ {
		publish("gw/M1/good", strconv.Itoa(i))
	}
	publish("gw/M1/good", "forty-two")
	publish("gw/M1/kw", `{"value": 3.5, "ts": 4102444800000}`)
	for range 2 { // a wrong password, twice
		resp, err := http.Post(base+"/api/v1/login", "application/json", strings.NewReader(`{"name":"admin","password":"not the password"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d, want 401", resp.StatusCode)
		}
	}
	if code, _ := get(t, base+"/api/v1/openapi.json"); code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
	// everything published is on disk: n good counts, the malformed
	// message's fault, the quarantined reading's fault
	waitUntil(t, "every message stored", 30*time.Second, func() bool { return r.tw.in.Stats().Stored >= n+2 },
		func() string { return fmt.Sprintf("ingest %+v, mqtt %+v", r.tw.in.Stats(), r.tw.mqtts[0].Stats()) })

	if code, b := get(t, base+"/metrics"); code != http.StatusUnauthorized || bytes.Contains(b, []byte("twin_")) {
		t.Fatalf("/metrics without the token: %d %s", code, b)
	}
	if code, _ := get(t, base+"/metrics", "Authorization", "Bearer not-"+mtoken); code != http.StatusUnauthorized {
		t.Fatalf("/metrics with a wrong token: %d", code)
	}
	scrape := func() map[string]float64 {
		t.Helper()
		code, b := get(t, base+"/metrics", bearer...)
		if code != 200 {
			t.Fatalf("/metrics: %d %s", code, b)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("the scrape does not parse: %v", err)
		}
		return series(fams)
	}
	var got, want map[string]float64
	for end := time.Now().Add(30 * time.Second); ; {
		before := truth(r.tw, r.recs, r.wv)
		got = scrape()
		want = truth(r.tw, r.recs, r.wv)
		if maps.Equal(before, want) { // nothing moved during the scrape
			break
		}
		if time.Now().After(end) {
			t.Fatal("the twin's figures did not stand still for a scrape in 30 s")
		}
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: /metrics says %v (present %v), Stats() %v", k, g, ok, v)
		}
	}
	for _, c := range []struct {
		key  string
		want float64
	}{
		{"twin_ingest_stored_events_total{}", n + 2},
		{"twin_ingest_quarantined_total{reason=ahead}", 1},
		{`twin_api_requests_total{code=401,route=POST /api/v1/login}`, 2},
		{`twin_api_requests_total{code=200,route=GET /api/v1/openapi.json}`, 1},
		{"twin_signin_failures_total{reason=bad_credentials}", 2},
		{"twin_connector_up{connector=" + broker.URL() + ",kind=mqtt}", 1},
	} {
		if got[c.key] != c.want {
			t.Errorf("%s = %v, want %v", c.key, got[c.key], c.want)
		}
	}
	var malformed float64
	for k, v := range got {
		if strings.HasPrefix(k, "twin_connector_malformed_total{") {
			malformed += v
		}
	}
	if malformed != 1 {
		t.Errorf("malformed messages %v, want 1 (the one that says forty-two)", malformed)
	}
	if got["twin_ingest_fold_seconds_count{}"] < 1 || got["twin_ingest_fold_seconds_count{}"] > n+2 {
		t.Errorf("fold latencies observed %v, want one per batch folded (1 … %d)", got["twin_ingest_fold_seconds_count{}"], n+2)
	}
	t.Logf("%d series; /metrics equals Stats() on all %d the packages keep", len(got), len(want))

	// readiness follows the broker
	readyz := func() (int, metrics.Readiness) {
		code, b := get(t, base+"/readyz", bearer...)
		var rd metrics.Readiness
		if err := json.Unmarshal(b, &rd); err != nil {
			t.Fatalf("/readyz: %v: %s", err, b)
		}
		return code, rd
	}
	if code, rd := readyz(); code != 200 || !rd.Ready {
		t.Fatalf("/readyz with the broker up: %d %+v", code, rd)
	}
	if code, b := get(t, base+"/healthz"); code != 200 || string(b) != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, b)
	}
	broker.Stop()
	mq := "mqtt " + broker.URL()
	waitUntil(t, "/readyz to say 503 once the broker is gone", 30*time.Second, func() bool {
		code, rd := readyz()
		return code == 503 && rd.NotReady[mq] != ""
	}, func() string { code, rd := readyz(); return fmt.Sprintf("%d %+v", code, rd) })
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz with the broker gone: %d (the process still answers)", code)
	}
	if err := broker.Restart(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "/readyz to say 200 once the broker is back", 30*time.Second, func() bool {
		code, _ := readyz()
		return code == 200
	}, func() string { code, rd := readyz(); return fmt.Sprintf("%d %+v", code, rd) })
	if g := scrape()["twin_connector_connects_total{connector="+broker.URL()+",kind=mqtt}"]; g < 2 {
		t.Errorf("connects after the broker's restart: %v, want 2 or more", g)
	}
}

// demoReady checks what twin demo serves for monitoring while its plant
// runs, from this computer and without a token: /healthz, and /readyz
// with its embedded broker connected.
func demoReady(t *testing.T, hc *http.Client, base string) {
	t.Helper()
	if code, b := getWith(t, hc, base+"/healthz"); code != 200 {
		t.Errorf("the demo's /healthz: %d %s", code, b)
	}
	if code, b := getWith(t, hc, base+"/readyz"); code != 200 || !bytes.Contains(b, []byte(`"ready":true`)) {
		t.Errorf("the demo's /readyz: %d %s", code, b)
	}
}

// demoMetrics checks the demo's /metrics, from this computer and
// without a token: the records' scan series, the events it stored.
func demoMetrics(t *testing.T, hc *http.Client, base string) {
	t.Helper()
	code, b := getWith(t, hc, base+"/metrics")
	if code != 200 {
		t.Fatalf("the demo's /metrics from loopback: %d %s", code, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s := series(fams)
	// the scans of this run so far (the floor may not have confirmed one
	// yet: the figures equal the records' are TestServeMetrics's), and
	// the events it stored
	if _, ok := s["twin_records_scans_total{outcome=confirmed}"]; !ok || s["twin_ingest_stored_events_total{}"] < 1 {
		t.Errorf("the demo's metrics: scans confirmed %v (present %v), %v events stored; want the series and some events", s["twin_records_scans_total{outcome=confirmed}"], ok, s["twin_ingest_stored_events_total{}"])
	}
}

// TestMetricsTokenNotInHelp: the metrics token from the environment is
// not in the help of the commands that take it.
func TestMetricsTokenNotInHelp(t *testing.T) {
	const secret = "env-metrics-s3cret-77"
	t.Setenv("TWIN_METRICS_TOKEN", secret)
	for _, cmd := range []string{"serve", "demo"} {
		out, errs, _ := runCLI(t, cmd, "-h")
		if !strings.Contains(out+errs, "-metrics-token") {
			t.Errorf("twin %s -h does not say --metrics-token:\n%s%s", cmd, out, errs)
		}
		if strings.Contains(out+errs, secret) {
			t.Errorf("twin %s -h shows $TWIN_METRICS_TOKEN's value", cmd)
		}
	}
}
