// Package load is a load client for the WebSocket feed: many concurrent
// clients, each subscribed at a rate, measuring how long each message took
// from the scene it carries to the client. The latency is read from the
// message's "time" field, so it is meaningful against a source whose scene
// time is the wall-clock time the scene was made (Ticker is one); against
// a live twin it measures event-to-screen age instead.
package load

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/scene"
)

// Result is what the clients saw.
type Result struct {
	Clients   int           // connected
	Failed    int           // could not connect, or were dropped
	Messages  int           // received, all clients
	Gaps      int           // sequence gaps seen (each would cost a resync)
	Duration  time.Duration // of the measurement
	P50, P99  time.Duration // delivery latency
	Max       time.Duration
	PerClient float64 // messages per client per second
}

func (r Result) String() string {
	return fmt.Sprintf("%d clients (%d failed): %d messages in %v (%.1f/client/s), latency p50 %v p99 %v max %v, %d gaps",
		r.Clients, r.Failed, r.Messages, r.Duration.Round(time.Millisecond), r.PerClient,
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.Gaps)
}

// Load is n clients of one feed, each asking for Rate updates/s.
type Load struct {
	URL     string // ws://…/ws?token=…
	Clients int
	Rate    int
	For     time.Duration // how long to measure, once every client is connected
	// Measuring, if set, is called with true when every client is
	// connected and the measurement starts, and with false when it ends
	// (before the clients hang up): a benchmark reads its CPU clock there.
	Measuring func(on bool)
}

// Run connects n clients to url (ws://…/ws?token=…), each asking for
// rate updates/s, waits until all are connected, measures for d, and
// returns what they saw.
func Run(ctx context.Context, url string, n, rate int, d time.Duration) (Result, error) {
	return Load{URL: url, Clients: n, Rate: rate, For: d}.Run(ctx)
}

// Run runs the load: it connects the clients, waits until all are
// connected, measures, hangs up and returns what they saw.
func (l Load) Run(ctx context.Context) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		col       collector
		measuring atomic.Bool
		wg        sync.WaitGroup
		ready     sync.WaitGroup
	)
	ready.Add(l.Clients)
	u := fmt.Sprintf("%s&rate=%d", l.URL, l.Rate)
	for i := 0; i < l.Clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			col.add(follow(ctx, u, &measuring, ready.Done))
		}()
	}
	ready.Wait()
	measuring.Store(true)
	if l.Measuring != nil {
		l.Measuring(true)
	}
	start := time.Now()
	t := time.NewTimer(l.For)
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	measuring.Store(false)
	if l.Measuring != nil {
		l.Measuring(false)
	}
	dur := time.Since(start)
	cancel()
	wg.Wait()
	return col.result(l.Clients, dur)
}

// seen is what one client saw while measuring.
type seen struct {
	failed bool // could not connect
	lat    []time.Duration
	msgs   int
	gaps   int
}

// follow is one client: it connects (retrying a few times), calls ready
// on its first message (or when it gives up), and reads until ctx ends.
func follow(ctx context.Context, url string, measuring *atomic.Bool, ready func()) seen {
	c, err := dial(ctx, url)
	if err != nil {
		ready()
		return seen{failed: true}
	}
	defer c.Close()
	defer context.AfterFunc(ctx, func() { c.Close() })()
	var m struct {
		Seq  uint64 `json:"seq"`
		Time int64  `json:"time"`
	}
	var seq uint64
	r := seen{lat: make([]time.Duration, 0, 64)}
	first := true
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			break
		}
		now := time.Now()
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if first {
			ready()
			first = false
		}
		if seq != 0 && m.Seq != seq+1 {
			r.gaps++
		}
		seq = m.Seq
		if measuring.Load() && m.Time > 0 {
			r.lat = append(r.lat, now.Sub(time.Unix(0, m.Time)))
			r.msgs++
		}
	}
	if first {
		ready()
	}
	return r
}

// dial connects, retrying: a burst of 1,000 connects may overflow the
// listen backlog.
func dial(ctx context.Context, url string) (*websocket.Conn, error) {
	dialer := *websocket.DefaultDialer
	dialer.HandshakeTimeout = 20 * time.Second
	var err error
	for try := 0; try < 5; try++ {
		var c *websocket.Conn
		if c, _, err = dialer.DialContext(ctx, url, nil); err == nil {
			return c, nil
		}
		t := time.NewTimer(time.Duration(50*(try+1)) * time.Millisecond) // back off
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return nil, err
}

// collector gathers what the clients saw.
type collector struct {
	mu  sync.Mutex
	lat []time.Duration
	res Result
}

func (c *collector) add(s seen) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.failed {
		c.res.Failed++
		return
	}
	c.lat = append(c.lat, s.lat...)
	c.res.Messages += s.msgs
	c.res.Gaps += s.gaps
}

func (c *collector) result(n int, d time.Duration) (Result, error) {
	res := c.res
	res.Duration = d
	res.Clients = n - res.Failed
	if len(c.lat) == 0 {
		return res, fmt.Errorf("no messages received")
	}
	slices.Sort(c.lat)
	res.P50, res.P99, res.Max = c.lat[len(c.lat)/2], c.lat[len(c.lat)*99/100], c.lat[len(c.lat)-1]
	if res.Clients > 0 {
		res.PerClient = float64(res.Messages) / float64(res.Clients) / res.Duration.Seconds()
	}
	return res, nil
}

// Ticker is a feed source that changes one station of plant p every
// period, stamping each scene with the wall-clock time it was made.
type Ticker struct {
	mu   sync.Mutex
	l    *scene.Layout
	p    *plant.Plant
	st   state.State
	cur  *scene.Scene
	stop chan struct{}
	done chan struct{}
}

// NewTicker starts a ticker; Stop it.
func NewTicker(p *plant.Plant, period time.Duration) *Ticker {
	t := &Ticker{l: scene.NewLayout(p), p: p, stop: make(chan struct{}), done: make(chan struct{})}
	t.step(0)
	go t.run(period)
	return t
}

func (t *Ticker) run(period time.Duration) {
	defer close(t.done)
	tk := time.NewTicker(period)
	defer tk.Stop()
	for i := 1; ; i++ {
		select {
		case <-t.stop:
			return
		case <-tk.C:
			t.step(i)
		}
	}
}

func (t *Ticker) step(i int) {
	u := t.p.Units[i%len(t.p.Units)]
	states := []event.MachineState{event.Running, event.Idle, event.Down, event.Setup, event.Blocked}
	now := time.Now().UnixNano()
	t.st.Apply(event.Event{Time: now, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(states[i%len(states)])})
	t.st.Apply(event.Event{Time: now, Kind: event.Counter, Source: event.Live, Asset: u.Path(), Name: "good", Value: float64(i)})
	sc := t.l.Build(&t.st)
	sc.Time = time.Now().UnixNano()
	t.mu.Lock()
	t.cur = sc
	t.mu.Unlock()
}

// Scene is the latest scene.
func (t *Ticker) Scene() *scene.Scene {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur
}

// Stop stops the ticker and waits for its goroutine.
func (t *Ticker) Stop() {
	close(t.stop)
	<-t.done
}
