package plant

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
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
			node.ID = d.id(v, yamldec.Join(field, "id"))
		case "name":
			node.Name = d.Str(v, yamldec.Join(field, "name"))
		case "at":
			node.At = d.point(v, yamldec.Join(field, "at"))
		case "size":
			node.Size = d.point(v, yamldec.Join(field, "size"))
		default:
			rest(key, v)
		}
	})
	if !ok {
		return nil
	}
	if idNode == nil {
		d.Errorf(n, yamldec.Join(field, "id"), "want an id")
	} else if node.ID != "" {
		if prev := d.seen[node.ID]; prev != nil {
			d.Errorf(idNode, yamldec.Join(field, "id"), "id %q is already used at line %d; equipment ids must be unique in the plant", node.ID, prev.Line)
		}
		d.seen[node.ID] = yamldec.Deref(idNode)
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
		d.Errorf(n, "site.areas", "want the site's areas")
		return
	}
	for i, an := range d.List(areas, "site.areas", false) {
		af := "areas." + yamldec.IDOf(an, i)
		var lines *yaml.Node
		area := d.equipment(an, "area", af, AreaLevel, site, func(key string, v *yaml.Node) { lines = v })
		if area == nil {
			continue
		}
		if lines == nil {
			d.Errorf(an, af+".lines", "want the area's lines")
			continue
		}
		for j, ln := range d.List(lines, af+".lines", false) {
			lf := "lines." + yamldec.IDOf(ln, j)
			var wcs *yaml.Node
			var sat *yaml.Node
			line := d.equipment(ln, "line", lf, LineLevel, area, func(key string, v *yaml.Node) {
				if key == "saturate" {
					sat = v
				} else {
					wcs = v
				}
			})
			if line != nil && sat != nil {
				d.saturate = append(d.saturate, saturateRef{line, sat, lf + ".saturate"})
			}
			if line == nil {
				continue
			}
			if wcs == nil {
				d.Errorf(ln, lf+".workcenters", "want the line's work centres")
				continue
			}
			for k, wn := range d.List(wcs, lf+".workcenters", false) {
				d.workcenter(wn, "workcenters."+yamldec.IDOf(wn, k), line)
			}
		}
	}
	if len(d.p.Units) == 0 && len(d.Errs) == 0 {
		d.Errorf(n, "site", "the plant has no units (machines)")
	}
}

