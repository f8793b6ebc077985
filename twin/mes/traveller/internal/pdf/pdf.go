// Package pdf writes small PDF documents (PDF 1.7) of pages with filled
// and stroked rectangles, lines and text in one embedded TrueType font:
// each document embeds the subset of the font its text uses, as a Type 0
// font with a CIDFontType2 descendant (Identity-H), its widths, and a
// ToUnicode map so that the text can be searched and copied. Streams are
// compressed (Flate).
//
// It is not a general PDF library: no images, no reading, one font, no
// shaping (one character, one glyph: right for Chinese, Latin, digits).
// Coordinates are millimetres from the page's top-left corner.
//
//	d, _ := pdf.New(fontData)
//	p := d.Page(100, 70)
//	p.Text(5, 10, 12, "工序流转卡")
//	d.Write(w)
package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"twin/twin/mes/traveller/internal/ttf"
)

const ptPerMM = 72 / 25.4

// Doc is a document being made.
type Doc struct {
	Title string
	font  *ttf.Font
	pages []*Page
	gids  []uint16          // glyph of each CID: CID i draws glyph gids[i]
	cids  map[uint16]uint16 // glyph → CID
	uni   map[uint16]rune   // CID → the character it shows
	// Missing counts the characters drawn that the font lacks (shown as
	// its .notdef glyph).
	Missing int
}

// New starts a document whose text is set in the TrueType font data.
func New(font []byte) (*Doc, error) {
	f, err := ttf.Parse(font)
	if err != nil {
		return nil, fmt.Errorf("pdf: the font: %w", err)
	}
	return &Doc{font: f, gids: []uint16{0}, cids: map[uint16]uint16{0: 0}, uni: map[uint16]rune{}}, nil
}

// Page is one page.
type Page struct {
	d    *Doc
	w, h float64 // points
	b    bytes.Buffer
}

// Page adds a page of w × h mm.
func (d *Doc) Page(w, h float64) *Page {
	p := &Page{d: d, w: w * ptPerMM, h: h * ptPerMM}
	d.pages = append(d.pages, p)
	return p
}

// Has reports whether the font has a glyph for r.
func (d *Doc) Has(r rune) bool { return d.font.Glyph(r) != 0 }

// Width returns the width of s set at size points, in millimetres.
func (d *Doc) Width(s string, size float64) float64 {
	u := 0
	for _, r := range s {
		u += d.font.Advance(d.font.Glyph(r))
	}
	return float64(u) / float64(d.font.UnitsPerEm) * size / ptPerMM
}

// Ascent is how far the font's tallest capitals rise above the baseline at
// size points, in millimetres.
func (d *Doc) Ascent(size float64) float64 {
	return float64(d.font.Ascent) / float64(d.font.UnitsPerEm) * size / ptPerMM
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (p *Page) pt(x, y float64) (float64, float64) {
	return round(x * ptPerMM), round(p.h - y*ptPerMM)
}

func round(v float64) float64 { return float64(int64(v*1000+0.5*sign(v))) / 1000 }

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// Gray sets the colour of what follows, fill and stroke: 0 black, 1 white.
func (p *Page) Gray(g float64) { fmt.Fprintf(&p.b, "%s g %s G\n", num(g), num(g)) }

// Rect fills a rectangle at (x, y), w × h mm.
func (p *Page) Rect(x, y, w, h float64) {
	X, Y := p.pt(x, y+h)
	fmt.Fprintf(&p.b, "%s %s %s %s re f\n", num(X), num(Y), num(round(w*ptPerMM)), num(round(h*ptPerMM)))
}

// Rects fills many rectangles as one path: [x, y, w, h] each, in mm.
func (p *Page) Rects(rs [][4]float64) {
	for _, r := range rs {
		X, Y := p.pt(r[0], r[1]+r[3])
		fmt.Fprintf(&p.b, "%s %s %s %s re\n", num(X), num(Y), num(round(r[2]*ptPerMM)), num(round(r[3]*ptPerMM)))
	}
	p.b.WriteString("f\n")
}

// Box strokes a rectangle with lines width mm wide.
func (p *Page) Box(x, y, w, h, width float64) {
	X, Y := p.pt(x, y+h)
	fmt.Fprintf(&p.b, "[] 0 d %s w %s %s %s %s re S\n", num(round(width*ptPerMM)), num(X), num(Y), num(round(w*ptPerMM)), num(round(h*ptPerMM)))
}

// Line strokes a line width mm wide; dash > 0 dashes it (dash mm on, dash off).
func (p *Page) Line(x1, y1, x2, y2, width, dash float64) {
	X1, Y1 := p.pt(x1, y1)
	X2, Y2 := p.pt(x2, y2)
	d := "[]"
	if dash > 0 {
		d = "[" + num(round(dash*ptPerMM)) + "]"
	}
	fmt.Fprintf(&p.b, "%s 0 d %s w %s %s m %s %s l S\n", d, num(round(width*ptPerMM)), num(X1), num(Y1), num(X2), num(Y2))
}

// Text sets s at size points with its baseline's left end at (x, y) mm.
func (p *Page) Text(x, y, size float64, s string) {
	if s == "" {
		return
	}
	X, Y := p.pt(x, y)
	var hex strings.Builder
	for _, r := range s {
		fmt.Fprintf(&hex, "%04X", p.d.cid(r))
	}
	fmt.Fprintf(&p.b, "BT /F1 %s Tf %s %s Td <%s> Tj ET\n", num(size), num(X), num(Y), hex.String())
}

// cid is the character identifier that draws r (0, .notdef, when the font
// has no glyph for it).
func (d *Doc) cid(r rune) uint16 {
	g := d.font.Glyph(r)
	if g == 0 {
		if r != ' ' {
			d.Missing++
		}
		return 0
	}
	c, ok := d.cids[g]
	if !ok {
		c = uint16(len(d.gids))
		d.gids = append(d.gids, g)
		d.cids[g] = c
		d.uni[c] = r
	}
	return c
}

// writer numbers and writes the objects of a document.
type writer struct {
	w       *bytes.Buffer
	offsets []int
}

func (w *writer) obj(n int, body string) {
	w.offsets[n] = w.w.Len()
	fmt.Fprintf(w.w, "%d 0 obj\n%s\nendobj\n", n, body)
}

func (w *writer) stream(n int, dict string, data []byte) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(data)
	zw.Close()
	w.offsets[n] = w.w.Len()
	fmt.Fprintf(w.w, "%d 0 obj\n<< %s /Filter /FlateDecode /Length %d >>\nstream\n", n, dict, z.Len())
	w.w.Write(z.Bytes())
	w.w.WriteString("\nendstream\nendobj\n")
}

