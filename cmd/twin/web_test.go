package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"twin/viz/scene"
	"twin/viz/web/e2e"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoWebPage opens the web page of a running demo in headless
// Chromium: every station drawn in its state's colour, a state change of
// the running plant shown within 2 s, the timeline scrubbed into the
// demo's history and back to live.
func TestDemoWebPage(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test runs once, without -short")
	}
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("cmd/twin")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"demo", "--data", t.TempDir(), "--for", "2m", "--speed", "60", "--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0", "--token", "e2e"}, &out, &errs)
	}()
	defer func() { cancel(); <-done }()
	re := regexp.MustCompile(`web view +(http://\S+)`)
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no web view after 60 s:\n%s\n%s", out.String(), errs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	page := e2e.Open(t, url+"&rate=10")
	api := regexp.MustCompile(`/\?token=`).ReplaceAllString(url, "/api/scene?token=")
	get := func() *scene.Scene {
		r, err := http.Get(api)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var sc scene.Scene
		if err := json.NewDecoder(r.Body).Decode(&sc); err != nil {
			t.Fatal(err)
		}
		return &sc
	}
	first := get()
	if page.Stations != len(first.Stations) {
		t.Fatalf("the page drew %d stations, the plant has %d", page.Stations, len(first.Stations))
	}
	// wait for the plant to change a station's state, then for the page
	var path string
	var since int64
	for deadline := time.Now().Add(30 * time.Second); path == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no station changed state in 30 s of the demo")
		}
		now := get()
		for i, s := range now.Stations {
			if s.Since > first.Stations[i].Since {
				path, since = s.Path, s.Since
				break
			}
		}
	}
	ms := page.Do("since %s %d", path, since)
	t.Logf("%d stations drawn; %s changed state, the page showed it %s ms after the server had it", page.Stations, path, ms[0])
	if r := page.Do("seek 0.05"); r[1] != "replay" {
		t.Fatalf("scrubbing the timeline: the page says %s, want replay", r[1])
	}
	if r := page.Do("follow"); r[1] != "live" {
		t.Fatalf("follow: the page says %s, want live", r[1])
	}
	shot, _ := filepath.Abs("viz/web/e2e/out/demo.png")
	page.Do("shot %s", shot)
}
