package ttf

import (
	"bytes"
	"os"
	"testing"
)

func font(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../font/wqy-microhei-gb2312.ttf")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSubset cuts the travellers' font to a few characters and reads the
// subset back: the same glyphs (outlines byte for byte), widths and
// character map, renumbered in the order asked.
func TestSubset(t *testing.T) {
	f, err := Parse(font(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumGlyphs < 7000 || f.UnitsPerEm == 0 || f.Name == "" {
		t.Fatalf("font: %d glyphs, %d units per em, name %q", f.NumGlyphs, f.UnitsPerEm, f.Name)
	}
	text := []rune("工序流转卡 PO-1001 重庆")
	gids := []uint16{0}
	cmap := map[rune]uint16{}
	for _, r := range text {
		g := f.Glyph(r)
		if g == 0 && r != ' ' {
			t.Fatalf("%q is not in the font", r)
		}
		if _, ok := cmap[r]; !ok {
			cmap[r] = uint16(len(gids))
			gids = append(gids, g)
		}
	}
	b, err := f.Subset(gids, cmap)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 20000 {
		t.Errorf("subset of %d glyphs is %d bytes", len(gids), len(b))
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	// the glyphs asked, then the components of composite glyphs
	if s.NumGlyphs < len(gids) {
		t.Fatalf("subset has %d glyphs, want %d and their components", s.NumGlyphs, len(gids))
	}
	for r, g := range cmap {
		if s.Glyph(r) != g {
			t.Errorf("subset maps %q to %d, want %d", r, s.Glyph(r), g)
		}
		old := gids[g]
		if s.Advance(g) != f.Advance(old) {
			t.Errorf("%q: width %d, want %d", r, s.Advance(g), f.Advance(old))
		}
		a, _ := f.glyph(int(old))
		z, _ := s.glyph(int(g))
		if len(a) == 0 && r != ' ' || len(z) < len(a) {
			t.Fatalf("%q: outline of %d bytes, was %d", r, len(z), len(a))
		}
		at, _ := components(a)
		if len(at) == 0 && !bytes.Equal(a, z[:len(a)]) {
			t.Errorf("%q: simple outline changed", r)
		}
		for _, o := range at { // a composite's components: the same glyphs, renumbered
			c1, _ := be16(a, o)
			c2, _ := be16(z, o)
			if int(c2) >= s.NumGlyphs || !bytes.Equal(mustGlyph(t, f, c1), mustGlyph(t, s, c2)) {
				t.Errorf("%q: component %d became %d, another outline", r, c1, c2)
			}
		}
	}
	if checksum(b) != 0xB1B0AFBA {
		t.Errorf("file checksum %#x, want 0xB1B0AFBA", checksum(b))
	}
}

func mustGlyph(t *testing.T, f *Font, g int) []byte {
	d, err := f.glyph(g)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// FuzzParse: no input panics the reader or the subsetter, and what it
// reads it can cut.
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("../../font/wqy-microhei-gb2312.ttf")
	if err != nil {
		f.Fatal(err)
	}
	ff, _ := Parse(full)
	small, _ := ff.Subset([]uint16{0, ff.Glyph('工'), ff.Glyph('A')}, map[rune]uint16{'工': 1, 'A': 2})
	f.Add(small)
	f.Add(small[:200])
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10"))
	f.Fuzz(func(t *testing.T, b []byte) {
		font, err := Parse(b)
		if err != nil {
			return
		}
		g := font.Glyph('工')
		font.Advance(g)
		font.Subset([]uint16{0, g}, map[rune]uint16{'工': 1})
	})
}
