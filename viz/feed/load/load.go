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

// Run connects n clients to url (ws://…/ws?token=…), each asking for
// rate updates/s, waits until all are connected, measures for d, and
// returns what they saw.
func Run(ctx context.Context, url string, n, rate int, d time.Duration) (Result, error) {
	var (
		mu        sync.Mutex
		lat       []time.Duration
		res       Result
		measuring atomic.Bool
		wg        sync.WaitGroup
		ready     sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dialer := *websocket.DefaultDialer
	dialer.HandshakeTimeout = 20 * time.Second
	ready.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := fmt.Sprintf("%s&rate=%d", url, rate)
			var c *websocket.Conn
			var err error
			for try := 0; try < 5; try++ { // a burst of 1,000 connects may overflow the listen backlog
				if c, _, err = dialer.DialContext(ctx, u, nil); err == nil {
					break
				}
				time.Sleep(time.Duration(50*(try+1)) * time.Millisecond)
			}
			if err != nil {
				mu.Lock()
				res.Failed++
				mu.Unlock()
				ready.Done()
				return
			}
			defer c.Close()
			go func() { <-ctx.Done(); c.Close() }()
			var m struct {
				Seq  uint64 `json:"seq"`
				Time int64  `json:"time"`
			}
			var seq uint64
			mine := make([]time.Duration, 0, 64)
			msgs, gaps := 0, 0
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
					ready.Done()
					first = false
				}
				if seq != 0 && m.Seq != seq+1 {
					gaps++
				}
				seq = m.Seq
				if measuring.Load() && m.Time > 0 {
					mine = append(mine, now.Sub(time.Unix(0, m.Time)))
					msgs++
				}
			}
			if first {
				ready.Done()
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.Messages += msgs
			res.Gaps += gaps
			mu.Unlock()
		}()
	}
	ready.Wait()
	measuring.Store(true)
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	measuring.Store(false)
	res.Duration = time.Since(start)
	cancel()
	wg.Wait()
	res.Clients = n - res.Failed
	if len(lat) == 0 {
		return res, fmt.Errorf("no messages received")
	}
	slices.Sort(lat)
	res.P50, res.P99, res.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
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
}

// NewTicker starts a ticker; Stop it.
func NewTicker(p *plant.Plant, period time.Duration) *Ticker {
	t := &Ticker{l: scene.NewLayout(p), p: p, stop: make(chan struct{})}
	t.step(0)
	go func() {
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
	}()
	return t
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

// Stop stops the ticker.
func (t *Ticker) Stop() { close(t.stop) }
