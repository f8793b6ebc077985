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
	"time"

	"gopkg.in/yaml.v3"

	"twin/sim"
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
			t, err := parseTime(s, p.Location)
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

// node starts an equipment node: id, name, at, size; rest gets the other
// keys.
func (d *decoder) equipment(n *yaml.Node, kind, field string, level Level, parent *Node, rest func(key string, v *yaml.Node)) *Node {
	node := &Node{Level: level, Parent: parent}
	var idNode *yaml.Node
	ok := d.fields(n, kind, field, func(key string, v *yaml.Node) {
		switch key {
		case "id":
			idNode = v
			node.ID = d.id(v, join(field, "id"))
		case "name":
			node.Name = d.str(v, join(field, "name"))
		case "at":
			node.At = d.point(v, join(field, "at"))
		case "size":
			node.Size = d.point(v, join(field, "size"))
		default:
			rest(key, v)
		}
	})
	if !ok {
		return nil
	}
	if idNode == nil {
		d.errorf(n, join(field, "id"), "want an id")
	} else if node.ID != "" {
		if prev := d.seen[node.ID]; prev != nil {
			d.errorf(idNode, join(field, "id"), "id %q is already used at line %d; equipment ids must be unique in the plant", node.ID, prev.Line)
		}
		d.seen[node.ID] = deref(idNode)
	}
	if node.Name == "" {
		node.Name = node.ID
	}
	node.Path = node.ID
	if parent != nil {
		node.Path = parent.Path + "/" + node.ID
		parent.Nodes = append(parent.Nodes, node)
	}
	d.p.Nodes = append(d.p.Nodes, node)
	return node
}

func (d *decoder) site(n *yaml.Node) {
	var areas *yaml.Node
	site := d.equipment(n, "site", "site", SiteLevel, nil, func(key string, v *yaml.Node) { areas = v })
	if site == nil {
		return
	}
	d.p.Site = site
	if areas == nil {
		d.errorf(n, "site.areas", "want the site's areas")
		return
	}
	for i, an := range d.list(areas, "site.areas") {
		af := "areas." + idOf(an, i)
		var lines *yaml.Node
		area := d.equipment(an, "area", af, AreaLevel, site, func(key string, v *yaml.Node) { lines = v })
		if area == nil {
			continue
		}
		if lines == nil {
			d.errorf(an, af+".lines", "want the area's lines")
			continue
		}
		for j, ln := range d.list(lines, af+".lines") {
			lf := "lines." + idOf(ln, j)
			var wcs *yaml.Node
			line := d.equipment(ln, "line", lf, LineLevel, area, func(key string, v *yaml.Node) { wcs = v })
			if line == nil {
				continue
			}
			if wcs == nil {
				d.errorf(ln, lf+".workcenters", "want the line's work centres")
				continue
			}
			for k, wn := range d.list(wcs, lf+".workcenters") {
				d.workcenter(wn, "workcenters."+idOf(wn, k), line)
			}
		}
	}
	if len(d.p.Units) == 0 && len(d.errs) == 0 {
		d.errorf(n, "site", "the plant has no units (machines)")
	}
}

func (d *decoder) workcenter(n *yaml.Node, field string, line *Node) {
	w := &WorkCenter{Dispatch: d.defRule, Calendar: d.p.Calendar}
	var units, defaults *yaml.Node
	node := d.equipment(n, "workcenter", field, WorkCenterLevel, line, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "buffer":
			w.Buffer = d.integer(v, f, 0, 1<<30)
		case "buffer_at":
			w.BufferAt = d.point(v, f)
		case "dispatch":
			w.Dispatch = d.rule(v, f)
		case "skill":
			if s := d.str(v, f); s != "" {
				w.Skill = s
				d.skillRef = append(d.skillRef, ref{s, v, f})
			}
		case "calendar":
			w.Calendar = d.calRef(v, f)
		case "setup":
			w.Setup = d.setup(v, f)
		case "batch":
			w.Batch = d.batch(v, f)
		case "unit_defaults":
			defaults = v
		case "units":
			units = v
		}
	})
	if node == nil {
		return
	}
	w.Node, node.WorkCenter, w.Index = node, w, len(d.p.WorkCenters)
	d.p.WorkCenters = append(d.p.WorkCenters, w)
	if node.ID != "" {
		d.wcByID[node.ID] = w
	}
	var def Unit
	if defaults != nil {
		d.fields(defaults, "unit_defaults", join(field, "unit_defaults"), func(key string, v *yaml.Node) {
			d.unitField(&def, key, v, join(field, "unit_defaults."+key))
		})
	}
	if units == nil {
		d.errorf(n, join(field, "units"), "want the work centre's units (units: [{id: W1}, {id: W2}])")
		return
	}
	list := d.list(units, join(field, "units"))
	if len(list) == 0 && deref(units).Kind == yaml.SequenceNode {
		d.errorf(units, join(field, "units"), "want at least one unit")
	}
	for i, un := range list {
		uf := "units." + idOf(un, i)
		u := &Unit{Power: def.Power, Failures: append([]Failure(nil), def.Failures...), Maintenance: append([]Maintenance(nil), def.Maintenance...), Nameplate: def.Nameplate}
		unode := d.equipment(un, "unit", uf, UnitLevel, node, func(key string, v *yaml.Node) {
			switch key {
			case "failures":
				u.Failures = nil
			case "maintenance":
				u.Maintenance = nil
			}
			d.unitField(u, key, v, join(uf, key))
		})
		if unode == nil {
			continue
		}
		u.Node, unode.Unit, u.Index, u.WorkCenter = unode, u, len(d.p.Units), w
		w.Units = append(w.Units, u)
		d.p.Units = append(d.p.Units, u)
		if unode.ID != "" {
			d.unitByID[unode.ID] = u
		}
	}
}

