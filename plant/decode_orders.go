package plant

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
)

// Demand: orders listed, from a CSV file, or generated.

func (d *decoder) prodRef(n *yaml.Node, field string) *Product {
	id, ok := d.Scalar(n, field, "a product id")
	if !ok {
		return nil
	}
	pr := d.prodByID[id]
	if pr == nil {
		d.Errorf(n, field, "no product %q (%s)", id, known(d.prodByID))
	}
	return pr
}

func (d *decoder) priority(n *yaml.Node, field string) int {
	s, ok := d.Scalar(n, field, "a priority")
	if !ok {
		return 0
	}
	for i, p := range d.p.Demand.Priorities {
		if p == s {
			return i
		}
	}
	if k, err := strconv.Atoi(s); err == nil && k >= 0 && (k < len(d.p.Demand.Priorities) || len(d.p.Demand.Priorities) == 0 && k < 100) {
		return k
	}
	d.Errorf(n, field, "no priority %q (demand.priorities: %s)", s, strings.Join(d.p.Demand.Priorities, ", "))
	return 0
}

func (d *decoder) demand(n *yaml.Node) {
	dm := &d.p.Demand
	sec := map[string]*yaml.Node{}
	d.fields(n, "demand", "demand", func(key string, v *yaml.Node) { sec[key] = v })
	if v := sec["priorities"]; v != nil {
		dm.Priorities, _ = d.Strs(v, "demand.priorities")
	}
	if v := sec["orders"]; v != nil {
		for i, on := range d.List(v, "demand.orders", false) {
			d.order(on, "demand.orders."+yamldec.IDOf(on, i))
		}
	}
	if v := sec["orders_file"]; v != nil {
		if f := d.Str(v, "demand.orders_file"); f != "" {
			path := f
			if !filepath.IsAbs(f) {
				path = filepath.Join(filepath.Dir(d.File), f)
			}
			if err := d.ordersFile(path); err != nil {
				d.Errorf(v, "demand.orders_file", "%v", err)
			}
		}
	}
	if v := sec["generator"]; v != nil {
		d.generator(v)
	}
}

func (d *decoder) order(n *yaml.Node, field string) {
	o := Order{Quantity: 1}
	var rel, due bool
	d.fields(n, "order", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "id":
			o.ID = d.id(v, f)
		case "customer":
			o.Customer = d.Str(v, f)
		case "product":
			o.Product = d.prodRef(v, f)
		case "quantity":
			o.Quantity = d.Int(v, f, "a whole number", 1, 1<<30)
		case "release", "due":
			if s, ok := d.Scalar(v, f, "a date and time"); ok {
				t, err := ParseTime(s, d.p.Location)
				if err != nil {
					d.Errorf(v, f, "%v", err)
				}
				if key == "release" {
					o.Release, rel = t, true
				} else {
					o.Due, due = t, true
				}
			}
		case "priority":
			o.Priority = d.priority(v, f)
		}
	})
	if o.ID == "" || o.Product == nil || !due {
		d.Errorf(n, field, "want id, product and due (and quantity, release, customer, priority)")
		return
	}
	if !rel {
		o.Release = d.p.Start
	}
	if o.Due.Before(o.Release) {
		d.Errorf(n, field+".due", "due before release")
	}
	d.p.Demand.Orders = append(d.p.Demand.Orders, o)
}

// ordersFile reads a CSV order list: a header row naming the columns id,
// product, quantity, due and optionally customer, release, priority.
func (d *decoder) ordersFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: cannot read the header row: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"id", "product", "quantity", "due"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("%s:1: the header row has no %q column (want id, product, quantity, due; optional customer, release, priority)", path, need)
		}
	}
	row := csvRow{d: d, path: path, r: r, col: col}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		row.line, _ = r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				row.fail(pe.Line, pe.Column, "", "%v", pe.Err)
				if len(d.Errs) > 100 {
					return nil
				}
				continue
			}
			return err
		}
		row.rec = rec
		d.p.Demand.Orders = append(d.p.Demand.Orders, row.order())
	}
	return nil
}

// csvRow is a row of an orders file being read.
type csvRow struct {
	d    *decoder
	path string
	r    *csv.Reader
	col  map[string]int // column of each header, by lower-case name
	rec  []string
	line int
}

