package traveller

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"twin/plant"
	"twin/twin/mes"
	"twin/twin/mes/traveller/font"
)

// Font is the TrueType font the PDF embeds (a subset of it per
// document): WenQuanYi Micro Hei cut to GB2312 and the labels (package
// font, which the desktop viewer draws with too).
var Font = font.TTF

// Size is a paper size.
type Size uint8

const (
	// A4 is a portrait A4 sheet of eight cards, two across and four down,
	// with dashed lines to cut along.
	A4 Size = iota
	// Label is one card per 100 × 70 mm page, for a label printer.
	Label
)

// ParseSize reads "a4" (also "") or "label".
func ParseSize(s string) (Size, error) {
	switch s {
	case "", "a4", "A4":
		return A4, nil
	case "label":
		return Label, nil
	}
	return 0, fmt.Errorf("size: want a4 (eight cards on an A4 sheet) or label (one 100×70 mm card a page), got %q", s)
}

func (s Size) String() string {
	if s == Label {
		return "label"
	}
	return "a4"
}

// The card and the sheet, millimetres.
const (
	CardW, CardH = 100.0, 70.0
	A4W, A4H     = 210.0, 297.0
	Across, Down = 2, 4 // cards on an A4 sheet
	PerSheet     = Across * Down
)

// Card is what one operation's card shows.
type Card struct {
	Token       string // the QR's text: the operation card's signed token
	Operation   string // the operation's id
	Seq         int    // 10, 20, … along the routing
	Name        string // the operation's name
	Step, Steps int    // its place in the work order: step Step of Steps
	Inspect     bool
	WorkCenter  string // the work centres' names and their machines
	Station     string // the machine it runs on, once started
	Order       string
	Customer    string
	Product     string // product id and name
	WorkOrder   string
	Item        string // a part's id and name, for a work order making a part; "" for the product's
	Quantity    int
	Due         time.Time // in the plant's zone
}

// Sheet is a work order's travellers: a card per operation.
type Sheet struct {
	Plant     string
	Zone      *time.Location
	Locale    string
	WorkOrder string
	Order     string
	Printed   time.Time
	Cards     []Card
	Words     Words
}

// Build makes the travellers of work order w of order o, whose operations
// are ops (in the work order's order); token gives an operation's card
// token; now is when it is printed.
func Build(p *plant.Plant, o *mes.Order, w *mes.WorkOrder, ops []mes.Operation, token func(op string) string, now time.Time) *Sheet {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	locale := Locale(p)
	s := &Sheet{Plant: p.Name, Zone: loc, Locale: locale, WorkOrder: w.ID, Order: o.ID, Printed: now.In(loc), Words: WordsFor(locale)}
	product := o.Product
	if pr := p.FindProduct(o.Product); pr != nil && pr.Name != "" && pr.Name != pr.ID {
		product += " " + pr.Name
	}
	item := ""
	if !w.Final {
		item = w.Item
		for _, pt := range p.Parts {
			if pt.ID == w.Item && pt.Name != "" && pt.Name != pt.ID {
				item += " " + pt.Name
			}
		}
	}
	for i, op := range ops {
		s.Cards = append(s.Cards, Card{
			Token: token(op.ID), Operation: op.ID, Seq: op.Seq, Name: op.Name, Step: i + 1, Steps: len(ops),
			Inspect: op.Inspect, WorkCenter: workCenters(p, op.WorkCenters), Station: op.Station,
			Order: o.ID, Customer: o.Customer, Product: product, WorkOrder: w.ID, Item: item,
			Quantity: w.Quantity, Due: w.Due.In(loc),
		})
	}
	return s
}

// Locale is the locale of the plant's screens and papers: the plant
// file's locale (zh-CN or en; en when the file names none).
func Locale(p *plant.Plant) string {
	if p.Locale == "" {
		return plant.LocaleEN
	}
	return p.Locale
}

// workCenters names work centres by their ids: "Stator winding (W1, W2)".
func workCenters(p *plant.Plant, ids []string) string {
	var out []string
	for _, id := range ids {
		i := slices.IndexFunc(p.WorkCenters, func(w *plant.WorkCenter) bool { return w.ID() == id })
		if i < 0 {
			out = append(out, id)
			continue
		}
		wc := p.WorkCenters[i]
		name := wc.Node.Name
		if name == "" {
			name = id
		}
		var units []string
		for _, u := range wc.Units {
			units = append(units, u.Node.ID)
		}
		if len(units) > 0 {
			name += " (" + strings.Join(units, ", ") + ")"
		}
		out = append(out, name)
	}
	return strings.Join(out, "; ")
}