func (d *decoder) unitField(u *Unit, key string, v *yaml.Node, f string) {
	switch key {
	case "power":
		d.fields(v, "power", f, func(key string, v *yaml.Node) {
			x := d.power(v, join(f, key))
			switch key {
			case "off":
				u.Power.Off = x
			case "idle":
				u.Power.Idle = x
			case "setup":
				u.Power.Setup = x
			case "busy":
				u.Power.Busy = x
			case "down":
				u.Power.Down = x
			}
		})
	case "failures":
		for i, fn := range d.list(v, f) {
			ff := join(f, idOf(fn, i))
			fl := Failure{Name: "failure" + strconv.Itoa(i+1)}
			var tbf, ttr bool
			d.fields(fn, "failure", ff, func(key string, v *yaml.Node) {
				g := join(ff, key)
				switch key {
				case "name":
					fl.Name = d.str(v, g)
				case "tbf":
					fl.TBF, tbf = d.dist(v, g, durations), true
				case "basis":
					fl.Basis = d.basis(v, g)
				case "ttr":
					fl.TTR, ttr = d.dist(v, g, durations), true
				case "skill":
					fl.Skill = d.str(v, g)
					d.skillRef = append(d.skillRef, ref{fl.Skill, v, g})
				}
			})
			if !tbf || !ttr {
				d.errorf(fn, ff, "want tbf (time between failures) and ttr (time to repair)")
			}
			if fl.TBF != nil && !(fl.TBF.Mean() > 0) {
				d.errorf(fn, ff+".tbf", "want a positive mean time between failures")
			}
			u.Failures = append(u.Failures, fl)
		}
	case "maintenance":
		for i, mn := range d.list(v, f) {
			mf := join(f, idOf(mn, i))
			m := Maintenance{Name: "maintenance" + strconv.Itoa(i+1)}
			d.fields(mn, "maintenance", mf, func(key string, v *yaml.Node) {
				g := join(mf, key)
				switch key {
				case "name":
					m.Name = d.str(v, g)
				case "every":
					m.Every = d.simDuration(v, g)
					if m.Every <= 0 {
						d.errorf(v, g, "want a positive interval")
					}
				case "basis":
					m.Basis = d.basis(v, g)
				case "duration":
					m.Duration = d.dist(v, g, durations)
				case "skill":
					m.Skill = d.str(v, g)
					d.skillRef = append(d.skillRef, ref{m.Skill, v, g})
				}
			})
			if m.Every <= 0 || m.Duration == nil {
				d.errorf(mn, mf, "want every (the interval) and duration")
			}
			u.Maintenance = append(u.Maintenance, m)
		}
	case "nameplate":
		d.fields(v, "nameplate", f, func(key string, v *yaml.Node) {
			switch key {
			case "manufacturer":
				u.Nameplate.Manufacturer = d.str(v, join(f, key))
			case "model":
				u.Nameplate.Model = d.str(v, join(f, key))
			case "serial":
				u.Nameplate.SerialNumber = d.str(v, join(f, key))
			case "year":
				u.Nameplate.YearOfConstruction = d.integer(v, join(f, key), 1900, 2200)
			}
		})
	}
}

func (d *decoder) simDuration(n *yaml.Node, field string) sim.Time {
	return sim.Time(d.duration(n, field))
}

func (d *decoder) basis(n *yaml.Node, field string) Basis {
	s, _ := d.scalar(n, field, "operating or calendar")
	switch s {
	case "operating":
		return OperatingTime
	case "calendar":
		return CalendarTime
	case "":
		return OperatingTime
	}
	d.errorf(n, field, "want operating (busy time) or calendar (wall time), got %q", s)
	return OperatingTime
}

func (d *decoder) family(n *yaml.Node, field string) string {
	s, ok := d.scalar(n, field, "a product family")
	if !ok {
		return ""
	}
	if !d.families[s] {
		d.errorf(n, field, "no product family %q (%s)", s, known(d.families))
	}
	return s
}

func (d *decoder) setup(n *yaml.Node, field string) *SetupMatrix {
	m := &SetupMatrix{Times: map[[2]string]sim.Dist{}}
	d.fields(n, "setup", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "first":
			m.First = d.dist(v, f, durations)
		case "default":
			m.Default = d.dist(v, f, durations)
		case "changes":
			for i, cn := range d.list(v, f) {
				cf := fmt.Sprintf("%s[%d]", f, i)
				var from, to string
				var t sim.Dist
				d.fields(cn, "change", cf, func(key string, v *yaml.Node) {
					switch key {
					case "from":
						from = d.family(v, cf+".from")
					case "to":
						to = d.family(v, cf+".to")
					case "time":
						t = d.dist(v, cf+".time", durations)
					}
				})
				if from == "" || to == "" || t == nil {
					d.errorf(cn, cf, "want from, to (families) and time")
					continue
				}
				m.Times[[2]string{from, to}] = t
			}
		}
	})
	return m
}

func (d *decoder) batch(n *yaml.Node, field string) *Batch {
	b := &Batch{Min: 1}
	d.fields(n, "batch", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "max":
			b.Max = d.integer(v, f, 1, 1<<20)
		case "min":
			b.Min = d.integer(v, f, 1, 1<<20)
		case "max_wait":
			b.MaxWait = d.simDuration(v, f)
		case "same_family":
			b.SameFamily = d.boolean(v, f)
		}
	})
	if b.Max == 0 {
		d.errorf(n, field+".max", "want the most parts per cycle (max)")
	} else if b.Min > b.Max {
		d.errorf(n, field+".min", "min %d is more than max %d", b.Min, b.Max)
	}
	return b
}

