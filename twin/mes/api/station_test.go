package api

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"twin/plant/event"
	"twin/twin/mes"
)

// TestStationCard: a station's card is a QR code a real decoder (zbar)
// reads as twin:station:<id>, as PNG and SVG; an unknown station is 404.
func TestStationCard(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg not found: make deps installs zbar-tools")
	}
	r := newRig(t, t.TempDir())
	r.users()
	get := func(role, path string) (int, string, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1"+path, nil)
		req.Header.Set("Authorization", "Bearer "+r.tok[role])
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	code, ct, png := get("operator", "/stations/W2/card.png?scale=4")
	if code != 200 || ct != "image/png" {
		t.Fatalf("card.png: %d %s", code, ct)
	}
	f := filepath.Join(t.TempDir(), "w2.png")
	if err := os.WriteFile(f, png, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbar, "--raw", "-q", f).Output()
	if got := strings.TrimSpace(string(out)); err != nil || got != "twin:station:W2" {
		t.Fatalf("zbarimg read %q (%v), want twin:station:W2", got, err)
	}
	if code, ct, svg := get("maintenance", "/stations/W2/card.svg"); code != 200 || ct != "image/svg+xml" || !strings.Contains(string(svg), "<svg") {
		t.Errorf("card.svg: %d %s", code, ct)
	}
	if code, _, _ := get("operator", "/stations/W9/card.png"); code != 404 {
		t.Errorf("an unknown station's card: %d, want 404", code)
	}
	if _, err := r.db.StationCard("W9", "png", 4); !hasCode(err, mes.CodeStationUnknown) {
		t.Errorf("unknown station: %v", err)
	}
	if code, _, _ := get("quality", "/stations/W2/card.png"); code != 403 {
		t.Errorf("quality's request: %d, want 403", code)
	}
	// the station card's text given as an operation card says so
	var e apiError
	if code := r.do("operator", "GET", "/card?token=twin:station:W2", nil, &e); code != 400 || !strings.Contains(e.Error, "station W2") {
		t.Errorf("a station card looked up as an operation's: %d %+v", code, e)
	}
}

// TestClockedOn: GET /labour/on says what a worker is clocked on now: a
// start clocks the worker on, the confirmation clocks them off.
func TestClockedOn(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	var stamp string
	for _, o := range r.released("PO-3", 2) {
		if strings.HasSuffix(o, "-stator-stamp") {
			stamp = o
		}
	}
	var on []mes.OnCard
	r.must("operator", "GET", "/labour/on?worker=W-9", nil, &on, 200)
	if len(on) != 0 {
		t.Fatalf("before the start: %+v", on)
	}
	r.machine("PR1", event.Running, 0)
	r.ok(stamp, "start", nil, nil) // as worker W-9
	r.must("operator", "GET", "/labour/on?worker=W-9", nil, &on, 200)
	if len(on) != 1 || on[0].Operation != stamp || on[0].Order != "PO-3" || !on[0].Since.Equal(r.now()) || on[0].Labour == "" {
		t.Fatalf("after the start: %+v", on)
	}
	r.must("supervisor", "POST", "/labour/clock", mes.Clock{Worker: "u-operator", Operation: stamp, Action: "on"}, nil, 200)
	r.must("operator", "GET", "/labour/on", nil, &on, 200) // the signed-in user by default
	if len(on) != 1 || on[0].Operation != stamp {
		t.Errorf("u-operator clocked on: %+v", on)
	}
	two := 2
	r.ok(stamp, "confirm", &two, nil)
	r.must("operator", "GET", "/labour/on?worker=W-9", nil, &on, 200)
	if len(on) != 0 {
		t.Errorf("after the confirmation: %+v", on)
	}
	var e apiError
	if code := r.do("operator", "GET", "/labour/on?worker=a/b", nil, &e); code != 400 {
		t.Errorf("a bad worker id: %d %+v", code, e)
	}
}
