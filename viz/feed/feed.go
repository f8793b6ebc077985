// Package feed serves the plant to web clients over a WebSocket: a
// snapshot of the scene on connect, then coalesced deltas at the rate the
// client asks for. Protocol version 1 (JSON text messages):
//
// Server to client, every message:
//
//	{"v": 1, "type": "snapshot"|"delta", "seq": n, "source": "live"|"replay"|"scenario"|"forecast", "time": unixNs, …}
//
// seq counts the messages of one connection from 1 with no gaps; a client
// that sees a gap (or wants to start over) sends {"type": "resync"} and gets
// a new snapshot. A snapshot carries the whole scene ("scene": see package
// scene); a delta the stations and buffers that changed since the last
// message, and the KPI tiles and open orders when they changed. Times are
// Unix ns; the scene's "zone" (IANA, e.g. "Asia/Shanghai") is the plant's
// time zone, in which a client shows them.
//
// A source with a history (a replay, a scenario run, a live twin's store)
// is a Timeline: its messages carry "span": [from, to] (Unix ns), in every
// snapshot and in a delta when it grows, and a client may seek:
//
//	{"type": "seek", "time": unixNs}   show the plant as it was then ("at" in the messages says so)
//	{"type": "follow"}                 follow the source again (the live plant, or the playback)
//
// Seeking a live twin's history shows source "replay".
//
// Client to server:
//
//	{"type": "subscribe", "rate": 10, "areas": ["stator"], "lines": ["rotor-line"]}
//	    rate in updates/s (1–30, default 4); areas, lines: only the stations in these
//	    ISA-95 areas or lines (default all); ?rate=, ?areas=a,b and ?lines=x on the URL do the same
//	{"type": "resync"}
//
// Deltas go out when the source has a new scene, at most at the client's
// rate: a new scene reaches every client within one poll of the source
// (10 ms) plus the network.
//
// Safety: a token is required (?token=… or "Authorization: Bearer …"), the
// Origin must be the server's own host (or one listed), client messages are
// limited to 4 KiB, a ping every 10 s drops peers that stop answering, and
// every client has its own writer: one that cannot take a message within
// 5 s is disconnected without delaying the others (it reconnects and gets
// a fresh snapshot); deltas coalesce, so a client never has a backlog.
package feed

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"twin/viz/scene"
)

// Version is the protocol version.
const Version = 1

// Source provides scenes; Scene must be safe to call from any goroutine.
type Source interface {
	Scene() *scene.Scene
}

// Timeline is a Source with a history a client can seek in.
type Timeline interface {
	Source
	Span() (from, to int64)
	SceneAt(t int64) *scene.Scene
}

// Options configure a feed.
type Options struct {
	Token          string   // required; empty refuses everyone
	AllowedOrigins []string // besides the server's own host
	Logger         *slog.Logger
	Poll           time.Duration // how often to ask the source for a new scene; 10 ms by default
}

// Feed is the WebSocket endpoint.
type Feed struct {
	src      Source
	opt      Options
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu      sync.Mutex
	clients map[*client]bool
	cur     *scene.Scene  // the source's latest scene
	span    [2]int64      // a Timeline source's span, as of the latest poll
	tick    chan struct{} // closed when cur or span changes
	stop    chan struct{}
	polled  chan struct{} // closed when poll has returned
	dropped atomic.Uint64
	sent    atomic.Uint64
}

// New makes a feed of src.
func New(src Source, opt Options) *Feed {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Poll <= 0 {
		opt.Poll = 10 * time.Millisecond
	}
	f := &Feed{src: src, opt: opt, log: opt.Logger, clients: map[*client]bool{}, tick: make(chan struct{}), stop: make(chan struct{}), polled: make(chan struct{})}
	f.upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 16384, CheckOrigin: f.checkOrigin}
	go f.poll()
	return f
}

// poll asks the source for its scene while anyone listens, and wakes the
// clients when it changed.
func (f *Feed) poll() {
	defer close(f.polled)
	t := time.NewTicker(f.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		f.mu.Lock()
		n := len(f.clients)
		f.mu.Unlock()
		if n == 0 {
			continue
		}
		sc := f.src.Scene()
		span := f.timelineSpan()
		f.mu.Lock()
		if sc != f.cur || span != f.span {
			f.cur, f.span = sc, span
			close(f.tick)
			f.tick = make(chan struct{})
		}
		f.mu.Unlock()
	}
}

// timelineSpan asks a Timeline source for its span (which may cost a
// look into a store: once a poll, not once a client).
func (f *Feed) timelineSpan() (span [2]int64) {
	if tl, ok := f.src.(Timeline); ok {
		span[0], span[1] = tl.Span()
	}
	return span
}

// latest is the source's latest scene, its span, and the channel closed
// when either changes.
func (f *Feed) latest() (*scene.Scene, [2]int64, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		f.cur, f.span = f.src.Scene(), f.timelineSpan()
	}
	return f.cur, f.span, f.tick
}