func (d *decoder) calendar(n *yaml.Node, field string) {
	c := &Calendar{}
	var idNode *yaml.Node
	d.fields(n, "calendar", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "id":
			idNode = v
			c.ID = d.id(v, f)
		case "always":
			c.Always = d.boolean(v, f)
		case "shifts":
			for i, sn := range d.list(v, f) {
				c.Shifts = append(c.Shifts, d.shift(sn, join(f, idOf(sn, i))))
			}
		case "holidays":
			hs, nodes := d.strs(v, f)
			for i, h := range hs {
				a, b, isRange := strings.Cut(h, "..")
				from, err := parseDate(a)
				if err != nil {
					d.errorf(nodes[i], f, "%v (or a range like 2026-10-01..2026-10-07)", err)
					continue
				}
				to := from
				if isRange {
					if to, err = parseDate(b); err != nil {
						d.errorf(nodes[i], f, "%v", err)
						continue
					}
				}
				t0 := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, time.UTC)
				t1 := time.Date(to.Year, to.Month, to.Day, 0, 0, 0, 0, time.UTC)
				if t1.Before(t0) || t1.Sub(t0) > 366*24*time.Hour {
					d.errorf(nodes[i], f, "holiday range %q runs backwards or over a year", h)
					continue
				}
				for t := t0; !t.After(t1); t = t.AddDate(0, 0, 1) {
					c.Holidays = append(c.Holidays, Date{t.Year(), t.Month(), t.Day()})
				}
			}
		}
	})
	if idNode == nil {
		d.errorf(n, field+".id", "want an id")
		return
	}
	if !c.Always && len(c.Shifts) == 0 {
		d.errorf(n, field, "want shifts, or always: true")
	}
	if d.calByID[c.ID] != nil {
		d.errorf(idNode, field+".id", "calendar %q defined twice", c.ID)
	}
	d.calByID[c.ID] = c
	d.p.Calendars = append(d.p.Calendars, c)
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	idx := func(x string) int {
		x = strings.ToLower(strings.TrimSpace(x))
		if len(x) >= 3 {
			x = x[:3]
		}
		for i, n := range dayNames {
			if n == x {
				return i
			}
		}
		return -1
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		i := idx(a)
		if i < 0 {
			return days, fmt.Errorf("want days like mon-fri or mon,wed,fri, got %q", s)
		}
		j := i
		if isRange {
			if j = idx(b); j < 0 {
				return days, fmt.Errorf("want days like mon-fri or mon,wed,fri, got %q", s)
			}
		}
		for k := i; ; k = (k + 1) % 7 {
			days[k] = true
			if k == j {
				break
			}
		}
	}
	return days, nil
}

func (d *decoder) shift(n *yaml.Node, field string) Shift {
	s := Shift{}
	for i := time.Monday; i <= time.Friday; i++ {
		s.Days[i] = true
	}
	var start, end bool
	d.fields(n, "shift", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "name":
			s.Name = d.str(v, f)
		case "days":
			if str, ok := d.scalar(v, f, "days like mon-fri"); ok {
				days, err := parseDays(str)
				if err != nil {
					d.errorf(v, f, "%v", err)
				}
				s.Days = days
			}
		case "start", "end":
			if str, ok := d.scalar(v, f, "a time of day like 08:00"); ok {
				t, err := ParseTimeOfDay(str)
				if err != nil {
					d.errorf(v, f, "%v", err)
				}
				if key == "start" {
					s.Start, start = t, true
				} else {
					s.End, end = t, true
				}
			}
		case "breaks":
			bs, nodes := d.strs(v, f)
			for i, b := range bs {
				sp, err := parseSpan(b)
				if err != nil {
					d.errorf(nodes[i], f, "%v", err)
					continue
				}
				s.Breaks = append(s.Breaks, sp)
			}
		}
	})
	if !start || !end {
		d.errorf(n, field, "want start and end times of day")
	}
	if s.Start == 24*time.Hour {
		d.errorf(n, field+".start", "a shift cannot start at 24:00; write 00:00")
	}
	if s.End == s.Start && start && end {
		d.errorf(n, field+".end", "the shift ends when it starts")
	}
	return s
}

func (d *decoder) pool(n *yaml.Node, field string) {
	pl := &Pool{PerShift: map[string]int{}}
	d.fields(n, "pool", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "id":
			pl.ID = d.id(v, f)
		case "skill":
			pl.Skill = d.str(v, f)
		case "count":
			pl.Count = d.integer(v, f, 0, 1<<20)
		case "per_shift":
			dv := deref(v)
			if dv == nil || dv.Kind != yaml.MappingNode {
				d.errorf(v, f, "want a mapping of shift names to worker counts, got %s", kindName(v))
				return
			}
			for _, kv := range pairs(dv) {
				pl.PerShift[deref(kv[0]).Value] = d.integer(kv[1], join(f, deref(kv[0]).Value), 0, 1<<20)
			}
		case "calendar":
			pl.Calendar = d.calRef(v, f)
		}
	})
	if pl.ID == "" {
		d.errorf(n, field+".id", "want an id")
	}
	if pl.Skill == "" {
		pl.Skill = pl.ID
	}
	if d.skills[pl.Skill] {
		d.errorf(n, field+".skill", "two pools have skill %q; one pool per skill", pl.Skill)
	}
	d.skills[pl.Skill] = true
	d.p.Pools = append(d.p.Pools, pl)
}

// times reads a processing time: one distribution for every family, or a
// mapping of families (and "default") to distributions.
func (d *decoder) times(n *yaml.Node, field string) Times {
	dn := deref(n)
	if dn != nil && dn.Kind == yaml.MappingNode {
		t := Times{ByFamily: map[string]sim.Dist{}}
		for _, kv := range pairs(dn) {
			k := deref(kv[0])
			f := join(field, k.Value)
			if k.Value == "default" {
				t.Default = d.dist(kv[1], f, durations)
				continue
			}
			if d.families[k.Value] {
				t.ByFamily[k.Value] = d.dist(kv[1], f, durations)
				continue
			}
			// products are read after routings: resolved in productTimes
			if t.ByProduct == nil {
				t.ByProduct = map[string]sim.Dist{}
			}
			t.ByProduct[k.Value] = d.dist(kv[1], f, durations)
			d.timeRefs = append(d.timeRefs, ref{k.Value, k, f})
		}
		return t
	}
	return Times{Default: d.dist(n, field, durations)}
}

func (d *decoder) wcRef(n *yaml.Node, field string) *WorkCenter {
	id, ok := d.scalar(n, field, "a work centre id")
	if !ok {
		return nil
	}
	w := d.wcByID[id]
	if w == nil {
		d.errorf(n, field, "no work centre %q (%s)", id, known(d.wcByID))
	}
	return w
}

