package plant

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"

	"twin/sim"
)

// The equipment tree (ISA-95: site, area, line, work centre, unit) and what
// its work centres and units carry: times, setups, batches, failures.

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
