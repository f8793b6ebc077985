package mqtt

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"twin/connectors/signal"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/ingest"
	"twin/twin/store"
)

// tally is a sink in front of the twin's ingest: it counts the messages
// handed on (by their counter value) and those whose events the store
// made durable. With hold set, the call after the first hold ones waits
// until release is closed (a store that is behind, as under load).
type tally struct {
	next signal.Sink

	mu      sync.Mutex
	handed  map[float64]int
	stored  map[float64]bool
	hold    int
	held    chan struct{} // closed when a call waits at the gate
	release chan struct{}
}

func newTally(next signal.Sink, hold int) *tally {
	return &tally{next: next, handed: map[float64]int{}, stored: map[float64]bool{}, hold: hold,
		held: make(chan struct{}), release: make(chan struct{})}
}

func (s *tally) EmitBatch(evs []event.Event, ack func(error)) {
	s.mu.Lock()
	n := 0
	for _, e := range evs {
		if e.Kind == event.Counter {
			s.handed[e.Value]++
		}
	}
	for _, k := range s.handed {
		n += k
	}
	wait := s.hold > 0 && n == s.hold+1
	s.mu.Unlock()
	if wait {
		close(s.held)
		<-s.release
	}
	s.next.EmitBatch(evs, func(err error) {
		if err == nil {
			s.mu.Lock()
			for _, e := range evs {
				if e.Kind == event.Counter {
					s.stored[e.Value] = true
				}
			}
			s.mu.Unlock()
		}
		ack(err)
	})
}

func (s *tally) counts() (handed, stored int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.handed), len(s.stored)
}

// openTwin is the twin's ingest path over a Badger directory: the store
// and the ingest in front of it; close closes both, ingest first.
func openTwin(t testing.TB, dir string) (*store.Store, *ingest.Ingest, func()) {
	t.Helper()
	st, err := store.Open(dir, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.New(st, nil, ingest.Options{})
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			in.Close()
			if err := st.Close(); err != nil {
				t.Errorf("close the store: %v", err)
			}
		})
	}
	t.Cleanup(closeAll)
	return st, in, closeAll
}

// storedCounters is the number of counter events dir's history holds,
// and of distinct values among them.
func storedCounters(t testing.TB, st *store.Store) (events, distinct int) {
	t.Helper()
	seen := map[float64]bool{}
	err := st.Range(0, 1<<62, func(e event.Event) error {
		if e.Kind == event.Counter {
			events++
			seen[e.Value] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return events, len(seen)
}

// TestCleanStopUnderBacklog: a twin stopped cleanly while it stores a
// backlog finishes what it has handed on (durable, then acknowledged)
// before it disconnects, so the next start gets again nothing the
// history holds. The store is held back after 200 messages (as a slow
// disk would), the stop begins while it is; counted by value: the
// messages stored by the first start, and those the second start gets.
// Before, the stop disconnected at once, and every message whose
// acknowledgement was still on its way came again.
func TestCleanStopUnderBacklog(t *testing.T) {
	b := startBrokerWith(t, false) // nothing dropped by the broker
	topic := "qijiang/stator/W1/good"
	cfg := plant.MQTTBroker{URL: b.URL(), ClientID: "twin-test-cleanstop", Topics: []plant.TopicTag{{Topic: topic, Asset: w1, Signal: plant.SignalGood}}}
	c0, err := New(cfg, &collect{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start(t, c0)() // the persistent session, with its subscription
	const n = 3000
	pub := gateway(t, b, "gw-test-cleanstop")
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	for i := 1; i <= n; i++ {
		if tok := pub.Publish(topic, 1, false, fmt.Sprintf(`{"value": %d, "ts": %d}`, i, t0+int64(i))); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}

	dir := filepath.Join(t.TempDir(), "history")
	_, in, closeTwin := openTwin(t, dir)
	first := newTally(in, 200)
	c1, err := New(cfg, first, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { c1.Run(ctx); close(ran) }()
	select {
	case <-first.held:
	case <-time.After(20 * time.Second):
		cancel()
		<-ran
		t.Fatalf("the backlog did not arrive: %+v", c1.Stats())
	}
	cancel() // the stop begins while the store is behind
	close(first.release)
	<-ran
	closeTwin()
	handed1, stored1 := first.counts()
	s1 := c1.Stats()
	t.Logf("first start: %d messages handed on, %d stored, %d handed back at the stop", handed1, stored1, s1.LeftAtStop)
	if stored1 != handed1 || s1.UnackedAtStop != 0 {
		t.Fatalf("the stop did not wait for the store: %d handed on, %d stored; stats %+v", handed1, stored1, s1)
	}

	st, in, _ := openTwin(t, dir)
	second := newTally(in, 0)
	c2, err := New(cfg, second, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, c2)
	waitFor(t, "the rest of the backlog", 30*time.Second, func() bool {
		second.mu.Lock()
		defer second.mu.Unlock()
		k := stored1
		for v := range second.handed {
			if !first.stored[v] {
				k++
			}
		}
		return k >= n
	})
	stop()
	again := 0
	second.mu.Lock()
	for v := range second.handed {
		if first.stored[v] {
			again++
		}
	}
	second.mu.Unlock()
	if again > 0 {
		t.Errorf("the second start got %d messages again that the first had stored (of %d stored); mosquitto's log: %s", again, stored1, filepath.Join(b.Dir, "mosquitto.log"))
	}
	if evs, distinct := storedCounters(t, st); evs != n || distinct != n {
		t.Errorf("the history holds %d readings, %d distinct; want %d, each once", evs, distinct, n)
	}
}