func (d *decoder) alternative(n *yaml.Node, field string) (Alternative, *yaml.Node) {
	var a Alternative
	var at bool
	var tm *yaml.Node
	d.fields(n, "alternative", field, func(key string, v *yaml.Node) {
		switch key {
		case "at":
			a.WorkCenter, at = d.wcRef(v, field+".at"), true
		case "time":
			a.Time, tm = d.times(v, field+".time"), v
		}
	})
	if !at || tm == nil {
		d.errorf(n, field, "want at (a work centre) and time")
	}
	return a, tm
}

// timeSite is where an operation's time was written, for the check that
// every product that passes there has a time.
type timeSite struct {
	op    *Operation
	alt   int // index in Alternatives; -1: the rework
	node  *yaml.Node
	field string
}

// checkTimes reports operations without a time for a product that passes
// through them.
func (d *decoder) checkTimes() {
	for _, pr := range d.p.Products {
		routings := map[*Routing]bool{}
		if pr.Routing != nil {
			routings[pr.Routing] = true
		}
		for _, c := range pr.BOM {
			if c.Part != nil && c.Part.Routing != nil {
				routings[c.Part.Routing] = true
			}
		}
		for _, ts := range d.timeSites {
			if !routings[ts.op.Routing] {
				continue
			}
			var t Times
			switch {
			case ts.alt >= 0 && ts.alt < len(ts.op.Alternatives):
				t = ts.op.Alternatives[ts.alt].Time
			case ts.alt < 0 && ts.op.Inspect != nil && ts.op.Inspect.Rework != nil:
				t = ts.op.Inspect.Rework.Time
			default:
				continue
			}
			if t.ForProduct(pr.ID, pr.Family) == nil && (len(t.ByFamily) > 0 || len(t.ByProduct) > 0) {
				d.errorf(ts.node, ts.field, "no time for product %s (family %s); give one, or a default", pr.ID, pr.Family)
			}
		}
	}
}

type pendingConsume struct {
	op    *Operation
	node  *yaml.Node
	field string
}

func (d *decoder) routing(n *yaml.Node, field string) {
	r := &Routing{}
	var idNode *yaml.Node
	d.fields(n, "routing", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "id":
			idNode = v
			r.ID = d.id(v, f)
		case "operations":
			for i, on := range d.list(v, f) {
				if op := d.operation(on, join(f, idOf(on, i)), r); op != nil {
					op.Index = len(r.Ops)
					r.Ops = append(r.Ops, op)
				}
			}
		}
	})
	if idNode == nil {
		d.errorf(n, field+".id", "want an id")
		return
	}
	if len(r.Ops) == 0 {
		d.errorf(n, field+".operations", "want at least one operation")
	}
	if d.routByID[r.ID] != nil {
		d.errorf(idNode, field+".id", "routing %q defined twice", r.ID)
	}
	d.routByID[r.ID] = r
	d.p.Routings = append(d.p.Routings, r)
}

func (d *decoder) operation(n *yaml.Node, field string, r *Routing) *Operation {
	op := &Operation{Routing: r}
	var atNode, timeNode, altNode *yaml.Node
	ok := d.fields(n, "operation", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "id":
			op.ID = d.id(v, f)
		case "name":
			op.Name = d.str(v, f)
		case "at":
			atNode = v
		case "time":
			timeNode = v
		case "alternatives":
			altNode = v
			for i, an := range d.list(v, f) {
				af := fmt.Sprintf("%s[%d]", f, i)
				a, tn := d.alternative(an, af)
				if tn != nil {
					d.timeSites = append(d.timeSites, timeSite{op, len(op.Alternatives), tn, af + ".time"})
				}
				op.Alternatives = append(op.Alternatives, a)
			}
		case "consumes":
			d.pending = append(d.pending, pendingConsume{op, v, f})
		case "inspect":
			op.Inspect = d.inspect(v, f)
		}
	})
	for _, ts := range d.pendingRework {
		ts.op = op
		d.timeSites = append(d.timeSites, ts)
	}
	d.pendingRework = nil
	if !ok {
		return nil
	}
	switch {
	case altNode != nil && (atNode != nil || timeNode != nil):
		d.errorf(altNode, field+".alternatives", "give either at and time, or alternatives, not both")
	case altNode == nil:
		if atNode == nil || timeNode == nil {
			d.errorf(n, field, "want at (a work centre) and time, or alternatives")
			break
		}
		op.Alternatives = []Alternative{{WorkCenter: d.wcRef(atNode, field+".at"), Time: d.times(timeNode, field+".time")}}
		d.timeSites = append(d.timeSites, timeSite{op, 0, timeNode, field + ".time"})
	}
	if op.ID == "" {
		op.ID = "op" + strconv.Itoa(len(r.Ops)+1)
	}
	if op.Name == "" {
		op.Name = op.ID
	}
	return op
}

func (d *decoder) inspect(n *yaml.Node, field string) *Inspection {
	in := &Inspection{Yield: 1}
	var yieldNode *yaml.Node
	before := len(d.errs)
	d.fields(n, "inspect", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "yield":
			yieldNode = v
			in.Yield = d.fraction(v, f)
		case "scrap":
			in.Scrap = d.fraction(v, f)
		case "rework":
			var a Alternative
			var at, tm bool
			d.fields(v, "rework", f, func(key string, v *yaml.Node) {
				switch key {
				case "at":
					a.WorkCenter, at = d.wcRef(v, f+".at"), true
				case "time":
					a.Time, tm = d.times(v, f+".time"), true
					d.pendingRework = append(d.pendingRework, timeSite{nil, -1, v, f + ".time"})
				}
			})
			if !at || !tm {
				d.errorf(v, f, "want at (the rework station) and time")
			}
			in.Rework = &a
		case "characteristics":
			for i, cn := range d.list(v, f) {
				cf := join(f, idOf(cn, i))
				var c Characteristic
				d.fields(cn, "characteristic", cf, func(key string, v *yaml.Node) {
					switch key {
					case "name":
						c.Name = d.str(v, cf+".name")
					case "unit":
						c.Unit = d.str(v, cf+".unit")
					case "nominal":
						c.Nominal = d.number(v, cf+".nominal")
					case "lsl":
						c.LSL = d.number(v, cf+".lsl")
					case "usl":
						c.USL = d.number(v, cf+".usl")
					}
				})
				if c.LSL > c.USL {
					d.errorf(cn, cf, "lsl %g is above usl %g", c.LSL, c.USL)
				}
				in.Characteristics = append(in.Characteristics, c)
			}
		}
	})
	if in.Yield == 0 && len(d.errs) == before {
		d.errorf(yieldNode, field+".yield", "a yield of 0 passes nothing; want a yield above 0")
	}
	return in
}

