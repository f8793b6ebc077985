package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/feed"
	"twin/viz/scene"
	"twin/viz/web/e2e"
)

// TestPageShowsPlantTime: in a browser whose own zone is UTC, the page
// shows the plant's clock (Asia/Shanghai, UTC+08:00) and names the zone:
// the plant at 01:13 UTC reads 09:13, an order due at 08:00 UTC is due at
// 16:00. Before, the page showed the browser's clock (01:13). Screenshots
// at a phone's 390×844 and a desktop's 1280×800 go to e2e/out/.
func TestPageShowsPlantTime(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p)}
	tape := state.NewTape(0)
	apply := func(e event.Event) {
		ps.mu.Lock()
		ps.st.Apply(e)
		tape.Emit(e)
		ps.mu.Unlock()
	}
	start := time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC).UnixNano()
	now := time.Date(2026, 12, 1, 1, 13, 0, 0, time.UTC).UnixNano() // 09:13 in the plant
	due := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)             // 16:00 in the plant
	for _, u := range p.Units {
		apply(event.Event{Time: start, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(event.Running)})
	}
	apply(event.Event{Time: now, Kind: event.Order, Source: event.Live, Asset: p.Products[0].ID, Name: "released", Ref: "PO-000123", Value: 5})
	apply(event.Event{Time: now, Kind: event.Order, Source: event.Live, Asset: p.Products[0].ID, Name: "due", Ref: "PO-000123", Value: float64(due.Unix())})
	live := feed.NewLive(ps.Scene, 0)
	h := &feed.History{Follow: live, Bounds: func() (int64, int64) {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		return tape.Span()
	}, At: func(t int64) *scene.Scene {
		ps.mu.Lock()
		defer ps.mu.Unlock()
		sc := ps.l.Build(tape.At(t))
		sc.Source = "replay"
		return sc
	}}
	f := feed.New(h, feed.Options{Token: "t0k"})
	srv := httptest.NewServer(Handler(f, h, "t0k"))
	defer srv.Close()
	defer f.Close()

	page := e2e.Open(t, srv.URL+"/?token=t0k&rate=10")
	if z := page.Do("zone"); len(z) != 1 || z[0] != "UTC" {
		t.Fatalf("the browser's zone is %v, want UTC (the test proves nothing otherwise)", z)
	}
	if got, want := page.Text("#clock"), "Tue 2026-12-01 09:13 Asia/Shanghai"; got != want {
		t.Fatalf("the page's clock reads %q, want %q (the plant's, named)", got, want)
	}
	if got := page.Text("#orders"); !strings.Contains(got, "PO-000123") || !strings.Contains(got, "12-01 16:00") {
		t.Fatalf("the open orders read %q, want PO-000123 due 12-01 16:00 (plant time)", got)
	}
	if from, to := page.Text("#tl-from"), page.Text("#tl-to"); from != "Tue 2026-12-01 08:30" || to != "Tue 2026-12-01 09:13" {
		t.Fatalf("the timeline runs from %q to %q, want 08:30 to 09:13 (plant time)", from, to)
	}
	out, _ := filepath.Abs("e2e/out")
	os.MkdirAll(out, 0o755)
	for _, vp := range []struct {
		name string
		w, h int
	}{{"phone", 390, 844}, {"desktop", 1280, 800}} {
		page.Do("viewport %d %d", vp.w, vp.h)
		if got := page.Text("#clock"); got != "Tue 2026-12-01 09:13 Asia/Shanghai" {
			t.Fatalf("%s: the clock reads %q", vp.name, got)
		}
		page.Do("shot %s", filepath.Join(out, "plant-time-"+vp.name+".png"))
	}
	t.Logf("the page shows the plant's clock in a UTC browser; screenshots in %s", out)
}
