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
	page := timePage(t, "", "&lang=en")
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

// TestPageInPlantLocale: a plant whose file says zh-CN shows its page in
// Chinese to a browser that asks for English (the plant's word first),
// the weekday too, on a phone without sideways scrolling; the page's
// button switches to English and back.
func TestPageInPlantLocale(t *testing.T) {
	page := timePage(t, "", "") // motor.yaml says locale: zh-CN
	waitText := func(sel, want string) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got := page.Text(sel)
			if got == want {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("%s reads %q, want %q", sel, got, want)
			}
		}
	}
	waitText("#clock", "周二 2026-12-01 09:13 Asia/Shanghai")
	waitText("#tl-follow", "跟随")
	waitText("#source", "实时")
	if got := page.Text("#k-aeq"); !strings.HasPrefix(got, "今日 OEE") {
		t.Fatalf("the OEE tile says %q, want 今日 OEE…", got)
	}
	if got := page.Text("#legend"); !strings.Contains(got, "运行") || !strings.Contains(got, "待料") {
		t.Fatalf("the legend says %q, want the states in Chinese", got)
	}
	out, _ := filepath.Abs("e2e/out")
	os.MkdirAll(out, 0o755)
	for _, vp := range []struct {
		name string
		w, h int
	}{{"phone", 390, 844}, {"desktop", 1280, 800}} {
		page.Do("viewport %d %d", vp.w, vp.h)
		if r := page.Do("overflow"); r[0] > r[1] {
			t.Fatalf("%s: the page is %s px wide in a %s px viewport: it scrolls sideways", vp.name, r[0], r[1])
		}
		page.Do("shot %s", filepath.Join(out, "plant-zh-"+vp.name+".png"))
	}
	page.Do("click #lang")
	waitText("#clock", "Tue 2026-12-01 09:13 Asia/Shanghai")
	waitText("#tl-follow", "follow")
	page.Do("click #lang")
	waitText("#tl-follow", "跟随")
	t.Logf("the page in the plant's Chinese and, by its button, English; screenshots in %s", out)
}

// timePage opens the page on the motor plant at 09:13 plant time
// (01:13 UTC) with an order due at 16:00, its scenes in locale (the
// plant file's; "" none), the URL ending in query.
func timePage(t *testing.T, locale, query string) *e2e.Page {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p), locale: locale}
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
		if locale != "" {
			sc.Locale = locale
		}
		return sc
	}}
	f := feed.New(h, feed.Options{Token: "t0k"})
	srv := httptest.NewServer(Handler(f, h, "t0k"))
	t.Cleanup(srv.Close)
	t.Cleanup(f.Close)
	return e2e.Open(t, srv.URL+"/?token=t0k&rate=10"+query)
}
