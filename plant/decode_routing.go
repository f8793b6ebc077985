package plant

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
	"twin/sim"
)

// Processing times, routings and their operations, inspections, parts and
// products (bills of material).

// times reads a processing time: one distribution for every family, or a
// mapping of families (and "default") to distributions.
func (d *decoder) times(n *yaml.Node, field string) Times {
	dn := yamldec.Deref(n)
	if dn != nil && dn.Kind == yaml.MappingNode {
		t := Times{ByFamily: map[string]sim.Dist{}}
		for _, kv := range yamldec.Pairs(dn) {
			k := yamldec.Deref(kv[0])
			f := yamldec.Join(field, k.Value)
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
	id, ok := d.Scalar(n, field, "a work centre id")
	if !ok {
		return nil
	}
	w := d.wcByID[id]
	if w == nil {
		d.Errorf(n, field, "no work centre %q (%s)", id, known(d.wcByID))
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
		d.Errorf(n, field, "want at (a work centre) and time")
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
				d.Errorf(ts.node, ts.field, "no time for product %s (family %s); give one, or a default", pr.ID, pr.Family)
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
		f := yamldec.Join(field, key)
		switch key {
		case "id":
			idNode = v
			r.ID = d.id(v, f)
		case "operations":
			for i, on := range d.List(v, f, false) {
				if op := d.operation(on, yamldec.Join(f, yamldec.IDOf(on, i)), r); op != nil {
					op.Index = len(r.Ops)
					r.Ops = append(r.Ops, op)
				}
			}
		}
	})
	if idNode == nil {
		d.Errorf(n, field+".id", "want an id")
		return
	}
	if len(r.Ops) == 0 {
		d.Errorf(n, field+".operations", "want at least one operation")
	}
	if d.routByID[r.ID] != nil {
		d.Errorf(idNode, field+".id", "routing %q defined twice", r.ID)
	}
	d.routByID[r.ID] = r
	d.p.Routings = append(d.p.Routings, r)
}

func (d *decoder) operation(n *yaml.Node, field string, r *Routing) *Operation {
	op := &Operation{Routing: r}
	var atNode, timeNode, altNode, backTo *yaml.Node
	ok := d.fields(n, "operation", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "id":
			op.ID = d.id(v, f)
		case "name":
			op.Name = d.Str(v, f)
		case "at":
			atNode = v
		case "time":
			timeNode = v
		case "alternatives":
			altNode = v
			for i, an := range d.List(v, f, false) {
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
			op.Inspect, backTo = d.inspect(v, f)
		case "instructions":
			op.Instructions = d.instructions(v, f)
		case "scrap_reasons":
			codes, nodes := d.Strs(v, f)
			op.ScrapReasons = []string{}
			for i, c := range codes {
				d.scrapRefs = append(d.scrapRefs, ref{id: c, node: nodes[i], field: fmt.Sprintf("%s[%d]", f, i)})
				op.ScrapReasons = append(op.ScrapReasons, c)
			}
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
		d.Errorf(altNode, field+".alternatives", "give either at and time, or alternatives, not both")
	case altNode == nil:
		if atNode == nil || timeNode == nil {
			d.Errorf(n, field, "want at (a work centre) and time, or alternatives")
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
	if backTo != nil {
		op.Inspect.BackTo = d.backTo(backTo, field+".inspect.rework.back_to", r, op)
	}
	return op
}

// backTo resolves the operation a failed part loops back to: this one or
// an earlier one of its routing.
func (d *decoder) backTo(n *yaml.Node, field string, r *Routing, op *Operation) *Operation {
	id, ok := d.Scalar(n, field, "an operation id")
	if !ok {
		return nil
	}
	if id == op.ID {
		return op
	}
	ids := make([]string, 0, len(r.Ops)+1)
	for _, o := range r.Ops {
		if o.ID == id {
			return o
		}
		ids = append(ids, o.ID)
	}
	ids = append(ids, op.ID)
	d.Errorf(n, field, "no operation %q at or before %s in routing %s (have %s); a failed part loops back to this operation or an earlier one", id, op.ID, r.ID, strings.Join(ids, ", "))
	return nil
}

// inspect reads an inspection; backTo is the rework's back_to, resolved
// by the operation once its id is known.
func (d *decoder) inspect(n *yaml.Node, field string) (in *Inspection, backTo *yaml.Node) {
	in = &Inspection{Yield: 1}
	var yieldNode, maxNode, pastNode *yaml.Node
	before := len(d.Errs)
	d.fields(n, "inspect", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
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
				case "back_to":
					backTo = v
				}
			})
			switch {
			case backTo != nil && (at || tm):
				d.Errorf(v, f, "give either at and time (a rework station, then this inspection again) or back_to (an operation to do again, and those after it), not both")
			case backTo != nil:
			case !at || !tm:
				d.Errorf(v, f, "want at (the rework station) and time, or back_to (an operation of this routing to loop back to)")
				in.Rework = &a
			default:
				in.Rework = &a
			}
		case "max_rework":
			maxNode = v
			in.MaxRework = d.Int(v, f, "a whole number of reworks", 1, 1000)
		case "past_max":
			pastNode = v
			if s, ok := d.Scalar(v, f, "scrap or concession"); ok {
				switch s {
				case "scrap":
					in.PastMax = Scrapped
				case "concession":
					in.PastMax = Concession
				default:
					d.Errorf(v, f, "want scrap or concession, got %q", s)
				}
			}
		case "characteristics":
			for i, cn := range d.List(v, f, false) {
				cf := yamldec.Join(f, yamldec.IDOf(cn, i))
				var c Characteristic
				d.fields(cn, "characteristic", cf, func(key string, v *yaml.Node) {
					switch key {
					case "name":
						c.Name = d.Str(v, cf+".name")
					case "unit":
						c.Unit = d.Str(v, cf+".unit")
					case "nominal":
						c.Nominal = d.Number(v, cf+".nominal")
					case "lsl":
						c.LSL = d.Number(v, cf+".lsl")
					case "usl":
						c.USL = d.Number(v, cf+".usl")
					}
				})
				if c.LSL > c.USL {
					d.Errorf(cn, cf, "lsl %g is above usl %g", c.LSL, c.USL)
				}
				in.Characteristics = append(in.Characteristics, c)
			}
		}
	})
	if in.Yield == 0 && len(d.Errs) == before {
		d.Errorf(yieldNode, field+".yield", "a yield of 0 passes nothing; want a yield above 0")
	}
	reworks := in.Rework != nil || backTo != nil
	if maxNode != nil && !reworks {
		d.Errorf(maxNode, field+".max_rework", "no rework to limit: give rework (at and time, or back_to), or remove max_rework")
	}
	if pastNode != nil && maxNode == nil {
		d.Errorf(pastNode, field+".past_max", "past_max says what becomes of a part reworked max_rework times: give max_rework too")
	}
	return in, backTo
}

