// Package ttf reads a TrueType font (glyf outlines; one font of a
// collection) far enough to lay text out and embed it in a PDF: the
// character map, advance widths and metrics, and a subset of the font
// holding only the glyphs a document uses, renumbered in the order given.
//
// It is not a renderer, nor a reader of CFF (OpenType PostScript)
// outlines, nor of layout tables (GSUB, GPOS, kerning): one character is
// one glyph, which is what Chinese, Latin and digits on a card need.
//
//	f, _ := ttf.Parse(data)
//	g := f.Glyph('卡')
//	sub, _ := f.Subset([]uint16{0, g}, map[rune]uint16{'卡': 1})
package ttf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Font is a parsed TrueType font. Its tables point into the data given
// to Parse, which must not change.
type Font struct {
	tables     map[string][]byte
	UnitsPerEm int
	Ascent     int // hhea ascender, font units
	Descent    int // hhea descender, negative below the baseline
	CapHeight  int
	BBox       [4]int // xMin, yMin, xMax, yMax over every glyph
	ItalicDeg  float64
	NumGlyphs  int
	Name       string // the PostScript name ("" when the font names none)
	advances   []uint16
	longLoca   bool
	cmap       map[rune]uint16
}

// ErrFormat is data that is not a TrueType font this package reads.
var ErrFormat = errors.New("ttf: not a TrueType font with glyf outlines")

func be16(b []byte, off int) (int, error) {
	if off < 0 || off+2 > len(b) {
		return 0, fmt.Errorf("%w: read past the end at %d", ErrFormat, off)
	}
	return int(binary.BigEndian.Uint16(b[off:])), nil
}

func be32(b []byte, off int) (int, error) {
	if off < 0 || off+4 > len(b) {
		return 0, fmt.Errorf("%w: read past the end at %d", ErrFormat, off)
	}
	return int(binary.BigEndian.Uint32(b[off:])), nil
}

// Parse reads a font: a TrueType file, or the first font of a TrueType
// collection (.ttc).
func Parse(data []byte) (*Font, error) {
	off := 0
	if len(data) >= 12 && string(data[:4]) == "ttcf" {
		n, _ := be32(data, 8)
		if n < 1 {
			return nil, fmt.Errorf("%w: an empty collection", ErrFormat)
		}
		o, err := be32(data, 12)
		if err != nil {
			return nil, err
		}
		off = o
	}
	ver, err := be32(data, off)
	if err != nil {
		return nil, err
	}
	if ver != 0x00010000 && ver != 0x74727565 { // 1.0, 'true'
		return nil, fmt.Errorf("%w (version %#x: CFF outlines are not read)", ErrFormat, ver)
	}
	n, err := be16(data, off+4)
	if err != nil {
		return nil, err
	}
	f := &Font{tables: map[string][]byte{}}
	for i := range n {
		rec := off + 12 + 16*i
		if rec+16 > len(data) {
			return nil, fmt.Errorf("%w: table directory cut short", ErrFormat)
		}
		tag := string(data[rec : rec+4])
		o, _ := be32(data, rec+8)
		l, _ := be32(data, rec+12)
		if o < 0 || l < 0 || o+l > len(data) || o+l < o {
			return nil, fmt.Errorf("%w: table %q outside the file", ErrFormat, tag)
		}
		f.tables[tag] = data[o : o+l]
	}
	for _, need := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"} {
		if f.tables[need] == nil {
			return nil, fmt.Errorf("%w: no %s table", ErrFormat, need)
		}
	}
	if err := f.parseMetrics(); err != nil {
		return nil, err
	}
	if err := f.parseCmap(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Font) parseMetrics() error {
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 {
		return fmt.Errorf("%w: head, hhea or maxp too short", ErrFormat)
	}
	f.UnitsPerEm, _ = be16(head, 18)
	if f.UnitsPerEm < 16 {
		return fmt.Errorf("%w: unitsPerEm %d", ErrFormat, f.UnitsPerEm)
	}
	for i := range 4 {
		v, _ := be16(head, 36+2*i)
		f.BBox[i] = int(int16(v))
	}
	loc, _ := be16(head, 50)
	f.longLoca = loc == 1
	a, _ := be16(hhea, 4)
	d, _ := be16(hhea, 6)
	f.Ascent, f.Descent = int(int16(a)), int(int16(d))
	f.CapHeight = f.Ascent * 7 / 10
	if os2 := f.tables["OS/2"]; len(os2) >= 90 {
		if v, _ := be16(os2, 0); v >= 2 {
			c, _ := be16(os2, 88)
			f.CapHeight = int(int16(c))
		}
	}
	if post := f.tables["post"]; len(post) >= 8 {
		v, _ := be32(post, 4)
		f.ItalicDeg = float64(int32(v)) / 65536
	}
	f.NumGlyphs, _ = be16(maxp, 4)
	nh, _ := be16(hhea, 34)
	hmtx := f.tables["hmtx"]
	if nh < 1 || nh > f.NumGlyphs || len(hmtx) < 4*nh {
		return fmt.Errorf("%w: %d horizontal metrics for %d glyphs", ErrFormat, nh, f.NumGlyphs)
	}
	f.advances = make([]uint16, f.NumGlyphs)
	for g := range f.NumGlyphs {
		i := min(g, nh-1)
		f.advances[g] = binary.BigEndian.Uint16(hmtx[4*i:])
	}
	want := (f.NumGlyphs + 1) * 2
	if f.longLoca {
		want *= 2
	}
	if len(f.tables["loca"]) < want {
		return fmt.Errorf("%w: loca holds fewer than %d glyphs", ErrFormat, f.NumGlyphs)
	}
	f.Name = f.postScriptName()
	return nil
}

