package feed

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/scene"
)

// plantState is a state that tests change under a lock.
type plantState struct {
	mu sync.Mutex
	st state.State
	l  *scene.Layout
}

func (p *plantState) Scene() *scene.Scene {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.l.Build(&p.st)
}

func (p *plantState) apply(e event.Event) {
	p.mu.Lock()
	p.st.Apply(e)
	p.mu.Unlock()
}

func setup(t *testing.T) (*plantState, *httptest.Server, *plant.Plant) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p)}
	f := New(ps, Options{Token: "s3cret"})
	srv := httptest.NewServer(f)
	t.Cleanup(func() { f.Close(); srv.Close() })
	return ps, srv, p
}

func dial(t *testing.T, srv *httptest.Server, query string, h http.Header) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?" + query
	return websocket.DefaultDialer.Dial(u, h)
}

type msg struct {
	V        int             `json:"v"`
	Type     string          `json:"type"`
	Seq      uint64          `json:"seq"`
	Source   string          `json:"source"`
	Scene    *scene.Scene    `json:"scene"`
	Stations []scene.Station `json:"stations"`
	KPIs     *scene.KPIs     `json:"kpis"`
}

func read(t *testing.T, c *websocket.Conn) msg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m msg
	if err := c.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFeed(t *testing.T) {
	ps, srv, p := setup(t)
	// refused: no token, wrong token, foreign origin
	if _, r, err := dial(t, srv, "", nil); err == nil || r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v", err)
	}
	if _, r, err := dial(t, srv, "token=nope", nil); err == nil || r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
	if _, r, err := dial(t, srv, "token=s3cret", http.Header{"Origin": {"http://evil.example"}}); err == nil || r.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v", err)
	}
	c, _, err := dial(t, srv, "token=s3cret&rate=20", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := read(t, c)
	if m.V != 1 || m.Type != "snapshot" || m.Seq != 1 || len(m.Scene.Stations) != len(p.Units) {
		t.Fatalf("first message %+v", m)
	}
	// a state change reaches the client as a delta, within 2 s
	w1 := p.Units[1].Path()
	at := time.Now()
	ps.apply(event.Event{Time: 1, Kind: event.State, Source: event.Replay, Asset: w1, Value: float64(event.Down)})
	m = read(t, c)
	if m.Type != "delta" || m.Seq != 2 || m.Source != "replay" || len(m.Stations) != 1 || m.Stations[0].Path != w1 || m.Stations[0].Color != "#d64545" || m.KPIs == nil || m.KPIs.Down != 1 {
		t.Fatalf("delta %+v", m)
	}
	if d := time.Since(at); d > 2*time.Second {
		t.Errorf("delta after %v", d)
	}
	// a resync gives a new snapshot; a subscription to one area filters
	c.WriteJSON(map[string]any{"type": "subscribe", "areas": []string{"rotor"}, "rate": 20})
	m = read(t, c)
	if m.Type != "snapshot" || m.Seq != 3 || len(m.Scene.Stations) != 4 {
		t.Fatalf("area subscription: %s seq %d, %d stations", m.Type, m.Seq, len(m.Scene.Stations))
	}
	// and to one line
	c.WriteJSON(map[string]any{"type": "subscribe", "lines": []string{"stator-line"}, "rate": 20})
	m = read(t, c)
	if m.Type != "snapshot" || len(m.Scene.Stations) == 0 || len(m.Scene.Stations) == len(p.Units) {
		t.Fatalf("line subscription: %s, %d stations", m.Type, len(m.Scene.Stations))
	}
	for _, s := range m.Scene.Stations {
		if s.Line != "stator-line" {
			t.Fatalf("line subscription: station %s of line %q", s.ID, s.Line)
		}
	}
	// oversized client messages close the connection
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"resync","pad":"`+strings.Repeat("x", 10000)+`"}`))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			break
		}
	}
}

// TestSlowClient: a client that stops reading does not delay another.
func TestSlowClient(t *testing.T) {
	ps, srv, p := setup(t)
	slow, _, err := dial(t, srv, "token=s3cret&rate=30", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close() // never read
	fast, _, err := dial(t, srv, "token=s3cret&rate=30", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	read(t, fast)
	for i := 0; i < 60; i++ {
		at := time.Now()
		ps.apply(event.Event{Time: int64(i + 2), Kind: event.Counter, Asset: p.Units[0].Path(), Name: "good", Value: float64(i)})
		m := read(t, fast)
		// waiting for the stalled one would take its write deadline
		if d := time.Since(at); d > writeWait/2 {
			t.Fatalf("update %d took %v with a stalled client connected", i, d)
		}
		var good float64
		for _, s := range m.Stations {
			good = s.Good
		}
		_ = good
	}
	b, _ := json.Marshal(ps.Scene().KPIs)
	if len(b) == 0 {
		t.Fatal("no KPIs")
	}
}

// TestSeek: a timeline source says its span; a client seeks back and sees
// the plant as it was, then follows again.
func TestSeek(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := scene.NewLayout(p)
	tape := state.NewTape(3)
	w1 := p.Units[1].Path()
	for i, ms := range []event.MachineState{event.Running, event.Down, event.Idle, event.Setup, event.Running, event.Blocked, event.Down} {
		tape.Emit(event.Event{Time: int64(i+1) * 1e9, Kind: event.State, Source: event.Scenario, Asset: w1, Value: float64(ms)})
	}
	end := l.Build(tape.End())
	h := &History{Follow: sourceFunc(func() *scene.Scene { return end }), Bounds: tape.Span,
		At: func(t int64) *scene.Scene { return l.Build(tape.At(t)) }}
	f := New(h, Options{Token: "s3cret"})
	srv := httptest.NewServer(f)
	defer srv.Close()
	defer f.Close()
	c, _, err := dial(t, srv, "token=s3cret&rate=30", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var m struct {
		msg
		Span *[2]int64 `json:"span"`
		At   int64     `json:"at"`
	}
	next := func() {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		m.Span, m.At, m.Scene, m.Stations = nil, 0, nil, nil
		if err := c.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
	}
	next()
	if m.Type != "snapshot" || m.Span == nil || m.Span[0] != 1e9 || m.Span[1] != 7e9 || m.Scene.Station(w1).State != "down" {
		t.Fatalf("snapshot: %s span %v state %s", m.Type, m.Span, m.Scene.Station(w1).State)
	}
	for _, tc := range []struct {
		at   int64
		want string
	}{{4e9 + 5e8, "setup"}, {2e9, "down"}, {6e9, "blocked"}} {
		c.WriteJSON(map[string]any{"type": "seek", "time": tc.at})
		next()
		if m.Type != "delta" || m.At != tc.at || len(m.Stations) != 1 || m.Stations[0].State != tc.want {
			t.Fatalf("seek %d: %s at %d stations %+v, want %s", tc.at, m.Type, m.At, m.Stations, tc.want)
		}
	}
	c.WriteJSON(map[string]any{"type": "follow"})
	next()
	if m.At != 0 || len(m.Stations) != 1 || m.Stations[0].State != "down" {
		t.Fatalf("follow: at %d stations %+v", m.At, m.Stations)
	}
}

type sourceFunc func() *scene.Scene

func (f sourceFunc) Scene() *scene.Scene { return f() }

// TestClient: the Go client follows snapshots and deltas, records state
// changes, and seeks.
func TestClient(t *testing.T) {
	ps, srv, p := setup(t)
	c := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?token=s3cret&rate=30")
	defer c.Close()
	wait := func(what string, ok func(*scene.Scene) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if sc := c.Scene(); sc != nil && ok(sc) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("client: %s not seen in 5 s (status %s)", what, c.Status())
			}
		}
	}
	wait("snapshot", func(sc *scene.Scene) bool { return len(sc.Stations) == len(p.Units) })
	w1 := p.Units[1].Path()
	for i, ms := range []event.MachineState{event.Running, event.Down, event.Idle} {
		ps.apply(event.Event{Time: int64(i+1) * 1e9, Kind: event.State, Source: event.Live, Asset: w1, Value: float64(ms)})
		wait(ms.String(), func(sc *scene.Scene) bool { return sc.Station(w1).State == ms.String() })
	}
	ch := c.Changes(w1)
	if len(ch) != 3 || ch[1].State != "down" || ch[1].Time != 2e9 {
		t.Fatalf("changes %+v", ch)
	}
}

// TestSharedDeltas: clients that follow the source share the message of
// each scene change: it is made once, whatever the number of clients, for
// each set of areas; every client still gets its own seq.
func TestSharedDeltas(t *testing.T) {
	ps, srv, p := setup(t)
	f := srv.Config.Handler.(*Feed)
	const n = 20
	var conns []*websocket.Conn
	for i := 0; i < n; i++ {
		q := "token=s3cret&rate=30"
		if i%2 == 1 {
			q += "&areas=rotor"
		}
		c, _, err := dial(t, srv, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if m := read(t, c); m.Type != "snapshot" || m.Seq != 1 {
			t.Fatalf("client %d: first message %s seq %d", i, m.Type, m.Seq)
		}
		conns = append(conns, c)
	}
	before := f.Stats()
	// a change in the stator: every client of all areas gets it; those of
	// the rotor only see the time move
	w1 := p.Units[1].Path()
	ps.apply(event.Event{Time: 5e9, Kind: event.State, Source: event.Live, Asset: w1, Value: float64(event.Down)})
	for i, c := range conns {
		m := read(t, c)
		all := i%2 == 0
		if m.Type != "delta" || m.Seq != 2 || all && (len(m.Stations) != 1 || m.Stations[0].Path != w1) || !all && len(m.Stations) != 0 {
			t.Fatalf("client %d (all areas %v): %s seq %d, %d stations", i, all, m.Type, m.Seq, len(m.Stations))
		}
	}
	after := f.Stats()
	// one delta for each view (made before any client reads it)
	if made := after.Made - before.Made; made != 2 {
		t.Errorf("%d messages made for %d clients of 2 views, want 2 (one per view)", made, n)
	}
}

// TestClose: Close disconnects the clients and returns once their
// goroutines have; a client that comes after Close is refused.
func TestClose(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p)}
	f := New(ps, Options{Token: "s3cret"})
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _, err := dial(t, srv, "token=s3cret", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	read(t, c)
	f.Close()
	if n := f.Stats().Clients; n != 0 {
		t.Errorf("%d clients after Close", n)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Error("a client still reads after Close")
	}
	if _, r, err := dial(t, srv, "token=s3cret", nil); err == nil || r == nil || r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a client after Close: %v %v, want 503", err, r)
	}
	f.Close() // twice: nothing
}

// TestDeltasRebuildTheScene: clients at different rates, of all areas and
// of one, that apply their deltas to their snapshot all end with the
// source's scene (cut to their areas), whatever changes they skipped.
func TestDeltasRebuildTheScene(t *testing.T) {
	ps, srv, p := setup(t)
	base := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?token=s3cret"
	type follower struct {
		c     *Client
		areas map[string]bool
	}
	var fs []follower
	for _, rate := range []string{"1", "4", "30"} {
		for _, areas := range []string{"", "rotor"} {
			u := base + "&rate=" + rate
			var want map[string]bool
			if areas != "" {
				u += "&areas=" + areas
				want = map[string]bool{areas: true}
			}
			c := Dial(context.Background(), u)
			defer c.Close()
			fs = append(fs, follower{c, want})
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	states := []event.MachineState{event.Running, event.Idle, event.Down, event.Setup, event.Blocked}
	for i := 1; i <= 200; i++ {
		u := p.Units[r.IntN(len(p.Units))]
		ps.apply(event.Event{Time: int64(i) * 1e9, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(states[r.IntN(len(states))])})
		ps.apply(event.Event{Time: int64(i) * 1e9, Kind: event.Counter, Source: event.Live, Asset: u.Path(), Name: "good", Value: float64(i)})
		if i%10 == 0 {
			time.Sleep(10 * time.Millisecond) // a source's pace: the clients coalesce different changes
		}
	}
	final := ps.Scene()
	shown := func(sc *scene.Scene) string {
		b, _ := json.Marshal(struct {
			S []scene.Station
			B []scene.Buffer
			K scene.KPIs
			T int64
		}{sc.Stations, sc.Buffers, sc.KPIs, sc.Time})
		return string(b)
	}
	for i, f := range fs {
		want := shown(filter(final, f.areas))
		deadline := time.Now().Add(10 * time.Second)
		for {
			sc := f.c.Scene()
			if sc != nil && shown(sc) == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("client %d (areas %v): its scene is not the source's after 10 s (status %s, %d messages)", i, f.areas, f.c.Status(), f.c.Messages())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// The twin's own alarms reach a client in a delta when they are raised,
// and "alarms": [] when they clear (so do the open orders: an empty list
// was left out of the message, and a client kept the last orders).
func TestDeltaAlarmsAndNoOrders(t *testing.T) {
	a := &scene.Scene{Orders: []scene.OpenOrder{{ID: "PO-1"}}}
	b := &scene.Scene{Alarms: []string{"the disk is full"}}
	var c scene.Scene
	for _, step := range []struct {
		from, to *scene.Scene
		alarms   []string
		orders   int
	}{{a, b, []string{"the disk is full"}, 0}, {b, a, []string{}, 1}} {
		m := delta(step.from, [2]int64{}, 0, step.to, [2]int64{}, 0)
		pre, post := encode(m)
		var got outMsg
		if err := json.Unmarshal(append(append(pre, '1'), post...), &got); err != nil {
			t.Fatal(err)
		}
		if got.Alarms == nil || !slices.Equal(*got.Alarms, step.alarms) || got.Orders == nil || len(*got.Orders) != step.orders {
			t.Errorf("delta %s: alarms %v, orders %v", pre, got.Alarms, got.Orders)
		}
		c.Alarms = *got.Alarms
	}
	if len(c.Alarms) != 0 {
		t.Errorf("alarms after they cleared: %v", c.Alarms)
	}
}
