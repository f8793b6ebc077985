package mqtt

import (
	"fmt"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/connectors/mqtt/mqtttest"
	"twin/plant"
	"twin/plant/event"
)

// gateway is a QoS 1 publisher with a persistent session of its own.
func gateway(t testing.TB, b *mqtttest.Broker, id string) paho.Client {
	t.Helper()
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetCleanSession(false))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("gateway connect: %v", tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(100) })
	return pub
}

func publish(t testing.TB, pub paho.Client, topic string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if tok := pub.Publish(topic, 1, false, fmt.Sprintf(`{"value": %d}`, i)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d on %s: %v", i, topic, tok.Error())
		}
	}
}

// TestStaleSubscription: the twin's persistent session keeps the
// subscriptions of the tag map it was started with; started again with
// a tag map that no longer names a topic, it still receives that topic's
// messages. Each is counted as unassigned and acknowledged. Before, paho
// found no route for them and left them unacknowledged: with mosquitto's
// default of 20 messages in flight per client, 20 of them stopped every
// other topic's messages for good (until a reconnect, which brought the
// same 20 back).
func TestStaleSubscription(t *testing.T) {
	b := startBrokerWith(t, true) // mosquitto's own limits, as a plant's broker runs it
	const old, cur = "qijiang/stator/W1/good", "qijiang/stator/W1/reject"
	first := plant.MQTTBroker{URL: b.URL(), ClientID: "twin-test-stale", Topics: []plant.TopicTag{
		{Topic: old, Asset: w1, Signal: plant.SignalGood}, {Topic: cur, Asset: w1, Signal: plant.SignalReject}}}
	c1, err := New(first, &collect{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start(t, c1)() // subscribed, then stopped: the session stays with both subscriptions
	pub := gateway(t, b, "gw-test-stale")
	publish(t, pub, old, 1, 30) // queued for the twin while it is away

	second := first
	second.Topics = first.Topics[1:] // the new tag map: the old topic is gone
	sink := &collect{}
	c2, err := New(second, sink, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c2)
	publish(t, pub, cur, 1, 5)
	end := time.Now().Add(10 * time.Second)
	for sink.count(event.Counter) < 5 && time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := sink.count(event.Counter); n != 5 || c2.Stats().Unassigned != 30 {
		t.Fatalf("%d of the 5 readings on the tag map's topic arrived, %d messages on the dropped topic handled (want 30); stats %+v",
			n, c2.Stats().Unassigned, c2.Stats())
	}
}

// TestBacklogOnConnect: a twin that starts while its persistent session
// holds a backlog (it was down, or killed) gets the backlog at once, as
// the broker accepts the connection: before its subscriptions are
// renewed and, with paho, before the client's routes exist. Every
// message of the backlog must be handled and acknowledged. (Before, the
// messages that won that race were left unacknowledged: with mosquitto's
// 20 in flight the twin then received nothing more at all; this is what
// TestServeKill9 in cmd/twin saw as a block of messages missing after
// the restart.) Each start is a fresh race: five of them.
func TestBacklogOnConnect(t *testing.T) {
	b := startBrokerWith(t, true)
	topic := "qijiang/stator/W1/good"
	cfg := plant.MQTTBroker{URL: b.URL(), ClientID: "twin-test-backlog", Topics: []plant.TopicTag{{Topic: topic, Asset: w1, Signal: plant.SignalGood}}}
	c1, err := New(cfg, &collect{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start(t, c1)()
	pub := gateway(t, b, "gw-test-backlog")
	const n = 200 // within mosquitto's queue of 1000
	for round := 0; round < 5; round++ {
		publish(t, pub, topic, round*n+1, round*n+n) // while the twin is away
		sink := &collect{}
		c, err := New(cfg, sink, Options{})
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, c)
		lo, hi := float64(round*n+1), float64(round*n+n)
		end := time.Now().Add(10 * time.Second)
		for valuesIn(sink, lo, hi) < n && time.Now().Before(end) {
			time.Sleep(20 * time.Millisecond)
		}
		got := valuesIn(sink, lo, hi)
		stop()
		if got != n {
			t.Fatalf("start %d: %d of the %d messages of the backlog handled; stats %+v", round+1, got, n, c.Stats())
		}
		// a clean stop sends the acknowledgements of everything the
		// start before handed on before it disconnects: nothing of an
		// earlier round comes again (before, under load, up to a whole
		// round did), nor anything else
		if earlier, other := valuesIn(sink, 1, lo-1), distinctValues(sink)-got; other != earlier {
			t.Fatalf("start %d: %d values neither of its backlog nor of an earlier one", round+1, other-earlier)
		} else if earlier > 0 {
			t.Fatalf("start %d: %d messages of an earlier start delivered again after its clean stop", round+1, earlier)
		}
	}
}

// valuesIn is the number of distinct counter values from lo to hi the
// sink holds.
func valuesIn(c *collect, lo, hi float64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[float64]bool{}
	for _, e := range c.evs {
		if e.Kind == event.Counter && e.Value >= lo && e.Value <= hi {
			seen[e.Value] = true
		}
	}
	return len(seen)
}
