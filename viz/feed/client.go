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
type Client struct {
	url string
	log func(string)

	wmu     sync.Mutex // one writer at a time on the connection
	mu      sync.Mutex
	sc      *scene.Scene
	span    [2]int64
	at      int64
	status  string
	conn    *websocket.Conn
	changes []Change // state changes seen, oldest first
	msgs    int
}

// Change is a station's state change as a client saw it.
type Change struct {
	Path  string
	State string
	Time  int64 // when it began (the station's "since")
}

// Dial starts following url (ws://host/ws?token=…&rate=…) until ctx ends.
func Dial(ctx context.Context, url string) *Client {
	c := &Client{url: url, status: "connecting"}
	go c.run(ctx)
	return c
}

func (c *Client) run(ctx context.Context) {
	for ctx.Err() == nil {
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, c.url, nil)
		if err != nil {
			c.setStatus("cannot connect: " + err.Error())
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		c.mu.Lock()
		c.conn, c.status = conn, "connected"
		at := c.at
		c.mu.Unlock()
		if at != 0 {
			c.write(conn, map[string]any{"type": "seek", "time": at})
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		c.read(conn)
		stop()
		conn.Close()
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
		c.setStatus("disconnected; reconnecting")
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
				sc.Orders = m.Orders
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

// Goto asks to see the plant at t (0: follow the source again).
func (c *Client) Goto(t int64) {
	c.mu.Lock()
	c.at = t
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return
	}
	go func() { // never block the caller (the viewer's frame) on the network
		if t == 0 {
			c.write(conn, map[string]string{"type": "follow"})
		} else {
			c.write(conn, map[string]any{"type": "seek", "time": t})
		}
	}()
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