func (d *decoder) components(n *yaml.Node, field string) []Component {
	var out []Component
	for i, cn := range d.list(n, field) {
		cf := fmt.Sprintf("%s[%d]", field, i)
		c := Component{Qty: 1}
		var partNode *yaml.Node
		d.fields(cn, "component", cf, func(key string, v *yaml.Node) {
			switch key {
			case "part":
				partNode = v
				if id, ok := d.scalar(v, cf+".part", "a part id"); ok {
					c.Part = d.partByID[id]
					if c.Part == nil {
						d.errorf(v, cf+".part", "no part %q (%s)", id, known(d.partByID))
					}
				}
			case "qty":
				c.Qty = d.integer(v, cf+".qty", 1, 1<<20)
			}
		})
		if partNode == nil {
			d.errorf(cn, cf, "want part (and qty)")
		}
		if c.Part != nil {
			out = append(out, c)
		}
	}
	return out
}

func (d *decoder) consumes() {
	for _, pc := range d.pending {
		pc.op.Consumes = d.components(pc.node, pc.field)
	}
	d.pending = nil
}

func (d *decoder) part(n *yaml.Node, field string) {
	pt := &Part{Index: len(d.p.Parts)}
	var idNode, routNode *yaml.Node
	d.fields(n, "part", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "id":
			idNode = v
			pt.ID = d.id(v, f)
		case "name":
			pt.Name = d.str(v, f)
		case "purchased":
			pt.Purchased = d.boolean(v, f)
		case "routing":
			routNode = v
			if id, ok := d.scalar(v, f, "a routing id"); ok {
				if pt.Routing = d.routByID[id]; pt.Routing == nil {
					d.errorf(v, f, "no routing %q (%s)", id, known(d.routByID))
				}
			}
		case "cost":
			if s, ok := d.scalar(v, f, "an amount like 180 "+d.p.Currency); ok {
				c, err := parseMoney(s, d.p.Currency)
				if err != nil {
					d.errorf(v, f, "%v", err)
				}
				pt.Cost = c
			}
		}
	})
	if idNode == nil {
		d.errorf(n, field+".id", "want an id")
		return
	}
	if pt.Purchased && routNode != nil {
		d.errorf(routNode, field+".routing", "a purchased part has no routing")
	}
	if !pt.Purchased && routNode == nil {
		d.errorf(n, field, "want a routing, or purchased: true")
	}
	if pt.Name == "" {
		pt.Name = pt.ID
	}
	if d.partByID[pt.ID] != nil {
		d.errorf(idNode, field+".id", "part %q defined twice", pt.ID)
	}
	d.partByID[pt.ID] = pt
	d.p.Parts = append(d.p.Parts, pt)
}

func (d *decoder) product(n *yaml.Node, field string) {
	pr := &Product{Index: len(d.p.Products)}
	var idNode, famNode, routNode *yaml.Node
	d.fields(n, "product", field, func(key string, v *yaml.Node) {
		f := join(field, key)
		switch key {
		case "id":
			idNode = v
			pr.ID = d.id(v, f)
		case "name":
			pr.Name = d.str(v, f)
		case "family":
			famNode = v
			pr.Family = d.family(v, f)
		case "bom":
			pr.BOM = d.components(v, f)
		case "routing":
			routNode = v
			if id, ok := d.scalar(v, f, "a routing id"); ok {
				if pr.Routing = d.routByID[id]; pr.Routing == nil {
					d.errorf(v, f, "no routing %q (%s)", id, known(d.routByID))
				}
			}
		}
	})
	if idNode == nil {
		d.errorf(n, field+".id", "want an id")
		return
	}
	if famNode == nil {
		if len(d.p.Families) > 0 {
			d.errorf(n, field+".family", "want the product's family (%s)", strings.Join(d.p.Families, ", "))
		} else {
			pr.Family = "default"
		}
	}
	if routNode == nil && len(pr.BOM) == 0 {
		d.errorf(n, field, "want a routing or a bom")
	}
	if pr.Name == "" {
		pr.Name = pr.ID
	}
	if d.prodByID[pr.ID] != nil {
		d.errorf(idNode, field+".id", "product %q defined twice", pr.ID)
	}
	d.prodByID[pr.ID] = pr
	d.p.Products = append(d.p.Products, pr)
}

