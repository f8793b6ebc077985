package main

import (
	"crypto/tls"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/twin/tlsconf"
	"twin/viz/feed"
	"twin/viz/scene"
)

// These tests run the built viewer under the display the suite runs in
// (make test runs it under xvfb-run).

var viewBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "twin-view")
	if err != nil {
		panic(err)
	}
	viewBin = filepath.Join(dir, "twin-view")
	if out, err := exec.Command("go", "build", "-o", viewBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build twin-view: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func view(t testing.TB, args ...string) (string, image.Image) {
	t.Helper()
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("no DISPLAY: run under xvfb-run -a (make test does)")
	}
	shot := filepath.Join(t.TempDir(), "frame.png")
	out, err := exec.Command(viewBin, append(args, "--screenshot", shot)...).CombinedOutput()
	if err != nil {
		t.Fatalf("twin-view %v: %v\n%s", args, err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), img
}

func count(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == c {
				n++
			}
		}
	}
	return n
}

func rgba(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

// TestScenarioSideBySide runs two variants of a scenario file on the spot
// and shows them side by side, each marked as a scenario.
func TestScenarioSideBySide(t *testing.T) {
	out, img := view(t, "--scenario", "../../scenarios/third-winder-vs-third-shift.yaml", "--variants", "baseline,third-winder", "--for", "1s", "--width", "1280", "--height", "800")
	if !strings.Contains(out, "2 views") {
		t.Fatalf("output: %s", out)
	}
	purple := scene.Palette[event.Maintenance] // the scenario colour of the source stripe
	for _, x := range []int{1, 643} {
		if got := rgba(img, x, 40); got != purple {
			t.Errorf("source stripe of the pane at x=%d is %v, want scenario purple", x, got)
		}
	}
	// the stations are drawn in palette colours in both panes
	left, right := 0, 0
	for c := range scene.Palette {
		sub := img.(interface {
			SubImage(image.Rectangle) image.Image
		})
		left += count(sub.SubImage(image.Rect(0, 100, 640, 764)), scene.Palette[c])
		right += count(sub.SubImage(image.Rect(642, 100, 1280, 764)), scene.Palette[c])
	}
	if left < 500 || right < 500 {
		t.Fatalf("station pixels: %d left, %d right", left, right)
	}
}

// TestConnect follows a twin's feed: the viewer shows the live plant.
func TestConnect(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s state.State
	for i, u := range p.Units {
		ms := event.Running
		if i == 1 {
			ms = event.Down
		}
		s.Apply(event.Event{Time: 1e9, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(ms)})
	}
	sc := scene.NewLayout(p).Build(&s)
	f := feed.New(staticSource{sc}, feed.Options{Token: "tk"})
	srv := httptest.NewServer(f)
	defer srv.Close()
	defer f.Close()
	out, img := view(t, "--connect", srv.URL+"/?token=tk", "--for", "1s")
	green, red := scene.Palette[event.Running], scene.Palette[event.Down]
	if got := rgba(img, 1, 40); got != green {
		t.Errorf("source stripe %v, want live green", got)
	}
	nr, ng := count(img, red), count(img, green)
	if nr < 30 || ng < 30*15 {
		t.Fatalf("down pixels %d, running pixels %d: the live plant is not drawn\n%s", nr, ng, out)
	}
}

// TestConnectTLS follows a twin's feed over wss://, with the certificate
// the twin made: refused with the hint without the twin's CA, drawn with
// --ca (and with $TWIN_CA).
func TestConnectTLS(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s state.State
	for _, u := range p.Units {
		s.Apply(event.Event{Time: 1e9, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(event.Down)})
	}
	f := feed.New(staticSource{scene.NewLayout(p).Build(&s)}, feed.Options{Token: "tk"})
	certs, err := tlsconf.Open(tlsconf.Options{Dir: filepath.Join(t.TempDir(), "tls")})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", certs.Config())
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: tlsconf.Secure(f)}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(l) }()
	defer func() { f.Close(); hs.Close(); <-done }()
	url := "https://" + l.Addr().String() + "/?token=tk"

	out, code := runView(t, t.TempDir(), append(os.Environ(), "TWIN_CA="), "--connect", url, "--for", "1s")
	if code != 1 || !strings.Contains(out, "run with --ca DATA/tls/ca.pem") {
		t.Fatalf("without the CA: exit %d\n%s", code, out)
	}
	out, img := view(t, "--connect", url, "--ca", certs.CAFile, "--for", "1s")
	if n := count(img, scene.Palette[event.Down]); n < 30*15 {
		t.Fatalf("down pixels %d: the plant is not drawn over wss\n%s", n, out)
	}
	t.Setenv("TWIN_CA", certs.CAFile)
	if out, img = view(t, "--connect", url, "--for", "1s"); count(img, scene.Palette[event.Down]) < 30*15 {
		t.Fatalf("with $TWIN_CA: the plant is not drawn\n%s", out)
	}
}

type staticSource struct{ sc *scene.Scene }

func (s staticSource) Scene() *scene.Scene { return s.sc }

// BenchmarkViewer measures the viewer's frame rate with 500 stations and
// 5,000 moving parts (vsync off), at two window sizes.
func BenchmarkViewer(b *testing.B) {
	re := regexp.MustCompile(`([0-9.]+) frames/s`)
	for _, size := range [][2]int{{1280, 800}, {1024, 640}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			var fps float64
			for i := 0; i < b.N; i++ {
				out, _ := view(b, "--synthetic", "500,5000", "--for", "5s", "--width", strconv.Itoa(size[0]), "--height", strconv.Itoa(size[1]))
				m := re.FindStringSubmatch(out)
				if m == nil {
					b.Fatalf("output: %s", out)
				}
				fps, _ = strconv.ParseFloat(m[1], 64)
				b.Log(strings.TrimSpace(out))
			}
			b.ReportMetric(fps, "frames/s")
		})
	}
}