// DueText is a card's due time as a person reads it: plant time, the zone
// named ("2026-12-01 16:00 Asia/Shanghai").
func (c *Card) DueText() string {
	if c.Due.IsZero() {
		return "—"
	}
	return c.Due.Format("2006-01-02 15:04") + " " + c.Due.Location().String()
}

// StepText is "第 3 / 9 道" (or "step 3 of 9").
func (s *Sheet) StepText(c *Card) string { return fmt.Sprintf(s.Words.Step, c.Step, c.Steps) }

// OperationText is the operation's sequence number and name.
func (s *Sheet) OperationText(c *Card) string {
	t := fmt.Sprintf("%d %s", c.Seq, c.Name)
	if c.Inspect {
		t += " · " + s.Words.Inspect
	}
	return t
}

// StationText is the machine, once the operation started, else where it may run.
func (s *Sheet) StationText(c *Card) (label, text string) {
	if c.Station != "" {
		return s.Words.Station, c.Station
	}
	return s.Words.WorkCenter, c.WorkCenter
}

// PrintedText is when the sheet was printed, plant time, the zone named
// (two lines: so that a reprint is told from the first print).
func (s *Sheet) PrintedText() [2]string {
	return [2]string{s.Words.Printed + " " + s.Printed.Format("2006-01-02 15:04"), s.Zone.String()}
}

// field is one line of a card's table: a label and its value, set on at
// most lines lines.
type field struct {
	label, value string
	lines        int
	size         float64 // the value's preferred size, points
}

// fields are the rows of a card's table, in order.
func (s *Sheet) fields(c *Card) []field {
	wl, wt := s.StationText(c)
	f := []field{
		{s.Words.Operation, s.OperationText(c), 2, 9},
		{wl, wt, 2, 7},
		{s.Words.Order, c.Order, 1, 8},
		{s.Words.Customer, c.Customer, 2, 8},
		{s.Words.Product, c.Product, 1, 8},
		{s.Words.WorkOrder, c.WorkOrder, 1, 7},
	}
	if c.Item != "" {
		f = append(f, field{s.Words.Item, c.Item, 1, 7})
	}
	f = append(f, field{s.Words.Quantity, fmt.Sprintf(s.Words.Pieces, c.Quantity), 1, 8}, field{s.Words.Due, c.DueText(), 1, 8})
	return f
}

// signatures are the columns of a card's sign-off row.
func (s *Sheet) signatures() []string {
	return []string{s.Words.Operator, s.Words.Date, s.Words.Good, s.Words.Scrap, s.Words.Inspector}
}

// measure gives the width of a text at a size (points), millimetres.
type measure func(s string, size float64) float64

// fit sets text in lines no wider than width mm, at most max lines, at
// size points or smaller down to minSize: the largest size at which it
// fits, else minSize with the last line cut and ended by "…". Lines break
// at spaces where a word fits, else between any two characters (Chinese
// has no spaces).
func fit(text string, width float64, max int, size, minSize float64, m measure) ([]string, float64) {
	for sz := size; sz >= minSize; sz -= 0.5 {
		if ls := wrap(text, width, sz, m); len(ls) <= max {
			return ls, sz
		}
	}
	ls := wrap(text, width, minSize, m)
	ls = ls[:max]
	last := []rune(ls[max-1])
	for len(last) > 0 && m(string(last)+"…", minSize) > width {
		last = last[:len(last)-1]
	}
	ls[max-1] = strings.TrimRight(string(last), " ") + "…"
	return ls, minSize
}

func wrap(text string, width, size float64, m measure) []string {
	var lines []string
	rs := []rune(strings.Join(strings.Fields(text), " "))
	for len(rs) > 0 {
		n := 1
		for n < len(rs) && m(string(rs[:n+1]), size) <= width {
			n++
		}
		if n < len(rs) {
			// break at the last space of the line, if it leaves a fair line
			if sp := lastSpace(rs[:n+1]); sp > n/2 {
				n = sp
			}
		}
		lines = append(lines, strings.TrimSpace(string(rs[:n])))
		rs = rs[n:]
		for len(rs) > 0 && rs[0] == ' ' {
			rs = rs[1:]
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

func lastSpace(rs []rune) int {
	for i := len(rs) - 1; i > 0; i-- {
		if rs[i] == ' ' {
			return i
		}
	}
	return 0
}
