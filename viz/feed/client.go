package feed

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"twin/viz/scene"
)

// Client follows a feed: it keeps the latest scene, applying deltas to the
// snapshot and asking for a new snapshot on a gap, and reconnects when the
// connection drops. Everything it offers is safe for concurrent use and
// never blocks on the network: the desktop viewer draws from it.
//
// Goroutines: one that connects and reads, and while connected one that
// sends what Goto asks for; Close (or the end of Dial's context) stops
// both, and Close waits for them.
type Client struct {
	url    string
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	kick   chan struct{} // capacity 1: Goto asked for a position

	wmu     sync.Mutex // one writer at a time on the connection
	mu      sync.Mutex
	sc      *scene.Scene
	span    [2]int64
	at      int64
	status  string
	changes []Change // state changes seen, oldest first
	msgs    int
}

// Change is a station's state change as a client saw it.
type Change struct {
	Path  string
	State string
	Time  int64 // when it began (the station's "since")
}

// Dial starts following url (ws://host/ws?token=…&rate=…) until ctx ends
// or Close.
func Dial(ctx context.Context, url string) *Client {
	ctx, cancel := context.WithCancel(ctx)
	c := &Client{url: url, status: "connecting", cancel: cancel, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	go c.run(ctx)
	return c
}

// Close stops following and waits until the client's goroutines have
// returned. It is safe to call twice.
func (c *Client) Close() {
	c.cancel()
	<-c.done
}

func (c *Client) run(ctx context.Context) {
	defer close(c.done)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for ctx.Err() == nil {
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, c.url, nil)
		if err != nil {
			c.setStatus("cannot connect: " + err.Error())
			retry.Reset(time.Second)
			select {
			case <-ctx.Done():
				return
			case <-retry.C:
			}
			continue
		}
		c.session(ctx, conn)
		c.setStatus("disconnected; reconnecting")
	}
}

// session follows one connection until it drops or ctx ends; its sender
// goroutine has returned when session does.
func (c *Client) session(ctx context.Context, conn *websocket.Conn) {
	c.mu.Lock()
	c.status = "connected"
	at := c.at
	c.mu.Unlock()
	if at != 0 {
		c.write(conn, map[string]any{"type": "seek", "time": at})
	}
	stop, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		c.sender(ctx, conn, stop)
	}()
	c.read(conn)
	conn.Close()
	close(stop)
	<-sent
}

// sender sends the position Goto asks for, the latest one when several
// were asked for meanwhile; it closes the connection when ctx ends.
func (c *Client) sender(ctx context.Context, conn *websocket.Conn, stop chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			conn.Close() // the reader returns
			return
		case <-stop:
			return
		case <-c.kick:
			c.mu.Lock()
			t := c.at
			c.mu.Unlock()
			if t == 0 {
				c.write(conn, map[string]string{"type": "follow"})
			} else {
				c.write(conn, map[string]any{"type": "seek", "time": t})
			}
		}
	}
}

func (c *Client) write(conn *websocket.Conn, v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	conn.WriteJSON(v)
}

func (c *Client) setStatus(s string) {
	c.mu.Lock()
	c.status = s
	c.mu.Unlock()
}

func (c *Client) read(conn *websocket.Conn) {
	var seq uint64
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var m outMsg
		if json.Unmarshal(b, &m) != nil || m.V != Version {
			continue
		}
		c.mu.Lock()
		c.msgs++
		if m.Span != nil {
			c.span = *m.Span
		}
		switch {
		case m.Type == "snapshot" && m.Scene != nil:
			c.sc, seq = m.Scene, m.Seq
		case m.Type == "delta" && c.sc != nil && m.Seq == seq+1:
			seq = m.Seq
			sc := *c.sc // a new scene: readers keep the old one intact
			sc.Stations = append([]scene.Station(nil), sc.Stations...)
			sc.Buffers = append([]scene.Buffer(nil), sc.Buffers...)
			for _, s := range m.Stations {
				for i := range sc.Stations {
					if sc.Stations[i].Path == s.Path {
						if sc.Stations[i].State != s.State && m.At == 0 {
							c.changes = append(c.changes, Change{s.Path, s.State, s.Since})
						}
						sc.Stations[i] = s
					}
				}
			}
			for _, x := range m.Buffers {
				for i := range sc.Buffers {
					if sc.Buffers[i].WorkCenter == x.WorkCenter {
						sc.Buffers[i] = x
					}
				}
			}
			if m.KPIs != nil {
				sc.KPIs = *m.KPIs
			}
			if m.Orders != nil {
				sc.Orders = *m.Orders
			}
			if m.Alarms != nil {
				sc.Alarms = *m.Alarms
			}
			c.sc = &sc
		default: // a gap: ask for a snapshot
			c.mu.Unlock()
			c.write(conn, map[string]string{"type": "resync"})
			continue
		}
		c.sc.Source, c.sc.Time = m.Source, m.Time
		if len(c.changes) > 100000 {
			c.changes = append([]Change(nil), c.changes[50000:]...)
		}
		c.mu.Unlock()
	}
}

// Scene is the latest scene, nil before the first snapshot. Do not modify it.
func (c *Client) Scene() *scene.Scene {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sc
}

// Span is the source's history span, zero if it has none.
func (c *Client) Span() (from, to int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.span[0], c.span[1]
}

// Status says whether the client is connected.
func (c *Client) Status() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Messages is the number of messages received.
func (c *Client) Messages() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs
}

// Goto asks to see the plant at t (0: follow the source again). It never
// blocks the caller (the viewer's frame) on the network: the client's
// sender says it to the feed (or the next connection does, for a seek).
func (c *Client) Goto(t int64) {
	c.mu.Lock()
	c.at = t
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default: // the sender has a position to send already: it reads the latest
	}
}

// Changes returns the state changes of station path seen while following.
func (c *Client) Changes(path string) []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Change
	for _, ch := range c.changes {
		if ch.Path == path {
			out = append(out, ch)
		}
	}
	return out
}
