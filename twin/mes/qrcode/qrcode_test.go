package qrcode

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var texts = []string{
	"SO-1001-YE3-100L-4-test",
	"v1.U08tMTAwMS1ZRTMtMTAwTC00LXRlc3Q.q1Z-2mX8xk1l0c_vQm9Jgw",
	"v1." + strings.Repeat("UzAtMTAwMS1ZRTMtMTAwTC00LXRlc3Q", 4) + ".q1Z-2mX8xk1l0c_vQm9Jgw",
}

// TestPNGDecodes reads each PNG back with zbarimg (zbar-tools), an
// independent decoder.
func TestPNGDecodes(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg not found: make deps installs zbar-tools")
	}
	for _, s := range texts {
		c, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		b := c.PNG(4)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if n := (c.Size + 8) * 4; img.Bounds().Dx() != n || img.Bounds().Dy() != n {
			t.Fatalf("PNG is %v, want %d px square", img.Bounds(), n)
		}
		f := filepath.Join(t.TempDir(), "card.png")
		os.WriteFile(f, b, 0o644)
		out, err := exec.Command(zbar, "--raw", "-q", f).Output()
		if err != nil {
			t.Fatalf("zbarimg %q: %v", s, err)
		}
		if got := strings.TrimRight(string(out), "\n"); got != s {
			t.Fatalf("zbarimg read %q, want %q", got, s)
		}
	}
}

// TestSVGIsThePNG parses the SVG's runs back into modules and compares
// them with the PNG's pixels.
func TestSVGIsThePNG(t *testing.T) {
	run := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-\d+z`)
	for _, s := range texts {
		c, _ := Encode(s)
		n := c.Size + 8
		svg := map[[2]int]bool{}
		for _, m := range run.FindAllStringSubmatch(string(c.SVG(3)), -1) {
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			w, _ := strconv.Atoi(m[3])
			for i := range w {
				svg[[2]int{x + i, y}] = true
			}
		}
		img, err := png.Decode(bytes.NewReader(c.PNG(5)))
		if err != nil {
			t.Fatal(err)
		}
		dark := 0
		for y := range n {
			for x := range n {
				r, _, _, _ := img.At(x*5+2, y*5+2).RGBA()
				if (r < 0x8000) != svg[[2]int{x, y}] {
					t.Fatalf("%q: module (%d,%d) differs between PNG and SVG", s, x, y)
				}
				if r < 0x8000 {
					dark++
				}
			}
		}
		if dark < c.Size*c.Size/4 {
			t.Fatalf("%q: only %d dark modules", s, dark)
		}
	}
}
