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
// message, and the KPI tiles, the open orders and the twin's own alarms
// when they changed ("orders": [] and "alarms": [] when none are left). Times are
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
//
// Cost: a message is made once per scene change, not once per client.
// Each new scene of the source is a frame; the message that takes a
// client from one frame to another (or the snapshot of a frame), for its
// areas and lines, is encoded by the first client that needs it and
// written by all the others with their own seq spliced in. Clients at the
// source's rate share one delta per change; slower ones share one per
// frame they last saw. Only a client that seeks has messages of its own.
//
// Goroutines: the feed polls the source on one goroutine; each client has
// a reader (ServeHTTP's own) and a writer, which ServeHTTP joins before
// it returns. Close refuses new clients (503), disconnects the others and
// returns once all of them, and the poll, are gone.
package feed

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
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
	cur     *frame        // the source's latest scene
	tick    chan struct{} // closed when cur changes
	closed  bool          // Close was called: ServeHTTP refuses
	serving sync.WaitGroup
	stop    chan struct{}
	polled  chan struct{} // closed when poll has returned
	dropped atomic.Uint64
	sent    atomic.Uint64
	frames  atomic.Uint64
	made    atomic.Uint64
}

// New makes a feed of src and starts polling it; Close stops it.
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
		f.next(f.src.Scene(), f.timelineSpan())
	}
}

// next makes the source's scene sc the latest frame, unless it shows
// nothing new. The delta from the frame before, for the clients of every
// area, is made here, once per change; the clients at the source's rate
// all send it.
func (f *Feed) next(sc *scene.Scene, span [2]int64) {
	f.mu.Lock()
	cur := f.cur
	f.mu.Unlock()
	if cur != nil && sc == cur.sc && span == cur.span {
		return
	}
	var d *outMsg
	if cur != nil {
		if d = delta(cur.sc, cur.span, 0, sc, span, 0); d == nil {
			return // a new scene of the same plant (a source that rebuilds its scene): the clients keep theirs
		}
	}
	fr := f.newFrame(sc, span)
	if d != nil {
		fr.preset(cur, "", d)
	}
	f.mu.Lock()
	f.cur = fr
	close(f.tick)
	f.tick = make(chan struct{})
	f.mu.Unlock()
}

// newFrame makes the frame of a new scene of the source.
func (f *Feed) newFrame(sc *scene.Scene, span [2]int64) *frame {
	return &frame{id: f.frames.Add(1), sc: sc, span: span, made: &f.made}
}

// timelineSpan asks a Timeline source for its span (which may cost a
// look into a store: once a poll, not once a client).
func (f *Feed) timelineSpan() (span [2]int64) {
	if tl, ok := f.src.(Timeline); ok {
		span[0], span[1] = tl.Span()
	}
	return span
}

// latest is the source's latest frame and the channel closed when there
// is a newer one.
func (f *Feed) latest() (*frame, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		f.cur = f.newFrame(f.src.Scene(), f.timelineSpan())
	}
	return f.cur, f.tick
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
	Frames  uint64 `json:"frames"`  // scenes of the source sent on
	Made    uint64 `json:"made"`    // messages encoded: shared by the clients that follow the source, one each for those that seek
}

// Stats returns the counters.
func (f *Feed) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Stats{Clients: len(f.clients), Sent: f.sent.Load(), Dropped: f.dropped.Load(), Frames: f.frames.Load(), Made: f.made.Load()}
}

// ServeHTTP upgrades the connection and runs the client until it leaves;
// after Close it refuses (503).
func (f *Feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(r) {
		http.Error(w, "a token is required: ?token=… or Authorization: Bearer …", http.StatusUnauthorized)
		return
	}
	if !f.serve() {
		http.Error(w, "the feed is closed: the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer f.serving.Done()
	conn, err := f.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered (bad origin, not a WebSocket)
	}
	c := newClient(f, conn, r.URL.Query())
	if !f.join(c) {
		conn.Close()
		return
	}
	defer f.leave(c)
	go c.writer()
	c.reader()
	<-c.written
}

// serve counts a request in, unless the feed is closed.
func (f *Feed) serve() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.serving.Add(1)
	return true
}

// join adds a client, unless the feed has closed since it was let in.
func (f *Feed) join(c *client) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.clients[c] = true
	return true
}

func (f *Feed) leave(c *client) {
	f.mu.Lock()
	delete(f.clients, c)
	f.mu.Unlock()
}

// Close refuses new clients, disconnects every client, and returns once
// their goroutines and the poll have ended (the source is not asked again
// once Close returns: its owner may close what it reads). It is safe to
// call twice.
func (f *Feed) Close() {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.stop)
	}
	for c := range f.clients {
		c.conn.Close()
	}
	f.mu.Unlock()
	<-f.polled
	f.serving.Wait()
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
