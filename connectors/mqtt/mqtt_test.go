package mqtt

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"twin/connectors/mqtt/mqtttest"
	"twin/connectors/sparkplug"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/ingest"
)

// startBroker starts mosquitto on a free loopback port with persistence
// (so that sessions survive a restart) and nothing dropped.
func startBroker(t testing.TB) *mqtttest.Broker { return startBrokerWith(t, false) }

// startBrokerWith starts mosquitto with its own limits (20 messages in
// flight, 1000 queued per client) if stock, as a plant's broker runs it.
func startBrokerWith(t testing.TB, stock bool) *mqtttest.Broker {
	t.Helper()
	dir := t.TempDir()
	limits := "max_queued_messages 0\nmax_inflight_messages 0\n"
	if stock {
		limits = ""
	}
	return mqtttest.Start(t, mqtttest.Options{Dir: dir, Config: fmt.Sprintf("allow_anonymous true\npersistence true\npersistence_location %s/\nautosave_interval 1\n%slog_dest file %s/mosquitto.log\nlog_type all\n", dir, limits, dir)})
}

// collect is a sink that keeps events and acknowledges at once.
type collect struct {
	mu  sync.Mutex
	evs []event.Event
}

func (c *collect) EmitBatch(evs []event.Event, ack func(error)) {
	c.mu.Lock()
	c.evs = append(c.evs, evs...)
	c.mu.Unlock()
	if ack != nil {
		ack(nil)
	}
}