func (f *Feed) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range f.opt.AllowedOrigins {
		if strings.EqualFold(a, o) {
			return true
		}
	}
	return false
}

func (f *Feed) authorised(r *http.Request) bool {
	tok := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	return f.opt.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(f.opt.Token)) == 1
}

// Stats count the feed's clients and messages.
type Stats struct {
	Clients int    `json:"clients"`
	Sent    uint64 `json:"sent"`
	Dropped uint64 `json:"dropped"` // clients disconnected for being too slow
}

// Stats returns the counters.
func (f *Feed) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Stats{Clients: len(f.clients), Sent: f.sent.Load(), Dropped: f.dropped.Load()}
}

type client struct {
	f     *Feed
	conn  *websocket.Conn
	mu    sync.Mutex
	rate  int
	areas map[string]bool // areas and lines subscribed to; nil: all
	seq   uint64
	last  *scene.Scene // what this client was sent
	reset bool
	at    int64    // seek time; 0: following the source
	atNow int64    // the seek time last sent
	span  [2]int64 // the span last sent
	wake  chan struct{}
	done  chan struct{}
}

type inMsg struct {
	Type  string   `json:"type"`
	Rate  int      `json:"rate"`
	Areas []string `json:"areas"`
	Lines []string `json:"lines"`
	Time  int64    `json:"time"`
}

// ServeHTTP upgrades the connection and runs the client until it leaves.
func (f *Feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(r) {
		http.Error(w, "a token is required: ?token=… or Authorization: Bearer …", http.StatusUnauthorized)
		return
	}
	conn, err := f.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered (bad origin, not a WebSocket)
	}
	c := &client{f: f, conn: conn, rate: 4, reset: true, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if q := r.URL.Query().Get("rate"); q != "" {
		var n int
		json.Unmarshal([]byte(q), &n)
		c.setRate(n)
	}
	for _, k := range []string{"areas", "lines"} {
		if a := r.URL.Query().Get(k); a != "" {
			if c.areas == nil {
				c.areas = map[string]bool{}
			}
			for _, x := range strings.Split(a, ",") {
				c.areas[x] = true
			}
		}
	}
	f.mu.Lock()
	f.clients[c] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.clients, c)
		f.mu.Unlock()
	}()
	go c.writer()
	c.reader()
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
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case "subscribe":
			c.setRate(m.Rate)
			c.mu.Lock()
			c.areas = nil
			if len(m.Areas)+len(m.Lines) > 0 {
				c.areas = map[string]bool{}
				for _, a := range append(m.Areas, m.Lines...) {
					c.areas[a] = true
				}
			}
			c.reset = true
			c.mu.Unlock()
		case "resync":
			c.mu.Lock()
			c.reset = true
			c.mu.Unlock()
		case "seek":
			if _, ok := c.f.src.(Timeline); !ok || m.Time == 0 {
				continue
			}
			c.mu.Lock()
			c.at = m.Time
			c.mu.Unlock()
		case "follow":
			c.mu.Lock()
			c.at = 0
			c.mu.Unlock()
		default:
			continue
		}
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// scene is what this client should see now, the span, and the channel
// closed when the source changes.
func (c *client) scene() (*scene.Scene, [2]int64, chan struct{}) {
	sc, span, tick := c.f.latest()
	c.mu.Lock()
	at := c.at
	c.mu.Unlock()
	if tl, ok := c.f.src.(Timeline); ok && at != 0 {
		return tl.SceneAt(at), span, tick
	}
	return sc, span, tick
}

// writer sends a message when there is something new, at most at the
// client's rate, and pings.
func (c *client) writer() {
	defer c.conn.Close()
	ping := time.NewTicker(10 * time.Second)
	defer ping.Stop()
	var last time.Time
	for {
		sc, span, tick := c.scene()
		c.mu.Lock()
		every := time.Second / time.Duration(c.rate)
		c.mu.Unlock()
		// a little early rather than a whole period late: a source that
		// changes at the client's rate is not aliased to half of it
		if wait := time.Until(last.Add(every * 9 / 10)); wait > 0 {
			select {
			case <-c.done:
				return
			case <-time.After(wait):
			}
			sc, span, tick = c.scene()
		}
		if msg := c.message(sc, span); msg != nil {
			c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				// too slow or gone: drop it; it will reconnect for a snapshot
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					c.f.dropped.Add(1)
				}
				return
			}
			c.f.sent.Add(1)
			last = time.Now()
		}
		select {
		case <-c.done:
			return
		case <-ping.C:
			c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-tick:
		case <-c.wake:
		}
	}
}