// postScriptName is name ID 6 of the name table (Mac Roman or Windows
// UTF-16BE), or "".
func (f *Font) postScriptName() string {
	t := f.tables["name"]
	n, err := be16(t, 2)
	if err != nil {
		return ""
	}
	strs, _ := be16(t, 4)
	for i := range n {
		r := 6 + 12*i
		if r+12 > len(t) {
			return ""
		}
		pid, _ := be16(t, r)
		id, _ := be16(t, r+6)
		l, _ := be16(t, r+8)
		o, _ := be16(t, r+10)
		if id != 6 || strs+o+l > len(t) {
			continue
		}
		s := t[strs+o : strs+o+l]
		var out []byte
		if pid == 3 || pid == 0 {
			for j := 0; j+1 < len(s); j += 2 {
				if s[j] == 0 && s[j+1] > 32 && s[j+1] < 127 {
					out = append(out, s[j+1])
				}
			}
		} else {
			for _, c := range s {
				if c > 32 && c < 127 {
					out = append(out, c)
				}
			}
		}
		if len(out) > 0 {
			return string(out)
		}
	}
	return ""
}

// parseCmap reads the Unicode character map: format 12 (full Unicode)
// where the font has it, else format 4 (the BMP).
func (f *Font) parseCmap() error {
	t := f.tables["cmap"]
	n, err := be16(t, 2)
	if err != nil {
		return err
	}
	best, bestFmt := -1, 0
	for i := range n {
		r := 4 + 8*i
		pid, err := be16(t, r)
		if err != nil {
			return err
		}
		eid, _ := be16(t, r+2)
		o, _ := be32(t, r+4)
		if !(pid == 0 || (pid == 3 && (eid == 1 || eid == 10))) {
			continue
		}
		fm, err := be16(t, o)
		if err != nil {
			continue
		}
		if (fm == 12 && bestFmt != 12) || (fm == 4 && bestFmt == 0) {
			best, bestFmt = o, fm
		}
	}
	f.cmap = map[rune]uint16{}
	switch bestFmt {
	case 4:
		return f.cmap4(t[best:])
	case 12:
		return f.cmap12(t[best:])
	}
	return fmt.Errorf("%w: no Unicode character map (format 4 or 12)", ErrFormat)
}

func (f *Font) cmap4(t []byte) error {
	segX2, err := be16(t, 6)
	if err != nil {
		return err
	}
	ends, starts, deltas, ranges := 14, 16+segX2, 16+2*segX2, 16+3*segX2
	if ranges+segX2 > len(t) {
		return fmt.Errorf("%w: cmap format 4 cut short", ErrFormat)
	}
	for s := 0; s < segX2; s += 2 {
		end, _ := be16(t, ends+s)
		start, _ := be16(t, starts+s)
		delta, _ := be16(t, deltas+s)
		ro, _ := be16(t, ranges+s)
		for c := start; c <= end && c != 0xFFFF; c++ {
			var g int
			if ro == 0 {
				g = (c + delta) & 0xFFFF
			} else {
				at := ranges + s + ro + 2*(c-start)
				v, err := be16(t, at)
				if err != nil {
					return err
				}
				if v != 0 {
					g = (v + delta) & 0xFFFF
				}
			}
			if g != 0 && g < f.NumGlyphs {
				f.cmap[rune(c)] = uint16(g)
			}
		}
	}
	return nil
}

