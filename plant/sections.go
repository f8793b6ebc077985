package plant

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
)

// plant decodes the top-level mapping. Sections are read in dependency
// order, not file order, so a file may define things in any order.
func (d *decoder) plant(top *yaml.Node) {
	p := d.p
	sec := map[string]*yaml.Node{}
	if !d.fields(top, "plant", "", func(key string, v *yaml.Node) { sec[key] = v }) {
		return
	}
	d.wcByID, d.unitByID, d.calByID = map[string]*WorkCenter{}, map[string]*Unit{}, map[string]*Calendar{}
	d.partByID, d.prodByID, d.routByID = map[string]*Part{}, map[string]*Product{}, map[string]*Routing{}
	d.families, d.skills = map[string]bool{}, map[string]bool{}

	d.header(top, sec)
	if v := sec["calendars"]; v != nil {
		for i, n := range d.List(v, "calendars", false) {
			d.calendar(n, "calendars."+yamldec.IDOf(n, i))
		}
	}
	d.defCal = sec["calendar"]
	if v := sec["calendar"]; v != nil {
		p.Calendar = d.calRef(v, "calendar")
	}
	d.defRule = FIFO
	var demand *yaml.Node
	if v := sec["demand"]; v != nil {
		demand = v
		d.fields(v, "demand", "demand", func(key string, v *yaml.Node) {
			if key == "dispatch" {
				d.defRule = d.rule(v, "demand.dispatch")
			}
		})
	}
	p.Demand.Dispatch = d.defRule
	if v := sec["site"]; v != nil {
		d.site(v)
	} else {
		d.Errorf(top, "site", "want the equipment tree (site: {id, areas: [{id, lines: [{id, workcenters: …}]}]})")
	}
	if v := sec["pools"]; v != nil {
		for i, n := range d.List(v, "pools", false) {
			d.pool(n, "pools."+yamldec.IDOf(n, i))
		}
	}
	for _, r := range d.skillRef {
		if !d.skills[r.id] {
			d.Errorf(r.node, r.field, "no worker pool has skill %q (%s)", r.id, known(d.skills))
		}
	}
	d.floor(sec)
	d.made(top, sec)
	d.scrapReasonRefs()
	if v := sec["energy"]; v != nil {
		d.energy(v)
	}
	if demand != nil {
		d.demand(demand)
	}
	if v := sec["layout"]; v != nil {
		d.layout(v)
	}
	if v := sec["tags"]; v != nil {
		d.tags(v)
	}
}

// made reads what the plant makes: routings, parts and products, then
// the references between them (parts consumed, times by product).
func (d *decoder) made(top *yaml.Node, sec map[string]*yaml.Node) {
	if v := sec["routings"]; v != nil {
		for i, n := range d.List(v, "routings", false) {
			d.routing(n, "routings."+yamldec.IDOf(n, i))
		}
	}
	if v := sec["parts"]; v != nil {
		for i, n := range d.List(v, "parts", false) {
			d.part(n, "parts."+yamldec.IDOf(n, i))
		}
	}
	if v := sec["products"]; v != nil {
		for i, n := range d.List(v, "products", false) {
			d.product(n, "products."+yamldec.IDOf(n, i))
		}
	} else {
		d.Errorf(top, "products", "want the products the plant makes")
	}
	// consumes of routings need parts: resolved once parts exist; times
	// by product need products
	d.consumes()
	d.saturated()
	for _, r := range d.timeRefs {
		if d.prodByID[r.id] == nil {
			d.Errorf(r.node, r.field, "no product family or product %q (families: %s; products: %s); or use default", r.id, strings.Join(d.p.Families, ", "), known(d.prodByID))
		}
	}
	if len(d.Errs) == 0 { // else missing times are likely a symptom
		d.checkTimes()
	}
}

// layout reads the floor's size.
func (d *decoder) layout(v *yaml.Node) {
	p := d.p
	d.fields(v, "layout", "layout", func(key string, v *yaml.Node) {
		x := d.Number(v, "layout."+key)
		if x < 0 {
			d.Errorf(v, "layout."+key, "want a size in metres that is not negative")
		}
		if key == "width" {
			p.Layout.Width = x
		} else {
			p.Layout.Height = x
		}
	})
}

// header reads the plant's own keys: its version, id and names, currency,
// time zone, start and product families.
func (d *decoder) header(top *yaml.Node, sec map[string]*yaml.Node) {
	p := d.p
	if v := sec["version"]; v != nil {
		p.Version = d.Int(v, "version", "a whole number", 1, 1)
	}
	if v := sec["id"]; v != nil {
		p.ID = d.id(v, "id")
	} else {
		d.Errorf(top, "id", "want the plant's id (id: qijiang-motor)")
	}
	if v := sec["name"]; v != nil {
		p.Name = d.Str(v, "name")
	}
	if v := sec["unit_name"]; v != nil {
		p.Unit = d.Str(v, "unit_name")
	}
	p.Currency = "CNY"
	if v := sec["currency"]; v != nil {
		if c := d.Str(v, "currency"); len(c) != 3 || strings.ToUpper(c) != c {
			d.Errorf(v, "currency", "want an ISO 4217 code like CNY or EUR, got %q", c)
		} else {
			p.Currency = c
		}
	}
	if v := sec["timezone"]; v != nil {
		if tz := d.Str(v, "timezone"); tz != "" {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				d.Errorf(v, "timezone", "want an IANA time zone like Asia/Shanghai, got %q", tz)
			} else {
				p.Location = loc
			}
		}
	}
	p.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, p.Location) // a Monday
	if v := sec["start"]; v != nil {
		if s, ok := d.Scalar(v, "start", "a date and time"); ok {
			t, err := ParseTime(s, p.Location)
			if err != nil {
				d.Errorf(v, "start", "%v", err)
			} else {
				p.Start = t
			}
		}
	}
	if v := sec["families"]; v != nil {
		fs, nodes := d.Strs(v, "families")
		for i, f := range fs {
			if d.families[f] {
				d.Errorf(nodes[i], "families", "family %q listed twice", f)
			}
			d.families[f] = true
			p.Families = append(p.Families, f)
		}
	}
}

func (d *decoder) calRef(n *yaml.Node, field string) *Calendar {
	id, ok := d.Scalar(n, field, "a calendar id")
	if !ok {
		return nil
	}
	c := d.calByID[id]
	if c == nil {
		d.Errorf(n, field, "no calendar %q (%s)", id, known(d.calByID))
	}
	return c
}

func (d *decoder) rule(n *yaml.Node, field string) Rule {
	s, ok := d.Scalar(n, field, "a dispatch rule")
	if !ok {
		return FIFO
	}
	for _, r := range Rules() {
		if strings.EqualFold(s, r.String()) {
			return r
		}
	}
	names := make([]string, 0, 6)
	for _, r := range Rules() {
		names = append(names, r.String())
	}
	d.Errorf(n, field, "want a dispatch rule (%s), got %q", strings.Join(names, ", "), s)
	return FIFO
}