type outMsg struct {
	V        int               `json:"v"`
	Type     string            `json:"type"`
	Seq      uint64            `json:"seq"`
	Source   string            `json:"source"`
	Time     int64             `json:"time"`
	Span     *[2]int64         `json:"span,omitempty"`
	At       int64             `json:"at,omitempty"`
	Scene    *scene.Scene      `json:"scene,omitempty"`
	Stations []scene.Station   `json:"stations,omitempty"`
	Buffers  []scene.Buffer    `json:"buffers,omitempty"`
	KPIs     *scene.KPIs       `json:"kpis,omitempty"`
	Orders   []scene.OpenOrder `json:"orders,omitempty"`
}

// message is the next message for this client, or nil if nothing changed.
func (c *client) message(sc *scene.Scene, span [2]int64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc = c.filter(sc)
	m := outMsg{V: Version, Source: sc.Source, Time: sc.Time, At: c.at}
	if c.reset || c.last == nil {
		m.Type, m.Scene = "snapshot", sc
		c.reset = false
		if span != [2]int64{} {
			m.Span = &span
		}
	} else {
		m.Type = "delta"
		for i := range sc.Stations {
			if i >= len(c.last.Stations) || !reflect.DeepEqual(sc.Stations[i], c.last.Stations[i]) {
				m.Stations = append(m.Stations, sc.Stations[i])
			}
		}
		for i := range sc.Buffers {
			if i >= len(c.last.Buffers) || sc.Buffers[i] != c.last.Buffers[i] {
				m.Buffers = append(m.Buffers, sc.Buffers[i])
			}
		}
		if sc.KPIs != c.last.KPIs {
			k := sc.KPIs
			m.KPIs = &k
		}
		if !reflect.DeepEqual(sc.Orders, c.last.Orders) {
			m.Orders = sc.Orders
			if m.Orders == nil {
				m.Orders = []scene.OpenOrder{}
			}
		}
		if span != c.span {
			m.Span = &span
		}
		if len(m.Stations) == 0 && len(m.Buffers) == 0 && m.KPIs == nil && m.Orders == nil && m.Span == nil && c.at == c.atNow && sc.Time == c.last.Time && sc.Source == c.last.Source {
			return nil
		}
	}
	c.last, c.span, c.atNow = sc, span, c.at
	c.seq++
	m.Seq = c.seq
	b, _ := json.Marshal(m)
	return b
}

// filter keeps the client's areas.
func (c *client) filter(sc *scene.Scene) *scene.Scene {
	if len(c.areas) == 0 {
		return sc
	}
	f := *sc
	f.Stations = nil
	wcs := map[string]bool{}
	for _, s := range sc.Stations {
		if c.areas[s.Area] || c.areas[s.Line] {
			f.Stations = append(f.Stations, s)
			wcs[s.WorkCenter] = true
		}
	}
	f.Buffers = nil
	for _, b := range sc.Buffers {
		if wcs[b.WorkCenter] {
			f.Buffers = append(f.Buffers, b)
		}
	}
	return &f
}

// Close disconnects every client.
func (f *Feed) Close() {
	f.mu.Lock()
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	for c := range f.clients {
		c.conn.Close()
	}
	f.mu.Unlock()
	// the source is not asked again once Close returns (its owner may
	// close what it reads)
	<-f.polled
}

// Live is a Source over a state that changes: Scene rebuilds at most every
// interval.
type Live struct {
	mu    sync.Mutex
	build func() *scene.Scene
	every time.Duration
	at    time.Time
	last  *scene.Scene
}

// NewLive caches build's scene for every.
func NewLive(build func() *scene.Scene, every time.Duration) *Live {
	return &Live{build: build, every: every}
}

// Scene returns the current scene.
func (l *Live) Scene() *scene.Scene {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil || time.Since(l.at) >= l.every {
		l.last, l.at = l.build(), time.Now()
	}
	return l.last
}

// History is a Timeline made of functions: Follow is what a client that
// does not seek sees (the live plant, or a playback's position); Bounds
// the recorded span; At the scene at a time, which History caches (the
// last 64 times asked for), as clients on one slider ask for the same.
type History struct {
	Follow Source
	Bounds func() (from, to int64)
	At     func(t int64) *scene.Scene

	mu    sync.Mutex
	cache map[int64]*scene.Scene
	order []int64
}

// Scene is Follow's scene.
func (h *History) Scene() *scene.Scene { return h.Follow.Scene() }

// Span is Bounds.
func (h *History) Span() (from, to int64) { return h.Bounds() }

// SceneAt is At, cached.
func (h *History) SceneAt(t int64) *scene.Scene {
	h.mu.Lock()
	if sc, ok := h.cache[t]; ok {
		h.mu.Unlock()
		return sc
	}
	h.mu.Unlock()
	sc := h.At(t)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cache == nil {
		h.cache = map[int64]*scene.Scene{}
	}
	if _, ok := h.cache[t]; !ok {
		h.cache[t] = sc
		h.order = append(h.order, t)
		if len(h.order) > 64 {
			delete(h.cache, h.order[0])
			h.order = h.order[1:]
		}
	}
	return sc
}