func (d *decoder) energy(n *yaml.Node) {
	e := &d.p.Energy
	d.fields(n, "energy", "energy", func(key string, v *yaml.Node) {
		switch key {
		case "tariff":
			d.fields(v, "tariff", "energy.tariff", func(key string, v *yaml.Node) {
				for i, pn := range d.list(v, "energy.tariff.periods") {
					pf := "energy.tariff.periods." + idOf(pn, i)
					tp := TariffPeriod{}
					var price bool
					d.fields(pn, "period", pf, func(key string, v *yaml.Node) {
						f := join(pf, key)
						switch key {
						case "name":
							tp.Name = d.str(v, f)
						case "price":
							if s, ok := d.scalar(v, f, "a price like 0.65 "+d.p.Currency+"/kWh"); ok {
								x, err := parsePrice(s, d.p.Currency)
								if err != nil {
									d.errorf(v, f, "%v", err)
								}
								tp.Price, price = x, true
							}
						case "months":
							ms, nodes := d.strs(v, f)
							for i, m := range ms {
								k, err := strconv.Atoi(m)
								if err != nil || k < 1 || k > 12 {
									d.errorf(nodes[i], f, "want months as numbers 1–12, got %q", m)
									continue
								}
								tp.Months[k] = true
							}
						case "hours":
							hs, nodes := d.strs(v, f)
							for i, h := range hs {
								sp, err := parseSpan(h)
								if err != nil {
									d.errorf(nodes[i], f, "%v", err)
									continue
								}
								tp.Hours = append(tp.Hours, sp)
							}
						}
					})
					if tp.Name == "" || !price {
						d.errorf(pn, pf, "want name and price")
					}
					e.Tariff.Periods = append(e.Tariff.Periods, tp)
				}
			})
		case "emission":
			d.fields(v, "emission", "energy.emission", func(key string, v *yaml.Node) {
				f := "energy.emission." + key
				switch key {
				case "factor":
					if s, ok := d.scalar(v, f, "an emission factor like 0.5366 kg/kWh"); ok {
						x, err := parseEmission(s)
						if err != nil {
							d.errorf(v, f, "%v", err)
						}
						e.Emission.Factor = x
					}
				case "year":
					e.Emission.Year = d.integer(v, f, 1990, 2200)
				case "source":
					e.Emission.Source = d.str(v, f)
				case "basis":
					e.Emission.Basis = d.str(v, f)
					if e.Emission.Basis != "location" && e.Emission.Basis != "market" {
						d.errorf(v, f, "want location or market (GHG Protocol scope 2), got %q", e.Emission.Basis)
					}
				}
			})
		}
	})
	if e.Emission.Basis == "" {
		e.Emission.Basis = "location"
	}
}

func (d *decoder) prodRef(n *yaml.Node, field string) *Product {
	id, ok := d.scalar(n, field, "a product id")
	if !ok {
		return nil
	}
	pr := d.prodByID[id]
	if pr == nil {
		d.errorf(n, field, "no product %q (%s)", id, known(d.prodByID))
	}
	return pr
}

func (d *decoder) priority(n *yaml.Node, field string) int {
	s, ok := d.scalar(n, field, "a priority")
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
	d.errorf(n, field, "no priority %q (demand.priorities: %s)", s, strings.Join(d.p.Demand.Priorities, ", "))
	return 0
}