func (f *Font) cmap12(t []byte) error {
	n, err := be32(t, 12)
	if err != nil {
		return err
	}
	if n > (len(t)-16)/12 {
		return fmt.Errorf("%w: cmap format 12 cut short", ErrFormat)
	}
	for i := range n {
		r := 16 + 12*i
		start, _ := be32(t, r)
		end, _ := be32(t, r+4)
		g, _ := be32(t, r+8)
		if end < start || end > 0x10FFFF {
			return fmt.Errorf("%w: cmap group %d..%d", ErrFormat, start, end)
		}
		for c := start; c <= end; c++ {
			if gg := g + c - start; gg > 0 && gg < f.NumGlyphs {
				f.cmap[rune(c)] = uint16(gg)
			}
		}
	}
	return nil
}

// Glyph returns the glyph of r, 0 (.notdef) when the font has none.
func (f *Font) Glyph(r rune) uint16 { return f.cmap[r] }

// Runes returns every character the font maps, in order.
func (f *Font) Runes() []rune {
	rs := make([]rune, 0, len(f.cmap))
	for r := range f.cmap {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

// Advance returns the advance width of glyph g in font units.
func (f *Font) Advance(g uint16) int {
	if int(g) >= len(f.advances) {
		return 0
	}
	return int(f.advances[g])
}

// glyph returns the outline data of glyph g (empty for a blank glyph).
func (f *Font) glyph(g int) ([]byte, error) {
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	var a, b int
	if f.longLoca {
		a, _ = be32(loca, 4*g)
		b, _ = be32(loca, 4*g+4)
	} else {
		a, _ = be16(loca, 2*g)
		b, _ = be16(loca, 2*g+2)
		a, b = 2*a, 2*b
	}
	if a > b || b > len(glyf) {
		return nil, fmt.Errorf("%w: glyph %d outside glyf", ErrFormat, g)
	}
	return glyf[a:b], nil
}

// Composite glyph flags.
const (
	argsAreWords    = 0x0001
	haveScale       = 0x0008
	moreComponents  = 0x0020
	haveXYScale     = 0x0040
	haveTwoByTwo    = 0x0080
	componentOffset = 4 // flags, glyphIndex
)

// components returns the offsets (within the glyph's data) of the glyph
// indices of a composite glyph's components; none for a simple glyph.
func components(data []byte) ([]int, error) {
	if len(data) < 10 {
		return nil, nil
	}
	if n, _ := be16(data, 0); int16(n) >= 0 {
		return nil, nil
	}
	var at []int
	off := 10
	for {
		flags, err := be16(data, off)
		if err != nil {
			return nil, err
		}
		if off+componentOffset > len(data) {
			return nil, fmt.Errorf("%w: composite glyph cut short", ErrFormat)
		}
		at = append(at, off+2)
		off += componentOffset
		if flags&argsAreWords != 0 {
			off += 4
		} else {
			off += 2
		}
		switch {
		case flags&haveScale != 0:
			off += 2
		case flags&haveXYScale != 0:
			off += 4
		case flags&haveTwoByTwo != 0:
			off += 8
		}
		if flags&moreComponents == 0 || len(at) > 64 {
			return at, nil
		}
	}
}

// Subset returns a TrueType font holding glyphs gids, renumbered: glyph
// gids[i] of f is glyph i of the subset (give 0, .notdef, first), the
// components of composite glyphs appended after them. Its character map
// maps each rune of cmap to its glyph in the subset (nil: none, which a
// PDF's CIDFontType2 does not need). It keeps the hinting tables and the
// name table (with the font's copyright and licence).
func (f *Font) Subset(gids []uint16, cmap map[rune]uint16) ([]byte, error) {
	order := slices.Clone(gids)
	index := map[uint16]int{}
	for i, g := range order {
		if int(g) >= f.NumGlyphs {
			return nil, fmt.Errorf("ttf: glyph %d of a font of %d", g, f.NumGlyphs)
		}
		if _, ok := index[g]; !ok {
			index[g] = i
		}
	}
	// the components of composite glyphs (and theirs)
	for i := 0; i < len(order); i++ {
		d, err := f.glyph(int(order[i]))
		if err != nil {
			return nil, err
		}
		at, err := components(d)
		if err != nil {
			return nil, err
		}
		for _, o := range at {
			c, _ := be16(d, o)
			if c >= f.NumGlyphs {
				return nil, fmt.Errorf("%w: component %d of glyph %d", ErrFormat, c, order[i])
			}
			if _, ok := index[uint16(c)]; !ok {
				index[uint16(c)] = len(order)
				order = append(order, uint16(c))
			}
		}
	}
	if len(order) > 0xFFFF {
		return nil, fmt.Errorf("ttf: %d glyphs do not fit a font", len(order))
	}
	var glyf []byte
	loca := make([]byte, 0, 4*(len(order)+1))
	hmtx := make([]byte, 0, 4*len(order))
	for _, g := range order {
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		d, err := f.glyph(int(g))
		if err != nil {
			return nil, err
		}
		start := len(glyf)
		glyf = append(glyf, d...)
		at, _ := components(d)
		for _, o := range at {
			c, _ := be16(d, o)
			binary.BigEndian.PutUint16(glyf[start+o:], uint16(index[uint16(c)]))
		}
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		lsb := 0
		if len(d) >= 4 {
			lsb, _ = be16(d, 2) // xMin: the left side bearing of a glyph drawn at x 0
		}
		hmtx = binary.BigEndian.AppendUint16(hmtx, f.advances[g])
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(lsb))
	}
	loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))

	head := slices.Clone(f.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := slices.Clone(f.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(order)))
	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(order)))
	post := make([]byte, 32) // format 3: no glyph names
	binary.BigEndian.PutUint32(post, 0x00030000)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post[4:], p[4:32])
	}
	out := map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "loca": loca, "glyf": glyf, "hmtx": hmtx, "post": post}
	for _, keep := range []string{"name", "OS/2", "cvt ", "fpgm", "prep", "gasp"} {
		if t := f.tables[keep]; t != nil {
			out[keep] = t
		}
	}
	if cmap != nil {
		out["cmap"] = cmapTable(cmap)
	}
	return assemble(out), nil
}

