package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/connectors/mqtt/mqtttest"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/store"
)

// mosquitto starts a broker with persistence on a free loopback port for
// the test and returns its URL.
func mosquitto(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	b := mqtttest.Start(t, mqtttest.Options{Dir: dir, Config: fmt.Sprintf("allow_anonymous true\npersistence true\npersistence_location %s/\nmax_queued_messages 0\nmax_inflight_messages 0\n", dir)})
	return b.URL()
}

// onePlant writes the one-station plant with an MQTT tag map on url into
// dir: the topics gw/M1/good and gw/M1/kw.
func onePlant(t testing.TB, dir, url, clientID string) string {
	t.Helper()
	src, err := os.ReadFile("../../testdata/plants/one-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "plant.yaml")
	tags := fmt.Sprintf("\ntags:\n  mqtt:\n    - url: %s\n      client_id: %s\n      topics:\n        - {topic: gw/M1/good, asset: M1, signal: good}\n        - {topic: gw/M1/kw, asset: M1, signal: power_kw}\n", url, clientID)
	if err := os.WriteFile(f, append(src, tags...), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func waitUntil(t testing.TB, what string, d time.Duration, ok func() bool, seen func() string) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s; %s", d, what, seen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// watch is an io.Writer that hands each complete line to line and keeps
// the last 64 KiB.
type watch struct {
	mu   sync.Mutex
	buf  []byte
	part []byte
	line func(string)
}

func (w *watch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if len(w.buf) > 64<<10 {
		w.buf = w.buf[len(w.buf)-64<<10:]
	}
	w.part = append(w.part, b...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.part[:i]))
		w.part = w.part[i+1:]
	}
	return len(b), nil
}

func (w *watch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// TestClockAttack is the attack of issue 13, with twin serve's live twin
// (its flags, --retention 1h) following mosquitto: a gateway publishes
// real readings; then any publisher on the broker sends one stamped
// 2100-01-01 and one stamped 1970, and one without a timestamp. Before,
// the 2100 reading moved the twin's clock to 2100 and the next snapshot
// pass deleted every real event (older than 2100 minus an hour). Now the
// two are quarantined: counted by reason, in the history as faults with
// their topic and payload, not in the state; the twin's clock does not
// move; the retention pass keeps every real reading; and the one without
// a timestamp is stamped with the receive time.
func TestClockAttack(t *testing.T) {
	url := mosquitto(t)
	dir := t.TempDir()
	p, err := plant.Load(onePlant(t, dir, url, "twin-attack"))
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	opt := liveFlags(fs)
	if err := fs.Parse([]string{"--retention", "1h"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tw, err := startLive(ctx, p, filepath.Join(dir, "data"), opt(), slog.New(slog.NewTextHandler(io.Discard, nil)), &wg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); wg.Wait(); tw.close() }()
	stats := func() string { return fmt.Sprintf("ingest %+v, store %+v", tw.in.Stats(), tw.st.Stats()) }
	waitUntil(t, "the twin to subscribe", 10*time.Second, func() bool { return tw.mqtts[0].Stats().Subscribed }, stats)

	gw := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("gw-attack"))
	if tok := gw.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer gw.Disconnect(100)
	publish := func(topic string, payload []byte) {
		t.Helper()
		if tok := gw.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish on %s: %v", topic, tok.Error())
		}
	}
	stored := func(n uint64) {
		t.Helper()
		waitUntil(t, fmt.Sprintf("%d events stored", n), 30*time.Second, func() bool { return tw.in.Stats().Stored >= n }, stats)
	}
	// real readings: the good count of the last 50 minutes, 1,000 to a message
	t0 := time.Now().Add(-50 * time.Minute)
	stamp := func(i int) int64 { return t0.Add(time.Duration(i) * 140 * time.Millisecond).UnixMilli() }
	type reading struct {
		V  float64 `json:"value"`
		TS int64   `json:"ts"`
	}
	real := func(from, to int) {
		rs := make([]reading, 0, to-from+1)
		for i := from; i <= to; i++ {
			rs = append(rs, reading{V: float64(i), TS: stamp(i)})
		}
		b, _ := json.Marshal(rs)
		publish("gw/M1/good", b)
	}
	for m := 0; m < 19; m++ {
		real(m*1000+1, m*1000+1000)
	}
	stored(19000)
	clock := tw.in.Snapshot().Time
	if clock != stamp(19000)*1e6 {
		t.Fatalf("the twin's clock is %v, want the last reading's %v", time.Unix(0, clock), time.UnixMilli(stamp(19000)))
	}

	// the attack
	publish("gw/M1/good", []byte(`{"value": 990001, "ts": 4102444800000}`))
	publish("gw/M1/good", []byte(`{"value": 990002, "ts": "1970-01-01T00:00:01Z"}`))
	stored(19002)
	s := tw.in.Snapshot()
	if q := tw.in.Stats().Quarantined; q["ahead"] != 1 || q["old"] != 1 || len(q) != 2 {
		t.Errorf("quarantined by reason %v, want 1 ahead and 1 old", q)
	}
	if s.Time != clock {
		t.Errorf("the attack moved the twin's clock from %v to %v", time.Unix(0, clock).UTC(), time.Unix(0, s.Time).UTC())
	}
	if good := s.Asset(p.Units[0].Path()).Counters["good"]; good != 19000 {
		t.Errorf("the state's good count is %v: a quarantined reading reached it", good)
	}
	if line := status(p, s) + quarantined(tw.in.Stats()); !strings.Contains(line, "quarantined 1 ahead, 1 old") {
		t.Errorf("the status line does not show the quarantine: %s", line)
	}

	// a reading without a timestamp: the receive time
	before := time.Now().UnixNano()
	publish("gw/M1/kw", []byte(`{"value": 4.5}`))
	stored(19003)
	after := time.Now().UnixNano()
	s = tw.in.Snapshot()
	if kw := s.Asset(p.Units[0].Path()).Measures["power_kw"]; kw != 4.5 || s.Time < before || s.Time > after {
		t.Errorf("the reading without a timestamp: %v kW at %v, want 4.5 kW at its receive time (between %v and %v)",
			kw, time.Unix(0, s.Time).UTC(), time.Unix(0, before).UTC(), time.Unix(0, after).UTC())
	}

	// the history, before and after the retention pass that the
	// 20,000th event starts
	count := func() (real int, faults []event.Event) {
		err := tw.st.Range(math.MinInt64, math.MaxInt64, func(e event.Event) error {
			switch {
			case e.Kind == event.Counter && e.Value <= 20000:
				real++
			case e.Kind == event.Fault:
				faults = append(faults, e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return real, faults
	}
	realBefore, _ := count()
	if tw.st.Stats().Passes != 0 {
		t.Fatal("a snapshot pass ran before the 20,000th event")
	}
	real(19001, 20000)
	stored(20003)
	waitUntil(t, "the snapshot pass", 30*time.Second, func() bool { return tw.st.Stats().Passes >= 1 }, stats)
	realAfter, faults := count()
	t.Logf("real events in the history: %d before the retention pass, %d after (1,000 published in between); %d dropped by retention",
		realBefore, realAfter, tw.st.Stats().Dropped)
	if realBefore != 19000 || realAfter != 20000 || tw.st.Stats().Dropped != 0 {
		t.Errorf("real events: %d before the retention pass (want 19000), %d after (want 20000); dropped %d", realBefore, realAfter, tw.st.Stats().Dropped)
	}
	// the quarantined readings are in the history, as faults with their payload
	want := map[string][]string{
		"quarantine/ahead": {"claimed 2100-01-01T00:00:00Z", `MQTT topic gw/M1/good, payload {"value": 990001, "ts": 4102444800000}`},
		"quarantine/old":   {"claimed 1970-01-01T00:00:01Z", `MQTT topic gw/M1/good, payload {"value": 990002, "ts": "1970-01-01T00:00:01Z"}`},
	}
	for _, f := range faults {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("fault %s: %s", f.Name, f.Ref)
			continue
		}
		for _, s := range w {
			if !strings.Contains(f.Ref, s) {
				t.Errorf("%s: the fault's text lacks %q: %s", f.Name, s, f.Ref)
			}
		}
		if f.Asset != p.Units[0].Path() || f.Time < clock || f.Time > before {
			t.Errorf("%s on %q at %v: want it on the machine at its receive time", f.Name, f.Asset, time.Unix(0, f.Time).UTC())
		}
		delete(want, f.Name)
	}
	if len(want) > 0 {
		t.Errorf("no fault in the history for %v", want)
	}
	if s := tw.in.Snapshot(); s.Time > time.Now().UnixNano() {
		t.Errorf("the twin's clock is at %v", time.Unix(0, s.Time).UTC())
	}
}

// TestDemoReadingWithoutTimestamp: in the demo the twin's clock is the
// virtual plant's (×1200 from a Wednesday morning in March): a reading
// that carries no timestamp is stamped with plant time, and the twin's
// clock and its records stay on plant time. Before, such a reading got
// the wall clock: the twin's clock jumped to today and froze there (the
// plant's own readings were months older), and with it the records' and
// the forecast's "now".
func TestDemoReadingWithoutTimestamp(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var topic string
	for _, tt := range p.Tags.MQTT[0].Topics {
		if tt.Signal == plant.SignalPower {
			topic = tt.Topic
			break
		}
	}
	data := t.TempDir()
	broker, ready := make(chan string, 1), make(chan struct{})
	var once sync.Once
	brokerLine := regexp.MustCompile(`MQTT broker \(embedded\)\s+(tcp://\S+)`)
	out := &watch{line: func(l string) {
		if m := brokerLine.FindStringSubmatch(l); m != nil {
			broker <- m[1]
		}
		if strings.Contains(l, "records API") {
			once.Do(func() { close(ready) })
		}
	}}
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"demo", "--plant", "../../testdata/plants/motor.yaml", "--data", data, "--for", "6s", "--speed", "1200",
			"--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0"}, out, out)
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("demo: exit %d\n%s", code, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("the demo did not start:\n%s", out)
	}
	url := <-broker
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("a-person-with-mosquitto_pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	wall := time.Now()
	if tok := pub.Publish(topic, 1, false, `{"value": 12345.6}`); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	pub.Disconnect(100)
	if code := <-done; code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, out)
	}

	st, err := store.Open(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start, err := parseWhen(workingDay, p.Location)
	if err != nil {
		t.Fatal(err)
	}
	first, last, _, _ := st.Bounds()
	var at int64
	st.Range(math.MinInt64, math.MaxInt64, func(e event.Event) error {
		if e.Kind == event.Measure && e.Value == 12345.6 {
			at = e.Time
		}
		return nil
	})
	loc := func(t int64) string { return time.Unix(0, t).In(p.Location).Format(time.DateTime) }
	t.Logf("history %s to %s; the reading without a timestamp at %s (published at %s wall time)", loc(first), loc(last), loc(at), wall.In(p.Location).Format(time.DateTime))
	if at == 0 {
		t.Fatalf("the reading is not in the history:\n%s", out)
	}
	if at < start || at > start+int64(3*time.Hour) {
		t.Errorf("the reading without a timestamp was stamped %s: want plant time, after %s", loc(at), workingDay)
	}
	if last > start+int64(3*time.Hour) {
		t.Errorf("the history runs to %s: the twin's clock left plant time", loc(last))
	}
	// the twin's clock at the end: the status line after the run
	day := time.Unix(0, start).In(p.Location).Format("2006-01-02")
	if s := out.String(); !strings.Contains(s, "\nhistory: ") || !regexp.MustCompile(`(?m)^\w{3} `+day+` `).MatchString(s[strings.Index(s, "\nhistory: "):]) {
		t.Errorf("the final status line is not on plant time (%s):\n%s", day, s)
	}
}

// TestPoisonedHistory: a history written before readings were
// quarantined may hold one stamped 2100; twin serve starts its live
// state from the receive clock, leaving it out (it stays in the history).
func TestPoisonedHistory(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/one-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	m1 := p.Units[0].Path()
	real := time.Now().Add(-time.Minute).UnixNano()
	st.Append([]event.Event{
		{Time: real, Kind: event.Counter, Source: event.Live, Asset: m1, Name: "good", Value: 7},
		{Time: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Kind: event.Counter, Source: event.Live, Asset: m1, Name: "good", Value: 999},
	})
	st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tw, err := startLive(ctx, p, dir, liveOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)), &wg)
	if err != nil {
		t.Fatal(err)
	}
	s := tw.in.Snapshot()
	cancel()
	wg.Wait()
	tw.close()
	if s.Time != real || s.Asset(m1).Counters["good"] != 7 {
		t.Errorf("the live state starts at %v with good %v: want the real reading's time and count", time.Unix(0, s.Time).UTC(), s.Asset(m1).Counters["good"])
	}
}