func (d *decoder) workcenter(n *yaml.Node, field string, line *Node) {
	w := &WorkCenter{Dispatch: d.defRule, Calendar: d.p.Calendar}
	var units, defaults *yaml.Node
	node := d.equipment(n, "workcenter", field, WorkCenterLevel, line, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "buffer":
			w.Buffer = d.Int(v, f, "a whole number", 0, 1<<30)
		case "buffer_at":
			w.BufferAt = d.point(v, f)
		case "blocking":
			if s, ok := d.Scalar(v, f, "after or before"); ok {
				switch s {
				case "after":
					w.Blocking = AfterService
				case "before":
					w.Blocking = BeforeService
				default:
					d.Errorf(v, f, "want after (a machine upstream makes its part, then waits for a place) or before (it starts a part only when there is a place), got %q", s)
				}
			}
		case "dispatch":
			w.Dispatch = d.rule(v, f)
		case "skill":
			if s := d.Str(v, f); s != "" {
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
		d.fields(defaults, "unit_defaults", yamldec.Join(field, "unit_defaults"), func(key string, v *yaml.Node) {
			d.unitField(&def, key, v, yamldec.Join(field, "unit_defaults."+key))
		})
	}
	if units == nil {
		d.Errorf(n, yamldec.Join(field, "units"), "want the work centre's units (units: [{id: W1}, {id: W2}])")
		return
	}
	list := d.List(units, yamldec.Join(field, "units"), false)
	if len(list) == 0 && yamldec.Deref(units).Kind == yaml.SequenceNode {
		d.Errorf(units, yamldec.Join(field, "units"), "want at least one unit")
	}
	for i, un := range list {
		uf := "units." + yamldec.IDOf(un, i)
		u := &Unit{Power: def.Power, Failures: append([]Failure(nil), def.Failures...), Maintenance: append([]Maintenance(nil), def.Maintenance...), Nameplate: def.Nameplate}
		unode := d.equipment(un, "unit", uf, UnitLevel, node, func(key string, v *yaml.Node) {
			switch key {
			case "failures":
				u.Failures = nil
			case "maintenance":
				u.Maintenance = nil
			}
			d.unitField(u, key, v, yamldec.Join(uf, key))
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
			x := d.power(v, yamldec.Join(f, key))
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
		for i, fn := range d.List(v, f, false) {
			u.Failures = append(u.Failures, d.failure(fn, yamldec.Join(f, yamldec.IDOf(fn, i)), i))
		}
	case "maintenance":
		for i, mn := range d.List(v, f, false) {
			u.Maintenance = append(u.Maintenance, d.maintenance(mn, yamldec.Join(f, yamldec.IDOf(mn, i)), i))
		}
	case "nameplate":
		d.fields(v, "nameplate", f, func(key string, v *yaml.Node) {
			switch key {
			case "manufacturer":
				u.Nameplate.Manufacturer = d.Str(v, yamldec.Join(f, key))
			case "model":
				u.Nameplate.Model = d.Str(v, yamldec.Join(f, key))
			case "serial":
				u.Nameplate.SerialNumber = d.Str(v, yamldec.Join(f, key))
			case "year":
				u.Nameplate.YearOfConstruction = d.Int(v, yamldec.Join(f, key), "a whole number", 1900, 2200)
			}
		})
	}
}

func (d *decoder) simDuration(n *yaml.Node, field string) sim.Time {
	return sim.Time(d.duration(n, field))
}

func (d *decoder) basis(n *yaml.Node, field string) Basis {
	s, _ := d.Scalar(n, field, "operating or calendar")
	switch s {
	case "operating":
		return OperatingTime
	case "calendar":
		return CalendarTime
	case "":
		return OperatingTime
	}
	d.Errorf(n, field, "want operating (busy time) or calendar (wall time), got %q", s)
	return OperatingTime
}

func (d *decoder) family(n *yaml.Node, field string) string {
	s, ok := d.Scalar(n, field, "a product family")
	if !ok {
		return ""
	}
	if !d.families[s] {
		d.Errorf(n, field, "no product family %q (%s)", s, known(d.families))
	}
	return s
}

func (d *decoder) setup(n *yaml.Node, field string) *SetupMatrix {
	m := &SetupMatrix{Times: map[[2]string]sim.Dist{}}
	d.fields(n, "setup", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "first":
			m.First = d.dist(v, f, durations)
		case "default":
			m.Default = d.dist(v, f, durations)
		case "changes":
			for i, cn := range d.List(v, f, false) {
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
					d.Errorf(cn, cf, "want from, to (families) and time")
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
		f := yamldec.Join(field, key)
		switch key {
		case "max":
			b.Max = d.Int(v, f, "a whole number", 1, 1<<20)
		case "min":
			b.Min = d.Int(v, f, "a whole number", 1, 1<<20)
		case "max_wait":
			b.MaxWait = d.simDuration(v, f)
		case "same_family":
			b.SameFamily = d.Boolean(v, f)
		}
	})
	if b.Max == 0 {
		d.Errorf(n, field+".max", "want the most parts per cycle (max)")
	} else if b.Min > b.Max {
		d.Errorf(n, field+".min", "min %d is more than max %d", b.Min, b.Max)
	}
	return b
}

// failure reads failure mode i of a unit.
func (d *decoder) failure(fn *yaml.Node, ff string, i int) Failure {
	fl := Failure{Name: "failure" + strconv.Itoa(i+1)}
	var tbf, ttr bool
	d.fields(fn, "failure", ff, func(key string, v *yaml.Node) {
		g := yamldec.Join(ff, key)
		switch key {
		case "name":
			fl.Name = d.Str(v, g)
		case "tbf":
			fl.TBF, tbf = d.dist(v, g, durations), true
		case "basis":
			fl.Basis = d.basis(v, g)
		case "ttr":
			fl.TTR, ttr = d.dist(v, g, durations), true
		case "skill":
			fl.Skill = d.Str(v, g)
			d.skillRef = append(d.skillRef, ref{fl.Skill, v, g})
		}
	})
	if !tbf || !ttr {
		d.Errorf(fn, ff, "want tbf (time between failures) and ttr (time to repair)")
	}
	if fl.TBF != nil && !(fl.TBF.Mean() > 0) {
		d.Errorf(fn, ff+".tbf", "want a positive mean time between failures")
	}
	return fl
}

// maintenance reads planned maintenance i of a unit.
func (d *decoder) maintenance(mn *yaml.Node, mf string, i int) Maintenance {
	m := Maintenance{Name: "maintenance" + strconv.Itoa(i+1)}
	d.fields(mn, "maintenance", mf, func(key string, v *yaml.Node) {
		g := yamldec.Join(mf, key)
		switch key {
		case "name":
			m.Name = d.Str(v, g)
		case "every":
			m.Every = d.simDuration(v, g)
			if m.Every <= 0 {
				d.Errorf(v, g, "want a positive interval")
			}
		case "basis":
			m.Basis = d.basis(v, g)
		case "duration":
			m.Duration = d.dist(v, g, durations)
		case "skill":
			m.Skill = d.Str(v, g)
			d.skillRef = append(d.skillRef, ref{m.Skill, v, g})
		}
	})
	if m.Every <= 0 || m.Duration == nil {
		d.Errorf(mn, mf, "want every (the interval) and duration")
	}
	return m
}

// saturateRef is a line's saturate key, resolved once products are read.
type saturateRef struct {
	line  *Node
	node  *yaml.Node
	field string
}

// saturated resolves the product each saturated line never runs out of:
// one with a routing that starts on the line and no made parts to wait
// for.
func (d *decoder) saturated() {
	for _, s := range d.saturate {
		id, ok := d.Scalar(s.node, s.field, "a product id")
		if !ok {
			continue
		}
		pr := d.prodByID[id]
		if pr == nil {
			d.Errorf(s.node, s.field, "no product %q (%s)", id, known(d.prodByID))
			continue
		}
		if pr.Routing == nil || len(pr.Routing.Ops) == 0 {
			d.Errorf(s.node, s.field, "product %s has no routing of its own; a saturated line starts a unit of it at its routing's first operation", id)
			continue
		}
		made := false
		for _, c := range pr.BOM {
			made = made || !c.Part.Purchased && c.Part.Routing != nil
		}
		for _, op := range pr.Routing.Ops {
			made = made || len(op.Consumes) > 0
		}
		if made {
			d.Errorf(s.node, s.field, "product %s joins parts made in the plant; a saturated line needs a product made from its routing alone", id)
			continue
		}
		first := pr.Routing.Ops[0]
		if len(first.Alternatives) != 1 || first.Alternatives[0].WorkCenter == nil || first.Alternatives[0].WorkCenter.Node.Parent != s.line {
			d.Errorf(s.node, s.field, "product %s's routing %s does not start on line %s (its first operation, %s, must be done at one work centre of the line)", id, pr.Routing.ID, s.line.ID, first.ID)
			continue
		}
		s.line.Saturate = pr
	}
}
