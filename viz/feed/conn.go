package feed

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"twin/viz/scene"
)

// writeWait is how long a client may take to accept a message (or a
// ping) before it is disconnected as too slow.
const writeWait = 5 * time.Second

// client is one WebSocket connection: its reader (ServeHTTP's goroutine)
// takes the peer's messages, its writer sends what is new at the peer's
// rate.
type client struct {
	f    *Feed
	conn *websocket.Conn

	mu    sync.Mutex
	rate  int
	areas map[string]bool // areas and lines subscribed to; nil: all
	view  string          // areas as a key (see view)
	reset bool            // send a snapshot next
	at    int64           // seek time; 0: following the source

	// what the writer sent last (the writer's alone)
	seq   uint64
	frame *frame       // the frame it was, when following the source; nil otherwise
	last  *scene.Scene // the scene (cut to the client's areas)
	span  [2]int64     // the span
	atNow int64        // the seek time

	wake    chan struct{} // capacity 1: the peer asked for something
	done    chan struct{} // closed when the reader has returned
	written chan struct{} // closed when the writer has returned
}

type inMsg struct {
	Type  string   `json:"type"`
	Rate  int      `json:"rate"`
	Areas []string `json:"areas"`
	Lines []string `json:"lines"`
	Time  int64    `json:"time"`
}

// newClient is a client of conn, with the rate, areas and lines asked
// for on the URL.
func newClient(f *Feed, conn *websocket.Conn, q url.Values) *client {
	c := &client{f: f, conn: conn, rate: 4, reset: true, wake: make(chan struct{}, 1), done: make(chan struct{}), written: make(chan struct{})}
	if r := q.Get("rate"); r != "" {
		var n int
		json.Unmarshal([]byte(r), &n)
		c.setRate(n)
	}
	var areas []string
	for _, k := range []string{"areas", "lines"} {
		if a := q.Get(k); a != "" {
			areas = append(areas, strings.Split(a, ",")...)
		}
	}
	c.subscribe(areas)
	return c
}

func (c *client) setRate(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case n <= 0:
		c.rate = 4
	case n > 30:
		c.rate = 30
	default:
		c.rate = n
	}
}

// subscribe sets the areas and lines shown (none: all) and asks for a
// snapshot.
func (c *client) subscribe(areas []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.areas = nil
	if len(areas) > 0 {
		c.areas = map[string]bool{}
		for _, a := range areas {
			c.areas[a] = true
		}
	}
	c.view = view(c.areas)
	c.reset = true
}

// reader handles the client's messages; it returns when the peer goes.
func (c *client) reader() {
	defer close(c.done)
	c.conn.SetReadLimit(4096)
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		return nil
	})
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		var m inMsg
		if json.Unmarshal(b, &m) != nil || !c.handle(m) {
			continue
		}
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// handle applies a message of the peer; false if it was none of the
// protocol's (or a seek the source cannot do).
func (c *client) handle(m inMsg) bool {
	switch m.Type {
	case "subscribe":
		c.setRate(m.Rate)
		c.subscribe(append(m.Areas, m.Lines...))
	case "resync":
		c.mu.Lock()
		c.reset = true
		c.mu.Unlock()
	case "seek":
		if _, ok := c.f.src.(Timeline); !ok || m.Time == 0 {
			return false
		}
		c.mu.Lock()
		c.at = m.Time
		c.mu.Unlock()
	case "follow":
		c.mu.Lock()
		c.at = 0
		c.mu.Unlock()
	default:
		return false
	}
	return true
}

// writer sends a message when there is something new, at most at the
// client's rate, and pings; it closes the connection when it returns.
func (c *client) writer() {
	defer close(c.written)
	defer c.conn.Close()
	ping := time.NewTicker(10 * time.Second)
	defer ping.Stop()
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	defer pace.Stop()
	var last time.Time
	var digits []byte
	for {
		_, tick := c.f.latest()
		c.mu.Lock()
		every := time.Second / time.Duration(c.rate)
		c.mu.Unlock()
		// a little early rather than a whole period late: a source that
		// changes at the client's rate is not aliased to half of it
		if wait := time.Until(last.Add(every * 9 / 10)); wait > 0 {
			pace.Reset(wait)
			select {
			case <-c.done:
				return
			case <-pace.C:
			}
			_, tick = c.f.latest()
		}
		sent, err := c.send(&digits)
		if err != nil {
			// too slow or gone: drop it; it will reconnect for a snapshot
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				c.f.dropped.Add(1)
			}
			return
		}
		if sent {
			c.f.sent.Add(1)
			last = time.Now()
		}
		select {
		case <-c.done:
			return
		case <-ping.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-tick:
		case <-c.wake:
		}
	}
}

// send writes the next message, if there is one: the shared one of the
// source's latest frame when the client follows the source, one of its
// own when it seeks (or has just stopped).
func (c *client) send(digits *[]byte) (bool, error) {
	fr, _ := c.f.latest()
	c.mu.Lock()
	at, reset, areas, key := c.at, c.reset, c.areas, c.view
	c.reset = false
	c.mu.Unlock()
	if at == 0 && c.atNow == 0 && (reset || c.frame != nil) {
		var from *frame
		if !reset {
			from = c.frame
		}
		if from == fr {
			return false, nil
		}
		m := fr.message(from, key, areas)
		c.frame, c.last, c.span = fr, fr.scene(key, areas), fr.span
		if m.pre == nil {
			return false, nil
		}
		c.seq++
		*digits = strconv.AppendUint((*digits)[:0], c.seq, 10)
		return true, c.write(m.pre, *digits, m.post)
	}
	sc := fr.scene(key, areas)
	span := fr.span
	if at != 0 {
		sc = filter(c.f.src.(Timeline).SceneAt(at), areas)
	}
	var m *outMsg
	if reset || c.last == nil {
		m = snapshot(sc, span, at)
	} else if m = delta(c.last, c.span, c.atNow, sc, span, at); m == nil {
		return false, nil
	}
	c.frame = nil
	if at == 0 {
		c.frame = fr // what it shows now is the frame's: the next message is shared
	}
	c.last, c.span, c.atNow = sc, span, at
	c.f.made.Add(1)
	pre, post := encode(m)
	c.seq++
	*digits = strconv.AppendUint((*digits)[:0], c.seq, 10)
	return true, c.write(pre, *digits, post)
}

// write sends one text message made of parts, within writeWait.
func (c *client) write(parts ...[]byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	w, err := c.conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

type outMsg struct {
	V        int                `json:"v"`
	Type     string             `json:"type"`
	Seq      uint64             `json:"seq"`
	Source   string             `json:"source"`
	Time     int64              `json:"time"`
	Span     *[2]int64          `json:"span,omitempty"`
	At       int64              `json:"at,omitempty"`
	Scene    *scene.Scene       `json:"scene,omitempty"`
	Stations []scene.Station    `json:"stations,omitempty"`
	Buffers  []scene.Buffer     `json:"buffers,omitempty"`
	KPIs     *scene.KPIs        `json:"kpis,omitempty"`
	Orders   *[]scene.OpenOrder `json:"orders,omitempty"` // a pointer: "orders": [] says none are open now
	Alarms   *[]string          `json:"alarms,omitempty"` // the twin's own alarms; [] when they cleared
}