func (d *decoder) components(n *yaml.Node, field string) []Component {
	var out []Component
	for i, cn := range d.List(n, field, false) {
		cf := fmt.Sprintf("%s[%d]", field, i)
		c := Component{Qty: 1}
		var partNode *yaml.Node
		d.fields(cn, "component", cf, func(key string, v *yaml.Node) {
			switch key {
			case "part":
				partNode = v
				if id, ok := d.Scalar(v, cf+".part", "a part id"); ok {
					c.Part = d.partByID[id]
					if c.Part == nil {
						d.Errorf(v, cf+".part", "no part %q (%s)", id, known(d.partByID))
					}
				}
			case "qty":
				c.Qty = d.Int(v, cf+".qty", "a whole number", 1, 1<<20)
			}
		})
		if partNode == nil {
			d.Errorf(cn, cf, "want part (and qty)")
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
		f := yamldec.Join(field, key)
		switch key {
		case "id":
			idNode = v
			pt.ID = d.id(v, f)
		case "name":
			pt.Name = d.Str(v, f)
		case "purchased":
			pt.Purchased = d.Boolean(v, f)
		case "routing":
			routNode = v
			if id, ok := d.Scalar(v, f, "a routing id"); ok {
				if pt.Routing = d.routByID[id]; pt.Routing == nil {
					d.Errorf(v, f, "no routing %q (%s)", id, known(d.routByID))
				}
			}
		case "cost":
			if s, ok := d.Scalar(v, f, "an amount like 180 "+d.p.Currency); ok {
				c, err := parseMoney(s, d.p.Currency)
				if err != nil {
					d.Errorf(v, f, "%v", err)
				}
				pt.Cost = c
			}
		}
	})
	if idNode == nil {
		d.Errorf(n, field+".id", "want an id")
		return
	}
	if pt.Purchased && routNode != nil {
		d.Errorf(routNode, field+".routing", "a purchased part has no routing")
	}
	if !pt.Purchased && routNode == nil {
		d.Errorf(n, field, "want a routing, or purchased: true")
	}
	if pt.Name == "" {
		pt.Name = pt.ID
	}
	if d.partByID[pt.ID] != nil {
		d.Errorf(idNode, field+".id", "part %q defined twice", pt.ID)
	}
	d.partByID[pt.ID] = pt
	d.p.Parts = append(d.p.Parts, pt)
}

func (d *decoder) product(n *yaml.Node, field string) {
	pr := &Product{Index: len(d.p.Products)}
	var idNode, famNode, routNode *yaml.Node
	d.fields(n, "product", field, func(key string, v *yaml.Node) {
		f := yamldec.Join(field, key)
		switch key {
		case "id":
			idNode = v
			pr.ID = d.id(v, f)
		case "name":
			pr.Name = d.Str(v, f)
		case "family":
			famNode = v
			pr.Family = d.family(v, f)
		case "bom":
			pr.BOM = d.components(v, f)
		case "routing":
			routNode = v
			if id, ok := d.Scalar(v, f, "a routing id"); ok {
				if pr.Routing = d.routByID[id]; pr.Routing == nil {
					d.Errorf(v, f, "no routing %q (%s)", id, known(d.routByID))
				}
			}
		}
	})
	if idNode == nil {
		d.Errorf(n, field+".id", "want an id")
		return
	}
	if famNode == nil {
		if len(d.p.Families) > 0 {
			d.Errorf(n, field+".family", "want the product's family (%s)", strings.Join(d.p.Families, ", "))
		} else {
			pr.Family = "default"
		}
	}
	if routNode == nil && len(pr.BOM) == 0 {
		d.Errorf(n, field, "want a routing or a bom")
	}
	if pr.Name == "" {
		pr.Name = pr.ID
	}
	if d.prodByID[pr.ID] != nil {
		d.Errorf(idNode, field+".id", "product %q defined twice", pr.ID)
	}
	d.prodByID[pr.ID] = pr
	d.p.Products = append(d.p.Products, pr)
}
