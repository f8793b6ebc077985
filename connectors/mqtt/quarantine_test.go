package mqtt

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
)

// TestQuarantineAtTheEdge: readings stamped in 2100, in 1970 or past the
// end of Unix nanoseconds come out as quarantine faults that carry the
// topic and payload (or the Sparkplug metric) they came in, at the
// receive time; a reading without a timestamp gets the receive time; a
// Sparkplug birth stamped by an edge whose clock is off still clears the
// node's offline alarm, at the receive time.
func TestQuarantineAtTheEdge(t *testing.T) {
	b := startBroker(t)
	const topic = "qijiang/stator/W1/good"
	cfg := spCfg(b.URL(), "twin-test-quarantine")
	cfg.Topics = []plant.TopicTag{{Topic: topic, Asset: w1, Signal: plant.SignalGood}}
	sink := &collect{}
	c, err := New(cfg, sink, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	pub := func(msg string) {
		out, err := exec.Command("mosquitto_pub", "-h", "127.0.0.1", "-p", strconv.Itoa(b.Port), "-q", "1", "-t", topic, "-m", msg).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v %s", err, out)
		}
	}
	before := time.Now().UnixNano()
	pub(`{"value": 7, "ts": 4102444800000}`)
	pub(`{"value": 8, "ts": "1970-01-01T00:00:01Z"}`)
	pub(`{"value": 9, "ts": "9999-12-31T23:59:59Z"}`)
	pub(`{"value": 10}`)
	sp := NewPublisher(spCfg(b.URL(), ""), "vplant-test-quarantine", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sp.Run(ctx)
	y2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	sp.Emit(event.Event{Time: y2100, Kind: event.Counter, Asset: w1, Name: "good", Value: 11})
	waitFor(t, "the readings", 10*time.Second, func() bool { return sink.count(event.Fault) >= 4 && sink.count(event.Counter) >= 1 })
	after := time.Now().UnixNano()

	sink.mu.Lock()
	defer sink.mu.Unlock()
	faults := map[string]event.Event{}
	for _, e := range sink.evs {
		switch e.Kind {
		case event.Fault:
			if e.Time < before || e.Time > after {
				t.Errorf("fault %q at %v, not at the receive time", e.Ref, time.Unix(0, e.Time))
			}
			switch {
			case strings.Contains(e.Ref, `"value": 7,`):
				faults["2100"] = e
			case strings.Contains(e.Ref, `"value": 8,`):
				faults["1970"] = e
			case strings.Contains(e.Ref, `"value": 9,`):
				faults["9999"] = e
			case strings.Contains(e.Ref, "Sparkplug"):
				faults["sparkplug"] = e
			default:
				t.Errorf("fault %+v", e)
			}
		case event.Counter:
			if e.Value != 10 || e.Time < before || e.Time > after {
				t.Errorf("reading %+v: only the one without a timestamp is in bounds, stamped with the receive time", e)
			}
		case event.Alarm:
			if e.Name == "sparkplug/offline" && (e.Time < before || e.Time > after) {
				t.Errorf("the birth cleared the offline alarm at %v (the edge's clock), not at the receive time", time.Unix(0, e.Time).UTC())
			}
		}
	}
	t.Logf("the 2100 reading's fault: %s\nthe Sparkplug one: %s", faults["2100"].Ref, faults["sparkplug"].Ref)
	for k, want := range map[string][]string{
		"2100":      {"quarantine/ahead", `claimed 2100-01-01T00:00:00Z`, `MQTT topic ` + topic + `, payload {"value": 7, "ts": 4102444800000}`, "counter " + w1 + " good 7"},
		"1970":      {"quarantine/old", `claimed 1970-01-01T00:00:01Z`, `payload {"value": 8, "ts": "1970-01-01T00:00:01Z"}`},
		"9999":      {"quarantine/ahead", `claimed 2262-04-11T23:47:16.854775807Z`, `payload {"value": 9, "ts": "9999-12-31T23:59:59Z"}`},
		"sparkplug": {"quarantine/ahead", `claimed 2100-01-01T00:00:00Z`, `Sparkplug topic spBv1.0/qijiang/DDATA/stator-gw/W1, metric "Good" (alias`, "= 11, timestamp 4102444800000 ms"},
	} {
		f, ok := faults[k]
		if !ok {
			t.Errorf("no quarantine fault for the reading stamped %s", k)
			continue
		}
		if f.Name != want[0] || f.Asset != w1 || f.Source != event.Live {
			t.Errorf("%s: fault %s on %q", k, f.Name, f.Asset)
		}
		for _, w := range want[1:] {
			if !strings.Contains(f.Ref, w) {
				t.Errorf("%s: the fault's text lacks %q:\n%s", k, w, f.Ref)
			}
		}
	}
}