func (w *csvRow) fail(line, c int, field, format string, args ...any) {
	w.d.Errs = append(w.d.Errs, &FieldError{File: w.path, Line: line, Column: c, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// get returns the value of column name and its column in the file.
func (w *csvRow) get(name string) (string, int) {
	i, ok := w.col[name]
	if !ok || i >= len(w.rec) {
		return "", 1
	}
	_, c := w.r.FieldPos(i)
	return strings.TrimSpace(w.rec[i]), c
}

// order reads the row's order, reporting what is wrong with it.
func (w *csvRow) order() Order {
	d, line := w.d, w.line
	o := Order{Release: d.p.Start}
	v, c := w.get("id")
	if o.ID = v; v == "" {
		w.fail(line, c, "id", "want an order id")
	}
	v, c = w.get("product")
	if o.Product = d.prodByID[v]; o.Product == nil {
		w.fail(line, c, "product", "no product %q (%s)", v, known(d.prodByID))
	}
	v, c = w.get("quantity")
	q, err := strconv.Atoi(v)
	if err != nil || q < 1 {
		w.fail(line, c, "quantity", "want a quantity of at least 1, got %q", v)
	}
	o.Quantity = q
	for _, k := range []string{"release", "due"} {
		v, c = w.get(k)
		if v == "" && k == "release" {
			continue
		}
		t, err := ParseTime(v, d.p.Location)
		if err != nil {
			w.fail(line, c, k, "%v", err)
			continue
		}
		if k == "due" {
			o.Due = t
		} else {
			o.Release = t
		}
	}
	o.Customer, _ = w.get("customer")
	if v, c = w.get("priority"); v != "" {
		found := false
		for i, p := range d.p.Demand.Priorities {
			if p == v {
				o.Priority, found = i, true
			}
		}
		if k, err := strconv.Atoi(v); !found && err == nil && k >= 0 {
			o.Priority, found = k, true
		}
		if !found {
			w.fail(line, c, "priority", "no priority %q (demand.priorities: %s)", v, strings.Join(d.p.Demand.Priorities, ", "))
		}
	}
	return o
}

func (d *decoder) generator(n *yaml.Node) {
	g := &Generator{}
	f0 := "demand.generator"
	d.fields(n, "generator", f0, func(key string, v *yaml.Node) {
		f := yamldec.Join(f0, key)
		switch key {
		case "interarrival":
			g.Interarrival = d.dist(v, f, durations)
		case "due_in":
			g.DueIn = d.dist(v, f, durations)
		case "quantity":
			g.Quantity = d.dist(v, f, numbers)
		case "mix":
			dv := yamldec.Deref(v)
			if dv == nil || dv.Kind != yaml.MappingNode {
				d.Errorf(v, f, "want a mapping of products to weights (mix: {M-small: 3, M-large: 1}), got %s", yamldec.KindName(v))
				return
			}
			for _, kv := range yamldec.Pairs(dv) {
				k := yamldec.Deref(kv[0])
				pr := d.prodRef(k, yamldec.Join(f, k.Value))
				w := d.Number(kv[1], yamldec.Join(f, k.Value))
				if w < 0 {
					d.Errorf(kv[1], yamldec.Join(f, k.Value), "want a weight that is not negative")
				}
				if pr != nil {
					g.Mix = append(g.Mix, Share{Product: pr, Weight: w})
				}
			}
		case "priority":
			dv := yamldec.Deref(v)
			if dv == nil || dv.Kind != yaml.MappingNode {
				d.Errorf(v, f, "want a mapping of priorities to weights (priority: {normal: 0.8, urgent: 0.2}), got %s", yamldec.KindName(v))
				return
			}
			g.Priority = make([]float64, max(len(d.p.Demand.Priorities), 1))
			for _, kv := range yamldec.Pairs(dv) {
				k := yamldec.Deref(kv[0])
				i := d.priority(k, yamldec.Join(f, k.Value))
				if i < len(g.Priority) {
					g.Priority[i] = d.Number(kv[1], yamldec.Join(f, k.Value))
				}
			}
		case "customers":
			g.Customers, _ = d.Strs(v, f)
		case "until":
			if s, ok := d.Scalar(v, f, "a date and time"); ok {
				t, err := ParseTime(s, d.p.Location)
				if err != nil {
					d.Errorf(v, f, "%v", err)
				}
				g.Until = t
			}
		}
	})
	if g.Interarrival == nil || len(g.Mix) == 0 || g.DueIn == nil {
		d.Errorf(n, f0, "want interarrival, mix and due_in (and quantity, priority, customers, until)")
		return
	}
	total := 0.0
	for _, s := range g.Mix {
		total += s.Weight
	}
	if total <= 0 {
		d.Errorf(n, f0+".mix", "the mix weights add up to 0")
		return
	}
	d.p.Demand.Generator = g
}
