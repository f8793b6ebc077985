package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/feed"
	"twin/viz/scene"
	"twin/viz/web/e2e"
)

type plantState struct {
	mu     sync.Mutex
	st     state.State
	l      *scene.Layout
	alarms []string // the twin's own
	locale string   // the plant file's
}

func (p *plantState) Scene() *scene.Scene {
	p.mu.Lock()
	defer p.mu.Unlock()
	sc := p.l.Build(&p.st)
	sc.Alarms = p.alarms
	if p.locale != "" {
		sc.Locale = p.locale
	}
	return sc
}

// TestPageInChromium loads the page in headless Chromium against a feed
// of the motor plant with a history: every station drawn in its state's
// colour, a state change shown within 2 s, the timeline scrubbed back to
// the past and following again, a screenshot in e2e/out/.
func TestPageInChromium(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p)}
	tape := state.NewTape(0) // the history the timeline seeks in
	apply := func(e event.Event) {
		ps.mu.Lock()
		ps.st.Apply(e)
		tape.Emit(e)
		ps.mu.Unlock()
	}
	for _, u := range p.Units {
		apply(event.Event{Time: 1e9, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(event.Running)})
	}
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
	if page.Stations != len(p.Units) {
		t.Fatalf("%d stations drawn, want %d", page.Stations, len(p.Units))
	}
	w1 := p.Units[1].Path()
	changed := time.Now()
	apply(event.Event{Time: 3600e9, Kind: event.State, Source: event.Live, Asset: w1, Value: float64(event.Down)})
	ms := page.Do("state %s down", w1)
	t.Logf("every station drawn; W1 shown down %v after the change (page: %s ms)", time.Since(changed).Round(time.Millisecond), ms[0])
	// scrub to the start: W1 was running then, and the page says replay
	r := page.Do("seek 0.1")
	if r[1] != "replay" {
		t.Fatalf("seek: the page says %s, want replay", r[1])
	}
	page.Do("state %s running", w1)
	out, _ := filepath.Abs("e2e/out")
	os.MkdirAll(out, 0o755)
	page.Do("shot %s", filepath.Join(out, "plant-view-seek.png"))
	if r := page.Do("follow"); r[1] != "live" {
		t.Fatalf("follow: the page says %s, want live", r[1])
	}
	page.Do("state %s down", w1)
	// the twin's own alarm across the top, and gone when it clears
	setAlarms := func(a ...string) {
		ps.mu.Lock()
		ps.alarms = a
		ps.mu.Unlock()
	}
	const disk = "the data directory's disk is full: nothing is recorded until space is freed"
	banner := func(want string) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got := page.Text("#alarms")
			if got == want {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("the page's alarm banner says %q, want %q", got, want)
			}
		}
	}
	setAlarms(disk)
	banner("⚠ " + disk)
	page.Do("shot %s", filepath.Join(out, "plant-view-alarm.png"))
	page.Do("viewport 390 844") // a phone
	page.Do("shot %s", filepath.Join(out, "plant-view-alarm-phone.png"))
	page.Do("viewport 1280 800")
	setAlarms()
	banner("")
	shot := filepath.Join(out, "plant-view.png")
	page.Do("shot %s", shot)
	t.Logf("timeline: seek shown in %s ms; screenshots in %s", r[0], out)
}