func (d *decoder) demand(n *yaml.Node) {
	dm := &d.p.Demand
	sec := map[string]*yaml.Node{}
	d.fields(n, "demand", "demand", func(key string, v *yaml.Node) { sec[key] = v })
	if v := sec["priorities"]; v != nil {
		dm.Priorities, _ = d.strs(v, "demand.priorities")
	}
	if v := sec["orders"]; v != nil {
		for i, on := range d.list(v, "demand.orders") {
			d.order(on, "demand.orders."+idOf(on, i))
		}
	}
	if v := sec["orders_file"]; v != nil {
		if f := d.str(v, "demand.orders_file"); f != "" {
			path := f
			if !filepath.IsAbs(f) {
				path = filepath.Join(filepath.Dir(d.file), f)
			}
			if err := d.ordersFile(path); err != nil {
				d.errorf(v, "demand.orders_file", "%v", err)
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
		f := join(field, key)
		switch key {
		case "id":
			o.ID = d.id(v, f)
		case "customer":
			o.Customer = d.str(v, f)
		case "product":
			o.Product = d.prodRef(v, f)
		case "quantity":
			o.Quantity = d.integer(v, f, 1, 1<<30)
		case "release", "due":
			if s, ok := d.scalar(v, f, "a date and time"); ok {
				t, err := parseTime(s, d.p.Location)
				if err != nil {
					d.errorf(v, f, "%v", err)
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
		d.errorf(n, field, "want id, product and due (and quantity, release, customer, priority)")
		return
	}
	if !rel {
		o.Release = d.p.Start
	}
	if o.Due.Before(o.Release) {
		d.errorf(n, field+".due", "due before release")
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
	fail := func(line, c int, field, format string, args ...any) {
		d.errs = append(d.errs, &FieldError{File: path, Line: line, Column: c, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				fail(pe.Line, pe.Column, "", "%v", pe.Err)
				if len(d.errs) > 100 {
					return nil
				}
				continue
			}
			return err
		}
		get := func(name string) (string, int) {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return "", 1
			}
			_, c := r.FieldPos(i)
			return strings.TrimSpace(rec[i]), c
		}
		o := Order{Release: d.p.Start}
		v, c := get("id")
		if o.ID = v; v == "" {
			fail(line, c, "id", "want an order id")
		}
		v, c = get("product")
		if o.Product = d.prodByID[v]; o.Product == nil {
			fail(line, c, "product", "no product %q (%s)", v, known(d.prodByID))
		}
		v, c = get("quantity")
		q, err := strconv.Atoi(v)
		if err != nil || q < 1 {
			fail(line, c, "quantity", "want a quantity of at least 1, got %q", v)
		}
		o.Quantity = q
		for _, k := range []string{"release", "due"} {
			v, c = get(k)
			if v == "" && k == "release" {
				continue
			}
			t, err := parseTime(v, d.p.Location)
			if err != nil {
				fail(line, c, k, "%v", err)
				continue
			}
			if k == "due" {
				o.Due = t
			} else {
				o.Release = t
			}
		}
		o.Customer, _ = get("customer")
		if v, c = get("priority"); v != "" {
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
				fail(line, c, "priority", "no priority %q (demand.priorities: %s)", v, strings.Join(d.p.Demand.Priorities, ", "))
			}
		}
		d.p.Demand.Orders = append(d.p.Demand.Orders, o)
	}
	return nil
}

func (d *decoder) generator(n *yaml.Node) {
	g := &Generator{}
	f0 := "demand.generator"
	d.fields(n, "generator", f0, func(key string, v *yaml.Node) {
		f := join(f0, key)
		switch key {
		case "interarrival":
			g.Interarrival = d.dist(v, f, durations)
		case "due_in":
			g.DueIn = d.dist(v, f, durations)
		case "quantity":
			g.Quantity = d.dist(v, f, numbers)
		case "mix":
			dv := deref(v)
			if dv == nil || dv.Kind != yaml.MappingNode {
				d.errorf(v, f, "want a mapping of products to weights (mix: {M-small: 3, M-large: 1}), got %s", kindName(v))
				return
			}
			for _, kv := range pairs(dv) {
				k := deref(kv[0])
				pr := d.prodRef(k, join(f, k.Value))
				w := d.number(kv[1], join(f, k.Value))
				if w < 0 {
					d.errorf(kv[1], join(f, k.Value), "want a weight that is not negative")
				}
				if pr != nil {
					g.Mix = append(g.Mix, Share{Product: pr, Weight: w})
				}
			}
		case "priority":
			dv := deref(v)
			if dv == nil || dv.Kind != yaml.MappingNode {
				d.errorf(v, f, "want a mapping of priorities to weights (priority: {normal: 0.8, urgent: 0.2}), got %s", kindName(v))
				return
			}
			g.Priority = make([]float64, max(len(d.p.Demand.Priorities), 1))
			for _, kv := range pairs(dv) {
				k := deref(kv[0])
				i := d.priority(k, join(f, k.Value))
				if i < len(g.Priority) {
					g.Priority[i] = d.number(kv[1], join(f, k.Value))
				}
			}
		case "customers":
			g.Customers, _ = d.strs(v, f)
		case "until":
			if s, ok := d.scalar(v, f, "a date and time"); ok {
				t, err := parseTime(s, d.p.Location)
				if err != nil {
					d.errorf(v, f, "%v", err)
				}
				g.Until = t
			}
		}
	})
	if g.Interarrival == nil || len(g.Mix) == 0 || g.DueIn == nil {
		d.errorf(n, f0, "want interarrival, mix and due_in (and quantity, priority, customers, until)")
		return
	}
	total := 0.0
	for _, s := range g.Mix {
		total += s.Weight
	}
	if total <= 0 {
		d.errorf(n, f0+".mix", "the mix weights add up to 0")
		return
	}
	d.p.Demand.Generator = g
}

var signals = []Signal{SignalState, SignalGood, SignalReject, SignalPower, SignalEnergy, SignalOrder}

// nodeSignalNames are the OPC UA variable names of the signals (the
// virtual plant's address space uses the same).
var nodeSignalNames = map[Signal]string{
	SignalState: "State", SignalGood: "GoodCount", SignalReject: "RejectCount",
	SignalPower: "PowerKW", SignalEnergy: "EnergyKWh", SignalOrder: "CurrentOrder",
}

// OPCUANodeName is the variable name of sig in the virtual plant's OPC UA
// address space and in an auto tag map ("ns=2;s=W1.State").
func OPCUANodeName(sig Signal) string { return nodeSignalNames[sig] }

// Signals lists the signals the twin understands.
func Signals() []Signal { return append([]Signal(nil), signals...) }

func (d *decoder) signal(n *yaml.Node, field string) Signal {
	s, ok := d.scalar(n, field, "a signal")
	if !ok {
		return ""
	}
	for _, x := range signals {
		if string(x) == s {
			return x
		}
	}
	names := make([]string, len(signals))
	for i, x := range signals {
		names[i] = string(x)
	}
	d.errorf(n, field, "want a signal (%s), got %q", strings.Join(names, ", "), s)
	return ""
}

// asset resolves a unit id or an equipment path to the equipment path.
func (d *decoder) asset(n *yaml.Node, field string) string {
	s, ok := d.scalar(n, field, "a unit id or equipment path")
	if !ok {
		return ""
	}
	if u := d.unitByID[s]; u != nil {
		return u.Path()
	}
	for _, node := range d.p.Nodes {
		if node.Path == s {
			return s
		}
	}
	d.errorf(n, field, "no unit or equipment %q", s)
	return ""
}

func (d *decoder) valueMap(n *yaml.Node, field string) map[string]string {
	dv := deref(n)
	if dv == nil || dv.Kind != yaml.MappingNode {
		d.errorf(n, field, "want a mapping of raw values to state names, got %s", kindName(n))
		return nil
	}
	m := map[string]string{}
	for _, kv := range pairs(dv) {
		m[deref(kv[0]).Value] = d.str(kv[1], join(field, deref(kv[0]).Value))
	}
	return m
}

func (d *decoder) tags(n *yaml.Node) {
	t := &d.p.Tags
	d.fields(n, "tags", "tags", func(key string, v *yaml.Node) {
		switch key {
		case "opcua":
			for i, sn := range d.list(v, "tags.opcua") {
				sf := fmt.Sprintf("tags.opcua[%d]", i)
				s := OPCUAServer{Policy: "None", Mode: "None"}
				auto := ""
				d.fields(sn, "opcua", sf, func(key string, v *yaml.Node) {
					f := join(sf, key)
					switch key {
					case "endpoint":
						s.Endpoint = d.str(v, f)
						if !strings.HasPrefix(s.Endpoint, "opc.tcp://") {
							d.errorf(v, f, "want an endpoint like opc.tcp://host:4840, got %q", s.Endpoint)
						}
					case "policy":
						s.Policy = d.str(v, f)
						if s.Policy != "None" && s.Policy != "Basic256Sha256" {
							d.errorf(v, f, "want None or Basic256Sha256, got %q", s.Policy)
						}
					case "mode":
						s.Mode = d.str(v, f)
						if s.Mode != "None" && s.Mode != "Sign" && s.Mode != "SignAndEncrypt" {
							d.errorf(v, f, "want None, Sign or SignAndEncrypt, got %q", s.Mode)
						}
					case "user":
						s.User = d.str(v, f)
					case "password":
						s.Password = d.str(v, f)
					case "cert":
						s.Cert = d.str(v, f)
					case "key":
						s.Key = d.str(v, f)
					case "interval":
						s.Interval = d.duration(v, f)
					case "auto":
						auto = d.str(v, f)
						if !strings.Contains(auto, "{unit}") || !strings.Contains(auto, "{signal}") {
							d.errorf(v, f, "want a node id pattern with {unit} and {signal}, like \"ns=2;s={unit}.{signal}\", got %q", auto)
							auto = ""
						}
					case "nodes":
						for j, tn := range d.list(v, f) {
							tf := fmt.Sprintf("%s[%d]", f, j)
							var nt NodeTag
							has := map[string]bool{}
							d.fields(tn, "node_tag", tf, func(key string, v *yaml.Node) {
								has[key] = true
								switch key {
								case "node":
									nt.Node = d.str(v, tf+".node")
								case "asset":
									nt.Asset = d.asset(v, tf+".asset")
								case "signal":
									nt.Signal = d.signal(v, tf+".signal")
								case "value_map":
									nt.ValueMap = d.valueMap(v, tf+".value_map")
								}
							})
							if !has["node"] || !has["asset"] || !has["signal"] {
								d.errorf(tn, tf, "want node, asset and signal")
								continue
							}
							if nt.Node == "" || nt.Asset == "" || nt.Signal == "" {
								continue
							}
							s.Nodes = append(s.Nodes, nt)
						}
					}
				})
				if (s.Policy == "None") != (s.Mode == "None") {
					d.errorf(sn, sf+".mode", "policy %s with mode %s: both None, or Basic256Sha256 with Sign or SignAndEncrypt", s.Policy, s.Mode)
				}
				if auto != "" {
					for _, u := range d.p.Units {
						for _, sig := range signals {
							node := strings.ReplaceAll(strings.ReplaceAll(auto, "{unit}", u.ID()), "{signal}", nodeSignalNames[sig])
							s.Nodes = append(s.Nodes, NodeTag{Node: node, Asset: u.Path(), Signal: sig})
						}
					}
				}
				t.OPCUA = append(t.OPCUA, s)
			}
		case "mqtt":
			for i, bn := range d.list(v, "tags.mqtt") {
				bf := fmt.Sprintf("tags.mqtt[%d]", i)
				b := MQTTBroker{}
				auto := ""
				d.fields(bn, "mqtt", bf, func(key string, v *yaml.Node) {
					f := join(bf, key)
					switch key {
					case "url":
						b.URL = d.str(v, f)
						if !strings.Contains(b.URL, "://") {
							d.errorf(v, f, "want a broker URL like tcp://host:1883 or ssl://host:8883, got %q", b.URL)
						}
					case "client_id":
						b.ClientID = d.str(v, f)
					case "user":
						b.User = d.str(v, f)
					case "password":
						b.Password = d.str(v, f)
					case "ca":
						b.CA = d.str(v, f)
					case "auto":
						auto = d.str(v, f)
						if !strings.Contains(auto, "{unit}") || !strings.Contains(auto, "{signal}") {
							d.errorf(v, f, "want a topic pattern with {unit} and {signal}, like \"plant/{area}/{unit}/{signal}\", got %q", auto)
							auto = ""
						}
					case "topics":
						for j, tn := range d.list(v, f) {
							tf := fmt.Sprintf("%s[%d]", f, j)
							var tt TopicTag
							has := map[string]bool{}
							d.fields(tn, "topic", tf, func(key string, v *yaml.Node) {
								has[key] = true
								switch key {
								case "topic":
									tt.Topic = d.str(v, tf+".topic")
									if strings.ContainsAny(tt.Topic, "+#") {
										d.errorf(v, tf+".topic", "want a topic without wildcards, got %q", tt.Topic)
									}
								case "asset":
									tt.Asset = d.asset(v, tf+".asset")
								case "signal":
									tt.Signal = d.signal(v, tf+".signal")
								case "field":
									tt.Field = d.str(v, tf+".field")
								case "value_map":
									tt.ValueMap = d.valueMap(v, tf+".value_map")
								}
							})
							if !has["topic"] || !has["asset"] || !has["signal"] {
								d.errorf(tn, tf, "want topic, asset and signal")
								continue
							}
							if tt.Topic == "" || tt.Asset == "" || tt.Signal == "" {
								continue
							}
							b.Topics = append(b.Topics, tt)
						}
					case "sparkplug":
						sp := &Sparkplug{}
						d.fields(v, "sparkplug", f, func(key string, v *yaml.Node) {
							g := join(f, key)
							switch key {
							case "group":
								sp.Group = d.str(v, g)
							case "host_id":
								sp.HostID = d.str(v, g)
							case "devices":
								for k, dn := range d.list(v, g) {
									df := fmt.Sprintf("%s[%d]", g, k)
									dev := SparkplugDevice{Metrics: map[string]Signal{}}
									d.fields(dn, "device", df, func(key string, v *yaml.Node) {
										switch key {
										case "edge_node":
											dev.EdgeNode = d.str(v, df+".edge_node")
										case "device":
											dev.Device = d.str(v, df+".device")
										case "asset":
											dev.Asset = d.asset(v, df+".asset")
										case "metrics":
											dv := deref(v)
											if dv == nil || dv.Kind != yaml.MappingNode {
												d.errorf(v, df+".metrics", "want a mapping of metric names to signals, got %s", kindName(v))
												return
											}
											for _, kv := range pairs(dv) {
												dev.Metrics[deref(kv[0]).Value] = d.signal(kv[1], df+".metrics."+deref(kv[0]).Value)
											}
										}
									})
									if dev.EdgeNode == "" || dev.Asset == "" {
										d.errorf(dn, df, "want edge_node, asset and metrics (device is optional)")
										continue
									}
									sp.Devices = append(sp.Devices, dev)
								}
							}
						})
						if sp.Group == "" {
							d.errorf(v, f+".group", "want the Sparkplug group id")
						}
						b.Sparkplug = sp
					}
				})
				if auto != "" {
					for _, u := range d.p.Units {
						area, line := "", ""
						for n := u.Node.Parent; n != nil; n = n.Parent {
							switch n.Level {
							case AreaLevel:
								area = n.ID
							case LineLevel:
								line = n.ID
							}
						}
						for _, sig := range signals {
							r := strings.NewReplacer("{area}", area, "{line}", line, "{workcenter}", u.WorkCenter.ID(), "{unit}", u.ID(), "{signal}", string(sig))
							b.Topics = append(b.Topics, TopicTag{Topic: r.Replace(auto), Asset: u.Path(), Signal: sig, Field: "value"})
						}
					}
				}
				t.MQTT = append(t.MQTT, b)
			}
		}
	})
}
