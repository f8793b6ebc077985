package traveller

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"strings"

	"twin/twin/mes/qrcode"
	"twin/twin/mes/traveller/internal/ttf"
)

// The style of the HTML travellers: one fixed sheet per size, so that a
// Content-Security-Policy can name it by its hash (no inline script, no
// style attribute). Sizes and places are the PDF's, in millimetres.
const styleCommon = `
*{box-sizing:border-box}
html,body{margin:0;padding:0}
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Droid Sans Fallback",sans-serif;color:#000;background:#8a8a8a;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.sheet{position:relative;background:#fff;margin:6mm auto;overflow:hidden;break-after:page;page-break-after:always}
.sheet:last-child{break-after:auto;page-break-after:auto}
.card{position:absolute;width:100mm;height:70mm;overflow:hidden}
.card .frame{position:absolute;left:1mm;top:1mm;width:98mm;height:68mm;border:0.3mm solid #000}
.card header{position:absolute;left:1mm;top:1mm;width:98mm;height:8.5mm;border-bottom:0.3mm solid #000;display:flex;align-items:center;justify-content:space-between;padding:0 2mm;white-space:nowrap;overflow:hidden}
.card h1{font-size:11pt;font-weight:normal;margin:0}
.card .step{font-size:13pt;margin:0}
.card .qr{position:absolute;left:2.5mm;top:11mm;width:29mm}
.card svg{display:block;width:29mm;height:29mm}
.card .opid{margin:0.4mm 0 0;text-align:center;color:#404040;line-height:1.15;overflow-wrap:anywhere;max-height:5mm;overflow:hidden}
.card dl{position:absolute;left:33.5mm;top:11mm;width:64mm;height:39.5mm;margin:0;display:grid;grid-template-columns:12mm 52mm;align-content:start;overflow:hidden}
.card dt,.card dd{margin:0 0 0.25mm;padding:0.2mm 0 0;border-top:0.1mm solid #b3b3b3;line-height:1.2}
.card dt:first-of-type,.card dt:first-of-type+dd{border-top:none}
.card dt{font-size:6pt;color:#595959;padding-top:0.9mm;white-space:nowrap;overflow:hidden}
.card dd{overflow-wrap:anywhere;display:-webkit-box;-webkit-box-orient:vertical;overflow:hidden}
.card dd.l1{-webkit-line-clamp:1}
.card dd.l2{-webkit-line-clamp:2}
.card table{position:absolute;left:2.5mm;top:51.5mm;width:95mm;height:16mm;border-collapse:collapse;table-layout:fixed}
.card th,.card td{border:0.2mm solid #000;padding:0}
.card th{height:4mm;font-size:6.5pt;font-weight:normal;white-space:nowrap;overflow:hidden}
.card td{height:12mm}
@media print{body{background:none}.sheet{margin:0}}
`

const styleA4 = `@page{size:A4 portrait;margin:0}
.sheet{width:210mm;height:297mm}
.cut{position:absolute;border:0 dashed #8c8c8c}
.cut.v{top:0;height:297mm;border-left-width:0.15mm}
.cut.h{left:0;width:210mm;border-top-width:0.15mm}
`

const styleLabel = `@page{size:100mm 70mm;margin:0}
.sheet{width:100mm;height:70mm}
.card{left:0;top:0}
`

// the positions on an A4 sheet: cells, cut lines and font sizes (classes
// f45 … f140: 4.5 pt … 14 pt).
var styleA4Places, styleSizes = func() (string, string) {
	var b strings.Builder
	for k := range PerSheet {
		fmt.Fprintf(&b, ".card.k%d{left:%smm;top:%smm}\n", k, mm(a4MarginX+float64(k%Across)*cellW+(cellW-CardW)/2), mm(a4MarginY+float64(k/Across)*cellH+(cellH-CardH)/2))
	}
	for i := 0; i <= Across; i++ {
		fmt.Fprintf(&b, ".cut.v%d{left:%smm}\n", i, mm(a4MarginX+float64(i)*cellW))
	}
	for i := 0; i <= Down; i++ {
		fmt.Fprintf(&b, ".cut.h%d{top:%smm}\n", i, mm(a4MarginY+float64(i)*cellH))
	}
	var s strings.Builder
	for t := 45; t <= 140; t += 5 {
		fmt.Fprintf(&s, ".f%d{font-size:%spt}\n", t, mm(float64(t)/10))
	}
	return b.String(), s.String()
}()

