package web

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/feed"
	"twin/viz/scene"
)

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

// TestPageInChromium loads the page in headless Chromium against a feed
// of the motor plant: every station drawn in its state's colour, a state
// change shown within 2 s, a screenshot in e2e/out/.
func TestPageInChromium(t *testing.T) {
	for _, need := range []string{"/usr/bin/chromium", "e2e/node_modules/playwright-core"} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run make deps (apt chromium, npm ci in viz/web/e2e)", need)
		}
	}
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p)}
	for _, u := range p.Units {
		ps.st.Apply(event.Event{Time: 1, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(event.Running)})
	}
	live := feed.NewLive(ps.Scene, 0)
	f := feed.New(live, feed.Options{Token: "t0k"})
	srv := httptest.NewServer(Handler(f, live, "t0k"))
	defer srv.Close()
	defer f.Close()

	w1 := p.Units[1].Path()
	out, _ := filepath.Abs("e2e/out")
	os.MkdirAll(out, 0o755)
	shot := filepath.Join(out, "plant-view.png")
	cmd := exec.Command("node", "e2e.js", srv.URL+"/?token=t0k&rate=10", w1, shot)
	cmd.Dir = "e2e"
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), fmt.Sprintf("READY %d running", len(p.Units))) {
		cmd.Wait()
		t.Fatalf("page not ready: %q\n%s", sc.Text(), stderr.String())
	}
	ps.mu.Lock()
	ps.st.Apply(event.Event{Time: 2, Kind: event.State, Source: event.Live, Asset: w1, Value: float64(event.Down)})
	ps.mu.Unlock()
	changed := time.Now()
	fmt.Fprintln(stdin, "down")
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "OK") {
		cmd.Wait()
		t.Fatalf("state change not shown: %q\n%s", sc.Text(), stderr.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	t.Logf("every station drawn; W1 shown down %v after the change (%s); screenshot %s", time.Since(changed).Round(time.Millisecond), sc.Text(), shot)
}
