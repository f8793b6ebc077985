package traveller

import (
	"fmt"
	"io"

	"twin/twin/mes/qrcode"
	"twin/twin/mes/traveller/internal/pdf"
)

const mmPerPt = 25.4 / 72

// The A4 sheet: its margins (inside any office printer's unprintable
// edge) and the cell each card is cut to.
const (
	a4MarginX, a4MarginY = 5.0, 4.5
	cellW, cellH         = (A4W - 2*a4MarginX) / Across, (A4H - 2*a4MarginY) / Down
)

// PDF writes the sheet as a PDF: A4 sheets of eight cards with cut lines,
// or one 100 × 70 mm card per page. Its text is in the embedded font
// (a subset of Font), so it prints the same on any computer.
func (s *Sheet) PDF(w io.Writer, size Size) error {
	d, err := pdf.New(Font)
	if err != nil {
		return err
	}
	d.Title = s.Words.Title + " " + s.WorkOrder
	var page *pdf.Page
	for i := range s.Cards {
		c := &s.Cards[i]
		var ox, oy float64
		if size == Label {
			page = d.Page(CardW, CardH)
		} else {
			k := i % PerSheet
			if k == 0 {
				page = d.Page(A4W, A4H)
				cutLines(page)
			}
			ox = a4MarginX + float64(k%Across)*cellW + (cellW-CardW)/2
			oy = a4MarginY + float64(k/Across)*cellH + (cellH-CardH)/2
		}
		if err := s.drawCard(d, page, c, ox, oy); err != nil {
			return fmt.Errorf("card %s: %w", c.Operation, err)
		}
	}
	if len(s.Cards) == 0 {
		p := d.Page(A4W, A4H)
		p.Text(20, 30, 12, s.Words.WorkOrder+" "+s.WorkOrder+": 0")
	}
	return d.Write(w)
}

// cutLines draws the dashed lines between an A4 sheet's cells, across the
// whole sheet so that a guillotine finds them.
func cutLines(p *pdf.Page) {
	p.Gray(0.55)
	for i := 0; i <= Across; i++ {
		x := a4MarginX + float64(i)*cellW
		p.Line(x, 0, x, A4H, 0.15, 1.5)
	}
	for i := 0; i <= Down; i++ {
		y := a4MarginY + float64(i)*cellH
		p.Line(0, y, A4W, y, 0.15, 1.5)
	}
	p.Gray(0)
}

// cardLayout is where the parts of a card go, millimetres from its
// top-left corner.
const (
	qrX, qrY, qrSide      = 2.5, 11.0, 29.0
	tableX, labelW        = 33.5, 12.0
	tableRight            = 97.5
	tableTop, tableBottom = 11.0, 50.5
	signTop, signBottom   = 51.5, 67.5
	signHead              = 4.0
)

func (s *Sheet) drawCard(d *pdf.Doc, p *pdf.Page, c *Card, ox, oy float64) error {
	m := measure(d.Width)
	p.Gray(0)
	p.Box(ox+1, oy+1, CardW-2, CardH-2, 0.3)
	// the title, and which step of how many, large: what a person looks for first
	p.Text(ox+3, oy+7.4, 11, s.Words.Title)
	step := s.StepText(c)
	p.Text(ox+CardW-3-d.Width(step, 13), oy+7.8, 13, step)
	p.Line(ox+1, oy+9.5, ox+CardW-1, oy+9.5, 0.3, 0)

	q, err := qrcode.Encode(c.Token)
	if err != nil {
		return err
	}
	mod := qrSide / float64(q.Size+8)
	var rs [][4]float64
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
			rs = append(rs, [4]float64{ox + qrX + float64(x+4)*mod, oy + qrY + float64(y+4)*mod, float64(run) * mod, mod})
			x += run
		}
	}
	p.Rects(rs)
	// the operation's id under the code, for a person to key in when a scanner fails
	ls, sz := fit(c.Operation, qrSide, 2, 6, 4.5, m)
	p.Gray(0.25)
	for i, l := range ls {
		p.Text(ox+qrX+(qrSide-d.Width(l, sz))/2, oy+qrY+qrSide+2.2+float64(i)*sz*mmPerPt*1.15, sz, l)
	}
	p.Gray(0)

	s.drawTable(d, p, c, ox, oy, m)

	// the sign-off row: who did it, when, how many good and scrap, who checked
	cols := s.signatures()
	w := (CardW - 5) / float64(len(cols))
	p.Box(ox+2.5, oy+signTop, CardW-5, signBottom-signTop, 0.2)
	p.Line(ox+2.5, oy+signTop+signHead, ox+CardW-2.5, oy+signTop+signHead, 0.2, 0)
	for i, col := range cols {
		x := ox + 2.5 + float64(i)*w
		if i > 0 {
			p.Line(x, oy+signTop, x, oy+signBottom, 0.2, 0)
		}
		ls, sz := fit(col, w-1, 1, 6.5, 4.5, m)
		p.Text(x+(w-d.Width(ls[0], sz))/2, oy+signTop+signHead-1.1, sz, ls[0])
	}
	return nil
}

// row is a field laid out: its value's lines and their size.
type row struct {
	field
	lines []string
	size  float64
}

func lineHeight(size float64) float64 { return size * mmPerPt * 1.2 }

func (r row) height() float64 {
	return max(float64(len(r.lines))*lineHeight(r.size), lineHeight(6)) + 0.9
}

// layoutTable fits a card's fields into the table: each value at its size
// or smaller, on its lines; when the whole does not fit the table's
// height, every size shrinks a step and it tries again.
func (s *Sheet) layoutTable(c *Card, m measure) []row {
	width := tableRight - tableX - labelW
	var rows []row
	for k := 1.0; ; k -= 0.05 {
		rows = rows[:0]
		total := 0.0
		for _, f := range s.fields(c) {
			ls, sz := fit(f.value, width, f.lines, f.size*k, min(5, f.size*k), m)
			r := row{f, ls, sz}
			rows = append(rows, r)
			total += r.height()
		}
		if total <= tableBottom-tableTop || k < 0.6 {
			return rows
		}
	}
}

func (s *Sheet) drawTable(d *pdf.Doc, p *pdf.Page, c *Card, ox, oy float64, m measure) {
	y := oy + tableTop
	for i, r := range s.layoutTable(c, m) {
		if i > 0 {
			p.Gray(0.7)
			p.Line(ox+tableX, y-0.45, ox+tableRight, y-0.45, 0.1, 0)
		}
		p.Gray(0.35)
		ll, lsz := fit(r.label, labelW-0.8, 1, 6, 4.5, m)
		p.Text(ox+tableX, y+lineHeight(r.size)*0.8, lsz, ll[0])
		p.Gray(0)
		for j, l := range r.lines {
			p.Text(ox+tableX+labelW, y+lineHeight(r.size)*(float64(j)+0.8), r.size, l)
		}
		y += r.height()
	}
}
