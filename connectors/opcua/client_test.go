package opcua

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
)

// TestValueTypes: the client takes every numeric and boolean OPC UA type
// a server may serve a reading as, over TCP, and refuses an Int64 or
// UInt64 a float64 cannot hold exactly (a Fault naming the node and the
// value), going on with the next value.
func TestValueTypes(t *testing.T) {
	p := testPlant(t)
	s := startServer(t, p, ServerOptions{})
	t.Cleanup(func() { s.Close() })
	w1 := p.Units[1]
	node := s.NodeID(w1.ID(), "PowerKW")
	cfg := plant.OPCUAServer{Endpoint: s.Endpoint(), Interval: 20 * time.Millisecond,
		Nodes: []plant.NodeTag{{Node: node, Asset: w1.Path(), Signal: plant.SignalPower}}}
	c, sink := follow(t, cfg, ClientOptions{})
	v := s.vars[w1.ID()+".PowerKW"]
	for _, tc := range []struct {
		raw  any
		want float64
	}{
		{int8(-5), -5},              // SByte
		{uint8(200), 200},           // Byte
		{int16(-300), -300},         // Int16
		{uint16(60000), 60000},      // UInt16
		{int32(-70000), -70000},     // Int32
		{uint32(4000000000), 4e9},   // UInt32
		{int64(-1 << 53), -1 << 53}, // Int64, at the edge of exact
		{uint64(1 << 53), 1 << 53},  // UInt64, at the edge of exact
		{float32(1.5), 1.5},         // Float
		{2.25, 2.25},                // Double
		{true, 1},                   // Boolean
	} {
		s.plant.set(v, dataValue(tc.raw, time.Now()))
		waitFor(t, "the "+ua.MustVariant(tc.raw).Type().String(), 5*time.Second, func() bool {
			return sink.find(w1.Path(), event.Measure, "power_kw", tc.want)
		})
	}
	if m := c.Stats().Malformed; m != 0 {
		t.Fatalf("%d values refused", m)
	}
	for i, raw := range []any{uint64(1<<53 + 1), int64(-1<<53 - 1)} {
		s.plant.set(v, dataValue(raw, time.Now()))
		var f event.Event
		waitFor(t, fmt.Sprintf("the refusal of %T %v", raw, raw), 5*time.Second, func() bool {
			sink.mu.Lock()
			defer sink.mu.Unlock()
			for _, e := range sink.evs {
				if e.Kind == event.Fault && strings.Contains(e.Ref, fmt.Sprint(raw)) {
					f = e
					return true
				}
			}
			return false
		})
		if f.Quality != event.Bad || !strings.Contains(f.Ref, "2^53") || !strings.Contains(f.Asset, node) || c.Stats().Malformed != uint64(i+1) {
			t.Errorf("the refusal of %v (%T): %+v, %d malformed", raw, raw, f, c.Stats().Malformed)
		}
		s.plant.set(v, dataValue(float64(10+i), time.Now()))
		waitFor(t, "a value after the refused one", 5*time.Second, func() bool { return sink.find(w1.Path(), event.Measure, "power_kw", float64(10+i)) })
	}
}

// run runs c until the returned function (or the test's end) stops it.
func run(t testing.TB, c *Client) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// fold is a sink that folds what it receives into a twin state, as the
// twin's ingest does, and keeps the events.
type fold struct {
	mu  sync.Mutex
	st  state.State
	evs []event.Event
}

func (f *fold) EmitBatch(evs []event.Event, ack func(error)) {
	f.mu.Lock()
	for _, e := range evs {
		f.st.Apply(e)
	}
	f.evs = append(f.evs, evs...)
	f.mu.Unlock()
	if ack != nil {
		ack(nil)
	}
}

// offline tells whether every asset of paths carries the offline alarm
// (on) or none does (!on).
func (f *fold) offline(paths []string, on bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range paths {
		a := f.st.Asset(p)
		if a == nil {
			return false
		}
		if _, ok := a.Alarms["opcua/offline"]; ok != on {
			return false
		}
	}
	return true
}

// TestServerLostIsStale: the server goes away; within a bounded time
// every machine its tags name carries the alarm opcua/offline (raised
// once, with quality Bad, as the Sparkplug path raises sparkplug/offline)
// in the twin's state, while the client retries; the server comes back,
// and the alarm is cleared, the values flowing again.
func TestServerLostIsStale(t *testing.T) {
	p := testPlant(t)
	s := startServer(t, p, ServerOptions{})
	sink := &fold{}
	nodes := tags(p, "2")
	c := NewClient(plant.OPCUAServer{Endpoint: s.Endpoint(), Interval: 50 * time.Millisecond, Nodes: nodes}, sink, ClientOptions{})
	defer run(t, c)() // before the server's cleanup: a server waits for its clients to leave
	var paths []string
	for _, u := range p.Units {
		paths = append(paths, u.Path())
	}
	w1 := p.Units[1].Path()
	s.Emit(event.Event{Time: time.Now().UnixNano(), Kind: event.State, Asset: w1, Value: float64(event.Running)})
	waitFor(t, "the machine running", 10*time.Second, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		a := sink.st.Asset(w1)
		return a != nil && a.State == event.Running
	})
	if !sink.offline(paths, false) {
		t.Fatal("offline while connected")
	}

	down := time.Now()
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	waitFor(t, "the machines marked stale", 15*time.Second, func() bool { return sink.offline(paths, true) })
	stale := time.Since(down)
	t.Logf("marked stale %v after the server stopped", stale.Round(time.Millisecond))
	// the client retries (and fails) while the server is away; the
	// alarm stays raised once
	waitFor(t, "a failed retry", 10*time.Second, func() bool { return strings.Contains(c.Stats().LastError, "refused") })
	<-closed
	if !c.Stats().Offline {
		t.Error("Stats.Offline is false while the server is away")
	}

	s2 := startServer(t, p, ServerOptions{Port: port(t, s)})
	t.Cleanup(func() { s2.Close() })
	waitFor(t, "the stale mark cleared", 20*time.Second, func() bool { return sink.offline(paths, false) })
	s2.Emit(event.Event{Time: time.Now().UnixNano(), Kind: event.Counter, Asset: w1, Name: "good", Value: 7})
	waitFor(t, "a value after the restart", 5*time.Second, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.st.Asset(w1).Counters["good"] == 7
	})
	sink.mu.Lock()
	defer sink.mu.Unlock()
	raised := map[string]int{}
	for _, e := range sink.evs {
		if e.Kind == event.Alarm && e.Name == "opcua/offline" && e.Value > 0 {
			raised[e.Asset]++
			if e.Quality != event.Bad || e.Source != event.Live || !strings.Contains(e.Ref, "stale") || !strings.Contains(e.Ref, s.Endpoint()) {
				t.Errorf("the offline alarm: %+v", e)
			}
		}
	}
	for _, p := range paths {
		if raised[p] != 1 {
			t.Errorf("%s: the offline alarm raised %d times in one outage", p, raised[p])
		}
	}
}