func mm(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// Style returns the style sheet of the HTML travellers of size.
func Style(size Size) string {
	if size == Label {
		return styleCommon + styleSizes + styleLabel
	}
	return styleCommon + styleSizes + styleA4 + styleA4Places
}

// CSP is the Content-Security-Policy of the HTML travellers of size: no
// script at all, the style sheet only by its hash, nothing loaded.
func CSP(size Size) string {
	h := sha256.Sum256([]byte(Style(size)))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'; img-src data:; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}

// The page is written with html.EscapeString, not html/template: the
// templates' reflection (Method by name) keeps every exported method of
// the binary alive and made twin 5 MB larger.

type htmlCard struct {
	card   *Card
	place  string
	step   string
	qr     string
	opSize string
	rows   []row
}

func sizeClass(pt float64) string {
	t := int(pt*10+0.5) / 5 * 5
	return fmt.Sprintf("f%d", max(45, min(140, t)))
}

// HTML writes the sheet as an HTML page to print: A4 sheets of eight
// cards with cut lines, or one 100 × 70 mm card per page. Its style is
// Style(size): serve it with CSP(size).
func (s *Sheet) HTML(w io.Writer, size Size) error {
	f, err := ttf.Parse(Font)
	if err != nil {
		return err
	}
	m := func(t string, sz float64) float64 {
		u := 0
		for _, r := range t {
			u += f.Advance(f.Glyph(r))
		}
		return float64(u) / float64(f.UnitsPerEm) * sz * mmPerPt
	}
	per := PerSheet
	if size == Label {
		per = 1
	}
	var sheets [][]htmlCard
	for i := range s.Cards {
		c := &s.Cards[i]
		if i%per == 0 {
			sheets = append(sheets, nil)
		}
		q, err := qrcode.Encode(c.Token)
		if err != nil {
			return fmt.Errorf("card %s: %w", c.Operation, err)
		}
		_, opSize := fit(c.Operation, qrSide, 2, 6, 4.5, m)
		hc := htmlCard{card: c, step: s.StepText(c), qr: qrSVG(q), opSize: sizeClass(opSize), rows: s.layoutTable(c, m)}
		if size == A4 {
			hc.place = fmt.Sprintf(" k%d", i%per)
		}
		sheets[len(sheets)-1] = append(sheets[len(sheets)-1], hc)
	}
	e := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body class=\"%s\">\n",
		e(s.Locale), e(s.Words.Title+" "+s.WorkOrder), Style(size), size)
	for _, sheet := range sheets {
		b.WriteString("<section class=\"sheet\">\n")
		if size == A4 {
			for i := 0; i <= Across; i++ {
				fmt.Fprintf(&b, "<div class=\"cut v v%d\"></div>", i)
			}
			for i := 0; i <= Down; i++ {
				fmt.Fprintf(&b, "<div class=\"cut h h%d\"></div>", i)
			}
			b.WriteString("\n")
		}
		for _, hc := range sheet {
			fmt.Fprintf(&b, "<article class=\"card%s\" data-operation=\"%s\">\n<div class=\"frame\"></div>\n", hc.place, e(hc.card.Operation))
			fmt.Fprintf(&b, "<header><h1>%s</h1><p class=\"step\">%s</p></header>\n", e(s.Words.Title), e(hc.step))
			fmt.Fprintf(&b, "<div class=\"qr\">%s<p class=\"opid %s\">%s</p></div>\n<dl>", hc.qr, hc.opSize, e(hc.card.Operation))
			for _, r := range hc.rows {
				fmt.Fprintf(&b, "<dt>%s</dt><dd class=\"l%d %s\">%s</dd>", e(r.label), r.field.lines, sizeClass(r.size), e(r.value))
			}
			b.WriteString("</dl>\n<table><tr>")
			for _, col := range s.signatures() {
				fmt.Fprintf(&b, "<th>%s</th>", e(col))
			}
			b.WriteString("</tr><tr>")
			for range s.signatures() {
				b.WriteString("<td></td>")
			}
			b.WriteString("</tr></table>\n</article>\n")
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</body>\n</html>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// qrSVG is the code as an inline SVG: the dark modules as one path of
// horizontal runs, the quiet zone included in its view box.
func qrSVG(q *qrcode.Code) string {
	n := q.Size + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n, n)
	for y := range q.Size {
		for x := 0; x < q.Size; {
			if !q.Black(x, y) {
				x++
				continue
			}
			run := 1
			for q.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+4, y+4, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}
