// Package e2e drives the floor terminal in headless Chromium for tests:
// terminal.js (node, npm playwright-core from viz/web/e2e, Debian's
// /usr/bin/chromium) with a fake camera that plays a y4m file, one
// command per line; and Y4M, which makes that file from a card's QR code.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Dir is this package's directory (terminal.js, out/).
func Dir() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Dir(f)
}

// Browser is one Chromium, driven by terminal.js.
type Browser struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *strings.Builder
}

// Start launches Chromium with its fake camera playing camera (a y4m
// file; rewrite it before a page opens the camera to show another card).
func Start(t testing.TB, camera string) *Browser {
	t.Helper()
	pw := filepath.Join(Dir(), "..", "..", "web", "e2e", "node_modules", "playwright-core")
	for _, need := range []string{"/usr/bin/chromium", pw} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run make deps (apt chromium, npm ci in viz/web/e2e)", need)
		}
	}
	b := &Browser{t: t, stderr: &strings.Builder{}}
	b.cmd = exec.Command("node", "terminal.js", pw, camera)
	b.cmd.Dir = Dir()
	// the browser in UTC: a page showing the browser's clock instead of
	// the plant's (Asia/Shanghai) is caught
	b.cmd.Env = append(os.Environ(), "TZ=UTC")
	b.in, _ = b.cmd.StdinPipe()
	stdout, _ := b.cmd.StdoutPipe()
	b.cmd.Stderr = b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.out = bufio.NewScanner(stdout)
	b.out.Buffer(nil, 1<<20)
	if !b.out.Scan() || b.out.Text() != "READY" {
		b.cmd.Wait()
		t.Fatalf("Chromium not ready: %q\n%s", b.out.Text(), b.stderr.String())
	}
	t.Cleanup(b.Close)
	return b
}

// With is b failing t (a subtest) on an error.
func (b *Browser) With(t testing.TB) *Browser {
	c := *b
	c.t = t
	return &c
}

// Try sends a command and returns its answer, or the error it met.
func (b *Browser) Try(args ...any) (json.RawMessage, error) {
	line, _ := json.Marshal(args)
	t0 := time.Now()
	defer func() {
		if d := time.Since(t0); d > time.Second { // where a slow walk spends its time
			b.t.Logf("%s took %v", line, d.Round(10*time.Millisecond))
		}
	}()
	fmt.Fprintf(b.in, "%s\n", line)
	if !b.out.Scan() {
		b.cmd.Wait()
		return nil, fmt.Errorf("%s: Chromium's driver ended\n%s", line, b.stderr.String())
	}
	s := b.out.Text()
	if v, ok := strings.CutPrefix(s, "OK "); ok {
		return json.RawMessage(v), nil
	}
	return nil, fmt.Errorf("%s: %s", line, strings.TrimPrefix(s, "ERR "))
}

// Do is Try that fails the test on an error.
func (b *Browser) Do(args ...any) json.RawMessage {
	b.t.Helper()
	v, err := b.Try(args...)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// Text is the text of the element sel names.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	var s string
	json.Unmarshal(b.Do("text", sel), &s)
	return s
}

// Close quits the browser.
func (b *Browser) Close() {
	if b.cmd.ProcessState != nil {
		return
	}
	fmt.Fprintln(b.in, `["quit"]`)
	b.in.Close()
	b.cmd.Wait()
}

// Y4M writes frames frames of a w×h video (YUV4MPEG2, 4:2:0 'C420', 10
// frames/s: what Chromium's fake camera reads) showing img centred on
// white, scaled by the largest whole factor that fits in 80% of the
// frame's height: a card held up to the camera.
func Y4M(path string, img image.Image, w, h, frames int) error {
	if w%2 != 0 || h%2 != 0 {
		return fmt.Errorf("y4m %s: %d×%d: want an even width and height (4:2:0)", path, w, h)
	}
	ib := img.Bounds()
	k := max(1, min(w*8/10/ib.Dx(), h*8/10/ib.Dy()))
	ox, oy := (w-ib.Dx()*k)/2, (h-ib.Dy()*k)/2
	y := make([]byte, w*h)
	for py := range h {
		for px := range w {
			v := uint8(255)
			sx, sy := (px-ox)/k, (py-oy)/k
			if px >= ox && py >= oy && sx < ib.Dx() && sy < ib.Dy() {
				v = color.GrayModel.Convert(img.At(ib.Min.X+sx, ib.Min.Y+sy)).(color.Gray).Y
			}
			y[py*w+px] = 16 + uint8(int(v)*219/255) // BT.601 studio range
		}
	}
	chroma := make([]byte, w*h/2) // U and V planes, no colour
	for i := range chroma {
		chroma[i] = 128
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420\n", w, h)
	for range frames {
		bw.WriteString("FRAME\n")
		bw.Write(y)
		bw.Write(chroma)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("y4m %s: %w", path, err)
	}
	return f.Close()
}
