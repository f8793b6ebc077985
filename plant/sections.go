package plant

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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

	if v := sec["version"]; v != nil {
		p.Version = d.integer(v, "version", 1, 1)
	}
	if v := sec["id"]; v != nil {
		p.ID = d.id(v, "id")
	} else {
		d.errorf(top, "id", "want the plant's id (id: qijiang-motor)")
	}
	if v := sec["name"]; v != nil {
		p.Name = d.str(v, "name")
	}
	if v := sec["unit_name"]; v != nil {
		p.Unit = d.str(v, "unit_name")
	}
	p.Currency = "CNY"
	if v := sec["currency"]; v != nil {
		if c := d.str(v, "currency"); len(c) != 3 || strings.ToUpper(c) != c {
			d.errorf(v, "currency", "want an ISO 4217 code like CNY or EUR, got %q", c)
		} else {
			p.Currency = c
		}
	}
	if v := sec["timezone"]; v != nil {
		if tz := d.str(v, "timezone"); tz != "" {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				d.errorf(v, "timezone", "want an IANA time zone like Asia/Shanghai, got %q", tz)
			} else {
				p.Location = loc
			}
		}
	}
	p.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, p.Location) // a Monday
	if v := sec["start"]; v != nil {
		if s, ok := d.scalar(v, "start", "a date and time"); ok {
			t, err := ParseTime(s, p.Location)
			if err != nil {
				d.errorf(v, "start", "%v", err)
			} else {
				p.Start = t
			}
		}
	}
	if v := sec["families"]; v != nil {
		fs, nodes := d.strs(v, "families")
		for i, f := range fs {
			if d.families[f] {
				d.errorf(nodes[i], "families", "family %q listed twice", f)
			}
			d.families[f] = true
			p.Families = append(p.Families, f)
		}
	}
	if v := sec["calendars"]; v != nil {
		for i, n := range d.list(v, "calendars") {
			d.calendar(n, "calendars."+idOf(n, i))
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
		d.errorf(top, "site", "want the equipment tree (site: {id, areas: [{id, lines: [{id, workcenters: …}]}]})")
	}
	if v := sec["pools"]; v != nil {
		for i, n := range d.list(v, "pools") {
			d.pool(n, "pools."+idOf(n, i))
		}
	}
	for _, r := range d.skillRef {
		if !d.skills[r.id] {
			d.errorf(r.node, r.field, "no worker pool has skill %q (%s)", r.id, known(d.skills))
		}
	}
	if v := sec["routings"]; v != nil {
		for i, n := range d.list(v, "routings") {
			d.routing(n, "routings."+idOf(n, i))
		}
	}
	if v := sec["parts"]; v != nil {
		for i, n := range d.list(v, "parts") {
			d.part(n, "parts."+idOf(n, i))
		}
	}
	if v := sec["products"]; v != nil {
		for i, n := range d.list(v, "products") {
			d.product(n, "products."+idOf(n, i))
		}
	} else {
		d.errorf(top, "products", "want the products the plant makes")
	}
	// consumes of routings need parts: resolved once parts exist; times
	// by product need products
	d.consumes()
	for _, r := range d.timeRefs {
		if d.prodByID[r.id] == nil {
			d.errorf(r.node, r.field, "no product family or product %q (families: %s; products: %s); or use default", r.id, strings.Join(d.p.Families, ", "), known(d.prodByID))
		}
	}
	if len(d.errs) == 0 { // else missing times are likely a symptom
		d.checkTimes()
	}
	if v := sec["energy"]; v != nil {
		d.energy(v)
	}
	if demand != nil {
		d.demand(demand)
	}
	if v := sec["layout"]; v != nil {
		d.fields(v, "layout", "layout", func(key string, v *yaml.Node) {
			x := d.number(v, "layout."+key)
			if x < 0 {
				d.errorf(v, "layout."+key, "want a size in metres that is not negative")
			}
			if key == "width" {
				p.Layout.Width = x
			} else {
				p.Layout.Height = x
			}
		})
	}
	if v := sec["tags"]; v != nil {
		d.tags(v)
	}
}

func (d *decoder) calRef(n *yaml.Node, field string) *Calendar {
	id, ok := d.scalar(n, field, "a calendar id")
	if !ok {
		return nil
	}
	c := d.calByID[id]
	if c == nil {
		d.errorf(n, field, "no calendar %q (%s)", id, known(d.calByID))
	}
	return c
}

func (d *decoder) rule(n *yaml.Node, field string) Rule {
	s, ok := d.scalar(n, field, "a dispatch rule")
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
	d.errorf(n, field, "want a dispatch rule (%s), got %q", strings.Join(names, ", "), s)
	return FIFO
}
