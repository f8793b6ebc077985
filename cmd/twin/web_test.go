package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/twin/mes"
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
// demo's history and back to live. When the plant stops, the day's OEE
// is the same in the demo's summary, the records API and the page's tile
// (one KPI engine, one window).
func TestDemoWebPage(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test runs once, without -short")
	}
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("cmd/twin")
	t.Setenv("TWIN_ADMIN_PASSWORD", adminPassword)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int)
	data := t.TempDir()
	go func() {
		done <- run(ctx, []string{"demo", "--data", data, "--for", "45s", "--linger", "2m", "--speed", "60", "--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0", "--token", "e2e"}, &out, &errs)
	}()
	defer func() { cancel(); <-done }()
	re := regexp.MustCompile(`web view +(https://\S+)`)
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no web view after 60 s:\n%s\n%s", out.String(), errs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// a token given is not printed: the test puts its own in
	web, ok := strings.CutSuffix(url, "/?token=…")
	if !ok {
		t.Fatalf("the web view line shows the token given: %s", url)
	}
	url = web + "/?token=e2e"
	page := e2e.Open(t, url+"&rate=10")
	hc := trusting(t, data)
	api := regexp.MustCompile(`/\?token=`).ReplaceAllString(url, "/api/scene?token=")
	get := func() *scene.Scene {
		r, err := hc.Get(api)
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

	// the plant stops: the summary, the API and the tile agree
	sum := regexp.MustCompile(`(?m)^  (\d{4}-\d\d-\d\d)  OEE (\S+) \(A (\S+), E (\S+), Q (\S+)\), FPY (\S+),`)
	var days [][]string
	for deadline := time.Now().Add(90 * time.Second); days == nil; time.Sleep(100 * time.Millisecond) {
		if o := out.String(); strings.Contains(o, "the plant has stopped") {
			days = sum.FindAllStringSubmatch(o, -1)
		} else if time.Now().After(deadline) {
			t.Fatalf("no summary after the plant stopped:\n%s\n%s", o, errs.String())
		}
	}
	if len(days) == 0 {
		t.Fatalf("the summary has no day's KPIs:\n%s", out.String())
	}
	last := days[len(days)-1]
	base := strings.Split(url, "/?")[0]
	tok := login(t, hc, base, "admin", adminPassword)
	var rows []mes.KPI
	getJSON(t, hc, base+"/api/v1/kpis?by=day&from="+last[1], tok, &rows)
	if len(rows) != 1 || rows[0].OEE == nil {
		t.Fatalf("the API's day %s: %+v", last[1], rows)
	}
	k := rows[0]
	pc := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100**p)
	}
	if api := []string{pc(k.OEE), pc(k.Availability), pc(k.Effectiveness), pc(k.QualityRate), pc(k.FPY)}; !slices.Equal(api, last[2:7]) {
		t.Fatalf("day %s: the summary says OEE, A, E, Q, FPY %v; the API %v", last[1], last[2:7], api)
	}
	var tile []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		tile = page.Do("day")
		// a JavaScript number holds nanoseconds since 1970 to about 256 ns
		if to, _ := strconv.ParseFloat(tile[0], 64); math.Abs(to-float64(k.To.UnixNano())) < 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page's tiles are of the window to %s, the API's to %d", tile[0], k.To.UnixNano())
		}
	}
	if tile[1] != pc(k.OEE) || tile[2] != pc(k.FPY) {
		t.Fatalf("day %s: the tiles show OEE %s FPY %s, the API %s %s", last[1], tile[1], tile[2], pc(k.OEE), pc(k.FPY))
	}
	page.Do("shot %s", shot)
	t.Logf("day %s: OEE %s (A %s E %s Q %s), FPY %s in the summary, the API and the page", last[1], last[2], last[3], last[4], last[5], last[6])
}

const adminPassword = "e2e admin password"

// login signs in and returns the API token.
func login(t *testing.T, hc *http.Client, base, name, password string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "password": password})
	r, err := hc.Post(base+"/api/v1/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var v struct{ Token string }
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil || v.Token == "" {
		t.Fatalf("login %s: %v %s", name, err, r.Status)
	}
	return v.Token
}

func getJSON(t *testing.T, hc *http.Client, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("GET %s: %s %s", url, r.Status, b)
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
