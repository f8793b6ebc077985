package mqtt

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/connectors/mqtt/mqtttest"
	"twin/connectors/sparkplug"
	"twin/plant/event"
)

// edgeNode is a Sparkplug edge node of the test's own making (a paho
// client publishing the codec's payloads), so that a test can send what
// a real node might: stale deaths, gaps.
type edgeNode struct {
	t     *testing.T
	c     paho.Client
	t0    uint64 // ms
	cmds  chan sparkplug.Payload
	group string
	edge  string
}

func newEdgeNode(t *testing.T, b *mqtttest.Broker, id string, t0 int64) *edgeNode {
	t.Helper()
	e := &edgeNode{t: t, t0: uint64(t0 / 1e6), cmds: make(chan sparkplug.Payload, 16), group: "qijiang", edge: "stator-gw"}
	e.c = paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id))
	if tok := e.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("edge node connect: %v", tok.Error())
	}
	t.Cleanup(func() { e.c.Disconnect(100) })
	ncmd := sparkplug.Topic{Group: e.group, Type: sparkplug.NCMD, EdgeNode: e.edge}.String()
	tok := e.c.Subscribe(ncmd, 1, func(_ paho.Client, m paho.Message) {
		p, err := sparkplug.Unmarshal(m.Payload())
		if err != nil {
			t.Errorf("NCMD: %v", err)
			return
		}
		select {
		case e.cmds <- *p:
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("edge node subscribe: %v", tok.Error())
	}
	return e
}

// send publishes p on the node's (or its device's) topic of type typ.
func (e *edgeNode) send(typ, device string, p sparkplug.Payload) {
	e.t.Helper()
	if p.Timestamp == 0 {
		p.Timestamp = e.t0
	}
	topic := sparkplug.Topic{Group: e.group, Type: typ, EdgeNode: e.edge, Device: device}.String()
	if tok := e.c.Publish(topic, 1, false, p.Marshal()); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		e.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func bdSeq(v uint64) sparkplug.Metric {
	return sparkplug.Metric{Name: "bdSeq", DataType: sparkplug.Int64, Int: v, Value: float64(v)}
}

// born sends the node's NBIRTH with bdSeq and the DBIRTH of W1 with its
// Good count (alias 2).
func (e *edgeNode) born(bd uint64, good float64) {
	e.send(sparkplug.NBIRTH, "", sparkplug.Payload{Seq: 0, HasSeq: true, Metrics: []sparkplug.Metric{
		bdSeq(bd), {Name: "Node Control/Rebirth", DataType: sparkplug.Boolean}}})
	e.send(sparkplug.DBIRTH, "W1", sparkplug.Payload{Seq: 1, HasSeq: true, Metrics: []sparkplug.Metric{
		{Name: "State", Alias: 1, HasAlias: true, DataType: sparkplug.String, Str: "running"},
		{Name: "Good", Alias: 2, HasAlias: true, DataType: sparkplug.UInt64, Value: good}}})
}

// good sends W1's Good count by alias with sequence number seq.
func (e *edgeNode) good(seq uint64, v float64) {
	e.send(sparkplug.DDATA, "W1", sparkplug.Payload{Seq: seq, HasSeq: true, Metrics: []sparkplug.Metric{
		{Alias: 2, HasAlias: true, DataType: sparkplug.UInt64, Value: v}}})
}

func (c *collect) counters(asset string) []float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []float64
	for _, e := range c.evs {
		if e.Asset == asset && e.Kind == event.Counter {
			out = append(out, e.Value)
		}
	}
	return out
}

func (c *collect) staleAlarms(asset string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.evs {
		if e.Asset == asset && e.Kind == event.Alarm && e.Name == "sparkplug/offline" && e.Value > 0 {
			n++
		}
	}
	return n
}

func waitCounter(t *testing.T, sink *collect, v float64) {
	t.Helper()
	waitFor(t, "W1's good count to reach the twin", 5*time.Second, func() bool {
		cs := sink.counters(w1)
		return len(cs) > 0 && cs[len(cs)-1] == v
	})
}

// TestSparkplugStaleDeath: over mosquitto, an NDEATH with the bdSeq of an
// earlier session (4, the node's NBIRTH said 5) leaves the node online and
// its values live; the NDEATH with bdSeq 5 marks them stale.
func TestSparkplugStaleDeath(t *testing.T) {
	b := startBroker(t)
	sink := &collect{}
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).UnixNano()
	c, err := New(spCfg(b.URL(), "twin-test-sp-bdseq"), sink, Options{Clock: fixedClock(time.Unix(0, t0).Add(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	e := newEdgeNode(t, b, "edge-bdseq", t0)
	e.born(5, 10)
	e.good(2, 11)
	waitCounter(t, sink, 11)

	e.send(sparkplug.NDEATH, "", sparkplug.Payload{Metrics: []sparkplug.Metric{bdSeq(4)}})
	e.good(3, 12) // after the stale death, in order: it must still be folded
	// NBIRTH, DBIRTH, DDATA, NDEATH, DDATA
	waitFor(t, "the client to handle five messages", 5*time.Second, func() bool { return c.Stats().Messages >= 5 })
	if n := sink.staleAlarms(w1); n != 0 {
		t.Fatalf("the NDEATH of bdSeq 4 marked W1 stale (%d alarms); the node's NBIRTH had bdSeq 5", n)
	}
	waitCounter(t, sink, 12)
	if s := c.Stats(); s.StaleDeaths != 1 {
		t.Errorf("stale deaths %d, want 1", s.StaleDeaths)
	}

	e.send(sparkplug.NDEATH, "", sparkplug.Payload{Metrics: []sparkplug.Metric{bdSeq(5)}})
	waitFor(t, "the NDEATH of bdSeq 5 to mark W1 stale", 5*time.Second, func() bool { return sink.staleAlarms(w1) == 1 })
	if s := c.Stats(); s.StaleDeaths != 1 {
		t.Errorf("stale deaths %d after the session's own death, want 1", s.StaleDeaths)
	}
}

// TestSparkplugSequenceGap: over mosquitto, a DDATA whose seq skips is
// not folded, nor is the next one; the twin asks the node for a rebirth
// (NCMD Node Control/Rebirth = true); after the NBIRTH the values flow
// again, the DBIRTH's first.
func TestSparkplugSequenceGap(t *testing.T) {
	b := startBroker(t)
	sink := &collect{}
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).UnixNano()
	c, err := New(spCfg(b.URL(), "twin-test-sp-gap"), sink, Options{Clock: fixedClock(time.Unix(0, t0).Add(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	e := newEdgeNode(t, b, "edge-gap", t0)
	e.born(0, 10)
	e.good(2, 11)
	waitCounter(t, sink, 11)

	e.good(5, 99)  // seq 3 and 4 lost
	e.good(6, 100) // in sequence after the gap, but the state is unknown
	select {
	case p := <-e.cmds:
		if len(p.Metrics) != 1 || p.Metrics[0].Name != "Node Control/Rebirth" || p.Metrics[0].DataType != sparkplug.Boolean || p.Metrics[0].Value != 1 {
			t.Fatalf("NCMD %+v, want Node Control/Rebirth = true", p.Metrics)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no rebirth request (NCMD) within 5 s of the gap")
	}
	waitFor(t, "both messages after the gap to be dropped", 5*time.Second, func() bool { return c.Stats().GapDropped == 2 })
	if cs := sink.counters(w1); cs[len(cs)-1] != 11 {
		t.Fatalf("good counts %v: a value after the gap was folded", cs)
	}
	if s := c.Stats(); s.Rebirths != 1 || s.Reasons["sparkplug-session"] != 1 {
		t.Errorf("rebirth requests %d, session faults %d: want 1 each (one gap)", s.Rebirths, s.Reasons["sparkplug-session"])
	}

	e.born(0, 101) // the rebirth: births carry the current values
	e.good(2, 102)
	waitCounter(t, sink, 102)
	cs := sink.counters(w1)
	if want := []float64{10, 11, 101, 102}; len(cs) != len(want) || cs[0] != 10 || cs[1] != 11 || cs[2] != 101 || cs[3] != 102 {
		t.Errorf("good counts %v, want %v", cs, want)
	}
	if s := c.Stats(); s.GapDropped != 2 {
		t.Errorf("dropped for the gap %d, want 2", s.GapDropped)
	}
}