// cmapTable is a format 4 character map (the BMP) of m.
func cmapTable(m map[rune]uint16) []byte {
	var rs []rune
	for r := range m {
		if r < 0xFFFF {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	type seg struct{ start, end, delta int }
	var segs []seg
	for _, r := range rs {
		g := int(m[r])
		if n := len(segs); n > 0 && segs[n-1].end == int(r)-1 && (segs[n-1].start+segs[n-1].delta+int(r)-segs[n-1].start)&0xFFFF == g {
			segs[n-1].end = int(r)
			continue
		}
		segs = append(segs, seg{int(r), int(r), (g - int(r)) & 0xFFFF})
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF, 1})
	n := len(segs)
	sub := make([]byte, 16+8*n)
	binary.BigEndian.PutUint16(sub[0:], 4)
	binary.BigEndian.PutUint16(sub[2:], uint16(len(sub)))
	binary.BigEndian.PutUint16(sub[6:], uint16(2*n))
	p := 1
	e := 0
	for p*2 <= n {
		p *= 2
		e++
	}
	binary.BigEndian.PutUint16(sub[8:], uint16(2*p))
	binary.BigEndian.PutUint16(sub[10:], uint16(e))
	binary.BigEndian.PutUint16(sub[12:], uint16(2*n-2*p))
	for i, s := range segs {
		binary.BigEndian.PutUint16(sub[14+2*i:], uint16(s.end))
		binary.BigEndian.PutUint16(sub[16+2*n+2*i:], uint16(s.start))
		binary.BigEndian.PutUint16(sub[16+4*n+2*i:], uint16(s.delta))
		// idRangeOffset stays 0
	}
	t := make([]byte, 12, 12+len(sub))
	binary.BigEndian.PutUint16(t[2:], 1)  // one encoding record
	binary.BigEndian.PutUint16(t[4:], 3)  // Windows
	binary.BigEndian.PutUint16(t[6:], 1)  // Unicode BMP
	binary.BigEndian.PutUint32(t[8:], 12) // offset
	return append(t, sub...)
}

func checksum(b []byte) uint32 {
	var s uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		s += binary.BigEndian.Uint32(w[:])
	}
	return s
}

// assemble writes a font file of tables, sorted by tag, each 4-byte
// aligned, with their checksums and head's checkSumAdjustment.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	p, e := 1, 0
	for p*2 <= n {
		p *= 2
		e++
	}
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16*p))
	binary.BigEndian.PutUint16(out[8:], uint16(e))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16*p))
	headAt := 0
	for i, tag := range tags {
		t := tables[tag]
		r := 12 + 16*i
		copy(out[r:], tag)
		binary.BigEndian.PutUint32(out[r+4:], checksum(t))
		binary.BigEndian.PutUint32(out[r+8:], uint32(len(out)))
		binary.BigEndian.PutUint32(out[r+12:], uint32(len(t)))
		if tag == "head" {
			headAt = len(out)
		}
		out = append(out, t...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out
}