// pdfString is s as a PDF literal string (UTF-16BE with a BOM when it is
// not ASCII).
func pdfString(s string) string {
	ascii := true
	for _, r := range s {
		if r >= 0x7F || r < 0x20 {
			ascii = false
		}
	}
	if ascii {
		r := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`)
		return "(" + r.Replace(s) + ")"
	}
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			fmt.Fprintf(&b, "%04X%04X", 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	return b.String() + ">"
}

// Write writes the document.
func (d *Doc) Write(out io.Writer) error {
	if len(d.pages) == 0 {
		d.Page(210, 297)
	}
	sub, err := d.font.Subset(d.gids, nil)
	if err != nil {
		return fmt.Errorf("pdf: subset the font: %w", err)
	}
	// objects: 1 catalog, 2 pages, 3 info, 4 type0, 5 cidfont, 6 descriptor,
	// 7 font file, 8 tounicode, then page and content pairs
	n := 9 + 2*len(d.pages)
	w := &writer{w: &bytes.Buffer{}, offsets: make([]int, n)}
	w.w.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	var kids []string
	for i := range d.pages {
		kids = append(kids, fmt.Sprintf("%d 0 R", 9+2*i))
	}
	w.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(d.pages)))
	w.obj(3, fmt.Sprintf("<< /Title %s /Producer (twin) >>", pdfString(d.Title)))

	h := sha256.Sum256(sub)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + h[i]%26
	}
	name := d.font.Name
	if name == "" {
		name = "Font"
	}
	name = string(tag) + "+" + name
	w.obj(4, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 8 0 R >>", name))
	scale := func(v int) string { return strconv.Itoa(v * 1000 / d.font.UnitsPerEm) }
	var widths strings.Builder
	for _, g := range d.gids {
		widths.WriteString(scale(d.font.Advance(g)) + " ")
	}
	w.obj(5, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 6 0 R /CIDToGIDMap /Identity /DW 1000 /W [0 [%s]] >>", name, strings.TrimSpace(widths.String())))
	f := d.font
	w.obj(6, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%s %s %s %s] /ItalicAngle %s /Ascent %s /Descent %s /CapHeight %s /StemV 80 /FontFile2 7 0 R >>",
		name, scale(f.BBox[0]), scale(f.BBox[1]), scale(f.BBox[2]), scale(f.BBox[3]), num(f.ItalicDeg), scale(f.Ascent), scale(f.Descent), scale(f.CapHeight)))
	w.stream(7, fmt.Sprintf("/Length1 %d", len(sub)), sub)
	w.stream(8, "", d.toUnicode())
	for i, p := range d.pages {
		w.obj(9+2*i, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 4 0 R >> >> /Contents %d 0 R >>",
			num(round(p.w)), num(round(p.h)), 10+2*i))
		w.stream(10+2*i, "", p.b.Bytes())
	}
	xref := w.w.Len()
	fmt.Fprintf(w.w, "xref\n0 %d\n0000000000 65535 f \n", n)
	for _, o := range w.offsets[1:] {
		fmt.Fprintf(w.w, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(w.w, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n", n, xref)
	_, err = out.Write(w.w.Bytes())
	return err
}

// toUnicode is the CMap from CIDs to the characters they show.
func (d *Doc) toUnicode() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	cids := make([]uint16, 0, len(d.uni))
	for c := range d.uni {
		cids = append(cids, c)
	}
	slices.Sort(cids)
	for len(cids) > 0 {
		chunk := cids[:min(100, len(cids))]
		cids = cids[len(chunk):]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, c := range chunk {
			r := d.uni[c]
			if r > 0xFFFF {
				r -= 0x10000
				fmt.Fprintf(&b, "<%04X> <%04X%04X>\n", c, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
				continue
			}
			fmt.Fprintf(&b, "<%04X> <%04X>\n", c, r)
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}