func (c *collect) count(kind event.Kind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.evs {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func (c *collect) last(asset string, kind event.Kind) (event.Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.evs) - 1; i >= 0; i-- {
		if e := c.evs[i]; e.Asset == asset && e.Kind == kind {
			return e, true
		}
	}
	return event.Event{}, false
}

func waitFor(t testing.TB, what string, d time.Duration, ok func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func run(t testing.TB, c *Client) { start(t, c) }

// start runs c until the returned stop is called (or the test ends); it
// returns once the broker has confirmed c's subscriptions.
func start(t testing.TB, c *Client) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := c.WaitSubscribed(wctx); err != nil {
		t.Fatalf("the client did not connect and subscribe: %v; stats %+v", err, c.Stats())
	}
	return stop
}

const w1 = "qijiang/stator/stator-line/winding/W1"

// fixedClock is a receive clock that stands at t: for readings stamped
// long ago.
func fixedClock(t time.Time) ingest.Clock { return ingest.Clock{Now: func() time.Time { return t }} }

// TestJSONFromMosquittoPub: a non-Go client publishes JSON; the twin maps
// it by the tag map; a malformed message is counted and skipped.
// TestMain fails the package's tests if a goroutine outlives them: the
// client's (its subscribe watchers) are joined by Run; paho's end with
// Disconnect.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestJSONFromMosquittoPub(t *testing.T) {
	b := startBroker(t)
	cfg := plant.MQTTBroker{URL: b.URL(), ClientID: "twin-test-json", Topics: []plant.TopicTag{
		{Topic: "qijiang/stator/W1/state", Asset: w1, Signal: plant.SignalState, Field: "value", ValueMap: map[string]string{"3": "running", "5": "down"}},
		{Topic: "qijiang/stator/W1/good", Asset: w1, Signal: plant.SignalGood},
	}}
	sink := &collect{}
	// the readings are stamped 2026-03-02: so is the receive clock
	c, err := New(cfg, sink, Options{Clock: fixedClock(time.Date(2026, 3, 2, 8, 1, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	pub := func(topic, msg string) {
		out, err := exec.Command("mosquitto_pub", "-h", "127.0.0.1", "-p", strconv.Itoa(b.Port), "-q", "1", "-t", topic, "-m", msg).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v %s", err, out)
		}
	}
	pub("qijiang/stator/W1/state", `{"value": 3, "ts": 1772413200000}`)
	pub("qijiang/stator/W1/good", `[{"value": 41, "ts": 1772413201000}, {"value": 42, "ts": 1772413202000}]`)
	pub("qijiang/stator/W1/state", `{"value": "down"}`)
	pub("qijiang/stator/W1/state", `not json {`)
	pub("qijiang/stator/W1/state", `{"value": "exploded"}`)
	waitFor(t, "the messages", 5*time.Second, func() bool { return c.Stats().Messages >= 5 })
	waitFor(t, "the events", 5*time.Second, func() bool { return sink.count(event.Fault) >= 2 })
	st, _ := sink.last(w1, event.State)
	if event.MachineState(st.Value) != event.Down || st.Source != event.Live {
		t.Errorf("last state %v", st)
	}
	g, _ := sink.last(w1, event.Counter)
	if g.Value != 42 || g.Time != 1772413202000*1e6 {
		t.Errorf("last good count %+v", g)
	}
	if sink.count(event.State) != 2 || sink.count(event.Counter) != 2 {
		t.Errorf("%d states, %d counters", sink.count(event.State), sink.count(event.Counter))
	}
	s := c.Stats()
	if s.Malformed != 2 || s.Reasons["json"] != 1 || s.Reasons["value"] != 1 {
		t.Errorf("stats %+v", s)
	}
}

func spCfg(url, id string) plant.MQTTBroker {
	return plant.MQTTBroker{URL: url, ClientID: id, Sparkplug: &plant.Sparkplug{Group: "qijiang", HostID: "twin", Devices: []plant.SparkplugDevice{
		{EdgeNode: "stator-gw", Device: "W1", Asset: w1, Metrics: map[string]plant.Signal{"State": plant.SignalState, "Good": plant.SignalGood, "Power": plant.SignalPower}},
	}}}
}

// TestSparkplug: the publisher's births and data reach the host side; a
// sequence gap asks for a rebirth; a death marks the asset stale.
func TestSparkplug(t *testing.T) {
	b := startBroker(t)
	sink := &collect{}
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).UnixNano()
	c, err := New(spCfg(b.URL(), "twin-test-sp"), sink, Options{Clock: fixedClock(time.Unix(0, t0).Add(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	p := NewPublisher(spCfg(b.URL(), ""), "vplant-test-sp", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	p.Emit(event.Event{Time: t0, Kind: event.State, Asset: w1, Value: float64(event.Running)})
	p.Emit(event.Event{Time: t0 + 1e9, Kind: event.Measure, Asset: w1, Name: "power_kw", Value: 7.5})
	p.Emit(event.Event{Time: t0 + 2e9, Kind: event.Counter, Asset: w1, Name: "good", Value: 12})
	waitFor(t, "Sparkplug data", 5*time.Second, func() bool { e, ok := sink.last(w1, event.Counter); return ok && e.Value == 12 })
	st, _ := sink.last(w1, event.State)
	pw, _ := sink.last(w1, event.Measure)
	if event.MachineState(st.Value) != event.Running || pw.Value != 7.5 || pw.Time != t0+1e9 {
		t.Errorf("state %v power %+v", st, pw)
	}
	// online at the birth's time (the edge's clock, here the plant's), not the host's
	if on, ok := sink.last(w1, event.Alarm); !ok || on.Name != "sparkplug/offline" || on.Value != 0 || on.Time != t0 {
		t.Errorf("the birth's online event: %+v (want at %d)", on, t0)
	}
	// a DDATA out of sequence, from another client
	o := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("rogue"))
	if tok := o.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer o.Disconnect(100)
	bad := sparkplug.Payload{Timestamp: uint64(t0 / 1e6), Seq: 200, HasSeq: true, Metrics: []sparkplug.Metric{{Alias: 9999, HasAlias: true, DataType: sparkplug.Double, Value: 1}}}
	o.Publish("spBv1.0/qijiang/DDATA/stator-gw/W1", 1, false, bad.Marshal()).Wait()
	o.Publish("spBv1.0/qijiang/DDATA/stator-gw/W1", 1, false, []byte{0xff, 0xff, 0xff}).Wait()
	waitFor(t, "the rebirth request", 5*time.Second, func() bool { return c.Stats().Rebirths >= 1 })
	waitFor(t, "the corrupt payload", 5*time.Second, func() bool { return c.Stats().Reasons["sparkplug-payload"] == 1 })
	// the node dies
	death := sparkplug.Payload{Timestamp: uint64(t0 / 1e6)}
	o.Publish("spBv1.0/qijiang/NDEATH/stator-gw", 1, false, death.Marshal()).Wait()
	waitFor(t, "the stale alarm", 5*time.Second, func() bool {
		e, ok := sink.last(w1, event.Alarm)
		return ok && e.Name == "sparkplug/offline" && e.Value > 0
	})
	// the host announced itself online (retained)
	out, err := exec.Command("mosquitto_sub", "-h", "127.0.0.1", "-p", strconv.Itoa(b.Port), "-t", "spBv1.0/STATE/twin", "-C", "1", "-W", "3").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"online":true`) {
		t.Errorf("host STATE: %v %s", err, out)
	}
}

// TestBrokerRestart: mosquitto stops in the middle of a stream of QoS 1
// messages and starts again; the client reconnects by itself and, once
// the stream ends, holds every message that was published.
func TestBrokerRestart(t *testing.T) {
	b := startBroker(t)
	topic := "qijiang/stator/W1/good"
	cfg := plant.MQTTBroker{URL: b.URL(), ClientID: "twin-test-restart", Topics: []plant.TopicTag{{Topic: topic, Asset: w1, Signal: plant.SignalGood}}}
	sink := &collect{}
	c, err := New(cfg, sink, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("gateway-restart").
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(time.Second))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	const n = 3000
	published := 0
	restarted := time.Time{}
	var restartErr error
	back := make(chan struct{}) // closed once the broker is back
	for i := 1; i <= n; i++ {
		if i == n/2 {
			b.Stop()
			down := time.AfterFunc(time.Second, func() { restartErr = b.Restart(); close(back) }) // down for a second: the outage under test
			defer func() {
				if !down.Stop() {
					<-back // no mosquitto started after the test's cleanup
				}
			}()
			restarted = time.Now()
		}
		tok := pub.Publish(topic, 1, false, fmt.Sprintf(`{"value": %d}`, i))
		// a gateway retries what the broker did not acknowledge
		for !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			time.Sleep(100 * time.Millisecond)
			tok = pub.Publish(topic, 1, false, fmt.Sprintf(`{"value": %d}`, i))
		}
		published++
	}
	<-back
	if restartErr != nil {
		t.Fatal(restartErr)
	}
	end := time.Now().Add(30 * time.Second)
	for distinctValues(sink) < n && time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := distinctValues(sink); got < n {
		sink.mu.Lock()
		seen := map[float64]bool{}
		for _, e := range sink.evs {
			seen[e.Value] = true
		}
		sink.mu.Unlock()
		var missing []int
		for i := 1; i <= n && len(missing) < 20; i++ {
			if !seen[float64(i)] {
				missing = append(missing, i)
			}
		}
		t.Fatalf("received %d of %d distinct messages; missing %v …; stats %+v; mosquitto's log (all of it: %s):\n%s",
			got, n, missing, c.Stats(), filepath.Join(b.Dir, "mosquitto.log"), b.Log())
	}
	t.Logf("published %d (broker down for about 1 s at message %d), received %d distinct values in %d messages; client connects %d; %v after the restart began",
		published, n/2, distinctValues(sink), c.Stats().Messages, c.Stats().Connects, time.Since(restarted).Round(time.Millisecond))
	if c.Stats().Connects < 2 {
		t.Errorf("the client did not reconnect (%d connects)", c.Stats().Connects)
	}
}

func distinctValues(c *collect) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[float64]bool{}
	for _, e := range c.evs {
		if e.Kind == event.Counter {
			seen[e.Value] = true
		}
	}
	return len(seen)
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`3`, `"running"`, `{"value": 3, "ts": 1772413200000}`, `[{"value": 1}, {"value": 2, "ts": "2026-03-02T08:00:00Z"}]`, `{"v": true}`, `[`, `1e999`, `{"value": {"x": 1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, ts, err := DecodeJSON(b, "value")
		if err == nil && len(vals) != len(ts) {
			t.Fatal("values and times differ in number")
		}
	})
}

func FuzzSparkplug(f *testing.F) {
	p := sparkplug.Payload{Timestamp: 1, Seq: 3, HasSeq: true, Metrics: []sparkplug.Metric{{Name: "State", Alias: 1, HasAlias: true, DataType: sparkplug.String, Str: "running"}, {Alias: 2, HasAlias: true, DataType: sparkplug.Float, Value: 1.5}}}
	f.Add(p.Marshal())
	f.Add([]byte{0x12, 0x02, 0x20})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := sparkplug.Unmarshal(b)
		if err != nil {
			return
		}
		r, err := sparkplug.Unmarshal(q.Marshal())
		if err != nil || len(r.Metrics) != len(q.Metrics) || r.Seq != q.Seq {
			t.Fatalf("re-encoded payload: %v", err)
		}
		h := sparkplug.NewHost()
		for _, typ := range []string{sparkplug.NBIRTH, sparkplug.DBIRTH, sparkplug.DDATA, sparkplug.NDEATH} {
			h.Handle(sparkplug.Topic{Group: "g", Type: typ, EdgeNode: "e", Device: "d"}, q)
		}
	})
}
