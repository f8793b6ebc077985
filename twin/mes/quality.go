package mes

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"twin/twin/mes/recstore"
)

// Characteristic is a measured property of an inspection plan.
type Characteristic struct {
	Name    string  `json:"name" maxlen:"200"`
	Unit    string  `json:"unit" maxlen:"32"`
	Nominal float64 `json:"nominal"`
	LSL     float64 `json:"lsl" doc:"lower specification limit"`
	USL     float64 `json:"usl" doc:"upper specification limit"`
}

// InspectionPlan is what an inspecting operation measures.
type InspectionPlan struct {
	Routing         string           `json:"routing"`
	Op              string           `json:"op"`
	Characteristics []Characteristic `json:"characteristics"`
	Source          string           `json:"source" enum:"plant,api" doc:"the plant file's, or set through the API"`
	Updated         time.Time        `json:"updated,omitzero"`
}

// InspectionPlans lists the plans: the plant file's, overridden by those
// set through the API.
func (d *DB) InspectionPlans() ([]InspectionPlan, error) {
	var out []InspectionPlan
	err := d.view(func(t *tx) error {
		for _, r := range d.p.Routings {
			for _, op := range r.Ops {
				p, err := d.plan(t, r.ID, op.ID)
				if err != nil {
					return err
				}
				if p != nil {
					out = append(out, *p)
				}
			}
		}
		return nil
	})
	return out, err
}

func (d *DB) plan(t *tx, routing, op string) (*InspectionPlan, error) {
	p := new(InspectionPlan)
	if ok, err := t.Get("iplan/"+routing+"/"+op, p); err != nil || ok {
		return p, err
	}
	for _, r := range d.p.Routings {
		if r.ID != routing {
			continue
		}
		for _, o := range r.Ops {
			if o.ID == op && o.Inspect != nil {
				p = &InspectionPlan{Routing: routing, Op: op, Source: "plant", Characteristics: []Characteristic{}}
				for _, c := range o.Inspect.Characteristics {
					p.Characteristics = append(p.Characteristics, Characteristic{c.Name, c.Unit, c.Nominal, c.LSL, c.USL})
				}
				return p, nil
			}
		}
	}
	return nil, nil
}

// SetInspectionPlan replaces the plan of an inspecting operation.
func (d *DB) SetInspectionPlan(user string, p InspectionPlan) (*InspectionPlan, error) {
	if len(p.Characteristics) == 0 {
		return nil, FieldErr("characteristics", "at least one")
	}
	for i, c := range p.Characteristics {
		f := fmt.Sprintf("characteristics[%d]", i)
		if c.Name == "" {
			return nil, FieldErr(f+".name", "required")
		}
		if !(c.LSL <= c.USL) || math.IsNaN(c.LSL) || math.IsInf(c.USL, 0) || math.IsInf(c.LSL, 0) {
			return nil, FieldErr(f+".usl", "want lsl ≤ usl, got %g > %g", c.LSL, c.USL)
		}
	}
	var out InspectionPlan
	err := d.update(user, "inspection_plan.set", func(t *tx) error {
		old, err := d.plan(t, p.Routing, p.Op)
		if err != nil {
			return err
		}
		if old == nil {
			return FieldErr("op", "%s/%s is not an inspecting operation of the plant", p.Routing, p.Op)
		}
		out = p
		out.Source, out.Updated = "api", t.Now
		return t.put("iplan", p.Routing+"/"+p.Op, old, out)
	})
	return &out, err
}

// CharResult is one measured characteristic.
type CharResult struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	LSL   float64 `json:"lsl"`
	USL   float64 `json:"usl"`
	OK    bool    `json:"ok"`
}

// Inspection is a recorded inspection result of one unit.
type Inspection struct {
	ID           string       `json:"id"`
	Serial       string       `json:"serial"`
	Operation    string       `json:"operation"`
	WorkOrder    string       `json:"work_order"`
	Order        string       `json:"order"`
	Station      string       `json:"station,omitempty"`
	Inspector    string       `json:"inspector"`
	At           time.Time    `json:"at"`
	Results      []CharResult `json:"results"`
	Pass         bool         `json:"pass"`
	Reinspection bool         `json:"reinspection" doc:"a re-inspection after rework"`
	NC           string       `json:"nonconformance,omitempty" doc:"opened by this result, or closed by it"`
}

// NewInspection records measured values of one unit at an inspecting
// operation.
type NewInspection struct {
	Serial    string             `json:"serial" maxlen:"200"`
	Operation string             `json:"operation" maxlen:"200" doc:"the inspecting operation's card id"`
	Values    map[string]float64 `json:"values" maxlen:"200" doc:"by characteristic name; every characteristic of the plan"`
	Inspector string             `json:"inspector,omitempty" maxlen:"64" doc:"default the signed-in user"`
	At        time.Time          `json:"at,omitzero"`
}

// Nonconformance is a unit that failed an inspection, and what became of
// it.
type Nonconformance struct {
	ID            string    `json:"id"`
	Serial        string    `json:"serial"`
	Order         string    `json:"order"`
	Operation     string    `json:"operation"`
	Inspection    string    `json:"inspection"`
	Failed        []string  `json:"failed" doc:"the characteristics out of limits"`
	Opened        time.Time `json:"opened"`
	Status        string    `json:"status" enum:"open,closed"`
	ReworkAt      string    `json:"rework_at,omitempty" doc:"the work centre the unit is routed to for rework"`
	Reinspection  string    `json:"reinspection" enum:"pending,passed,failed,cancelled"`
	Disposition   string    `json:"disposition,omitempty" enum:"rework,scrap,use_as_is"`
	DispositionBy string    `json:"disposition_by,omitempty"`
	DispositionAt time.Time `json:"disposition_at,omitzero"`
	Note          string    `json:"note,omitempty"`
	Closed        time.Time `json:"closed,omitzero"`
}

// Inspect records an inspection result. A nonconforming result opens a
// nonconformance, routes the unit to rework (the operation's rework work
// centre) and schedules its re-inspection; a re-inspection that passes
// closes it; one that fails closes it as failed and opens the next.
func (d *DB) Inspect(user string, r NewInspection) (*Inspection, error) {
	if err := validID("serial", r.Serial); err != nil {
		return nil, err
	}
	if err := validID("operation", r.Operation); err != nil {
		return nil, err
	}
	if r.Inspector == "" {
		r.Inspector = user
	}
	var in *Inspection
	err := d.update(user, "inspection.record", func(t *tx) error {
		var u Unit
		if err := t.Must("unit", r.Serial, &u); err != nil {
			return err
		}
		var o Operation
		if err := t.Must("op", r.Operation, &o); err != nil {
			return err
		}
		if o.WorkOrder != u.WorkOrder {
			return FieldErr("operation", "%s is not an operation of unit %s (work order %s)", o.ID, u.Serial, u.WorkOrder)
		}
		var w WorkOrder
		if err := t.Must("wo", o.WorkOrder, &w); err != nil {
			return err
		}
		plan, err := d.plan(t, w.Routing, o.Op)
		if err != nil {
			return err
		}
		if plan == nil {
			return FieldErr("operation", "%s (%s) has no inspection plan", o.ID, o.Op)
		}
		if u.Status == UnitScrapped {
			return fmt.Errorf("unit %s is scrapped: %w", u.Serial, ErrConflict)
		}
		if u.Reinspection != o.ID && passedAt(t, u, o.ID) {
			return fmt.Errorf("unit %s already passed %s: %w", u.Serial, o.Op, ErrConflict)
		}
		results, failed, err := judge(plan, r.Values)
		if err != nil {
			return err
		}
		n, err := t.NextID()
		if err != nil {
			return err
		}
		at := r.At
		if at.IsZero() {
			at = t.Now
		}
		in = &Inspection{ID: fmt.Sprintf("IN-%07d", n), Serial: u.Serial, Operation: o.ID, WorkOrder: o.WorkOrder, Order: o.Order,
			Station: o.Station, Inspector: r.Inspector, At: at, Results: results, Pass: len(failed) == 0, Reinspection: u.Reinspection == o.ID}
		return d.recordInspection(t, in, u, o, w.Routing, failed)
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// judge holds the values against the plan's limits: the results, and
// the characteristics that failed. A value missing, not a number, or of
// no characteristic of the plan is an error.
func judge(plan *InspectionPlan, values map[string]float64) (results []CharResult, failed []string, err error) {
	for name := range values {
		if !slices.ContainsFunc(plan.Characteristics, func(c Characteristic) bool { return c.Name == name }) {
			return nil, nil, FieldErr("values."+name, "not a characteristic of the plan for %s", plan.Op)
		}
	}
	for _, c := range plan.Characteristics {
		v, ok := values[c.Name]
		if !ok {
			return nil, nil, FieldErr("values."+c.Name, "missing (%s)", c.Unit)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, FieldErr("values."+c.Name, "not a number")
		}
		ok = v >= c.LSL && v <= c.USL
		results = append(results, CharResult{c.Name, v, c.LSL, c.USL, ok})
		if !ok {
			failed = append(failed, c.Name)
		}
	}
	return results, failed, nil
}

// recordInspection writes an inspection of unit u at operation o and
// closes the loop: a re-inspection closes the unit's open
// nonconformance there (passed or failed again), a failure opens a new
// one and sends the unit to rework, a pass passes the unit; the unit's
// first-pass flag is its first inspection's, failed by any failure after.
func (d *DB) recordInspection(t *tx, in *Inspection, u Unit, o Operation, routing string, failed []string) error {
	ub := u
	u.Inspections = append(u.Inspections, in.ID)
	if u.FirstPass == nil {
		fp := in.Pass
		u.FirstPass = &fp
	} else if !in.Pass && *u.FirstPass {
		fp := false
		u.FirstPass = &fp
	}
	// the open nonconformance of this unit at this operation, if any
	var open *Nonconformance
	for _, id := range u.NCs {
		var nc Nonconformance
		if err := t.Must("nc", id, &nc); err != nil {
			return err
		}
		if nc.Status == "open" && nc.Operation == o.ID {
			open = &nc
		}
	}
	if open != nil {
		nb := *open
		open.Status, open.Closed, open.Reinspection = "closed", in.At, "passed"
		if !in.Pass {
			open.Reinspection = "failed"
		}
		in.NC = open.ID
		if err := t.put("nc", open.ID, nb, open); err != nil {
			return err
		}
		if err := t.Delete("x/open/nc/nc/" + open.ID); err != nil {
			return err
		}
	}
	if in.Pass {
		u.Status, u.Reinspection = UnitPassed, ""
	} else {
		m, err := t.NextID()
		if err != nil {
			return err
		}
		nc := &Nonconformance{ID: fmt.Sprintf("NC-%06d", m), Serial: u.Serial, Order: u.Order, Operation: o.ID, Inspection: in.ID,
			Failed: failed, Opened: in.At, Status: "open", Reinspection: "pending", ReworkAt: d.reworkAt(routing, o.Op)}
		if err := t.put("nc", nc.ID, nil, nc); err != nil {
			return err
		}
		if err := t.Index("order", u.Order, "nc", nc.ID); err != nil {
			return err
		}
		if err := t.Index("open", "nc", "nc", nc.ID); err != nil {
			return err
		}
		in.NC = nc.ID
		u.NCs = append(u.NCs, nc.ID)
		u.Status, u.Reinspection = UnitRework, o.ID
	}
	if err := t.put("insp", in.ID, nil, in); err != nil {
		return err
	}
	if err := t.put("unit", u.Serial, ub, u); err != nil {
		return err
	}
	if err := t.Index("order", u.Order, "insp", in.ID); err != nil {
		return err
	}
	if err := t.Index("serial", u.Serial, "insp", in.ID); err != nil {
		return err
	}
	return t.Index("time", "insp", "insp", recstore.TimeKey(in.At, in.ID))
}

// passedAt says whether unit u has a passing inspection at operation op.
func passedAt(t *tx, u Unit, op string) bool {
	for _, id := range u.Inspections {
		var in Inspection
		if ok, _ := t.Get("insp/"+id, &in); ok && in.Operation == op && in.Pass {
			return true
		}
	}
	return false
}

func (d *DB) reworkAt(routing, op string) string {
	for _, r := range d.p.Routings {
		if r.ID == routing {
			for _, o := range r.Ops {
				if o.ID == op && o.Inspect != nil && o.Inspect.Rework != nil {
					return o.Inspect.Rework.WorkCenter.ID()
				}
			}
		}
	}
	return ""
}

// Disposition is the decision on a nonconforming unit.
type Disposition struct {
	Decision string `json:"decision" maxlen:"16" enum:"rework,scrap,use_as_is"`
	Note     string `json:"note,omitempty" maxlen:"2000"`
}

// Dispose records the disposition of an open nonconformance: rework keeps
// the re-inspection pending; scrap scraps the unit; use_as_is accepts it
// (a concession). Scrap and use-as-is close the nonconformance and cancel
// the re-inspection.
func (d *DB) Dispose(user, id string, r Disposition) (*Nonconformance, error) {
	switch r.Decision {
	case "rework", "scrap", "use_as_is":
	default:
		return nil, FieldErr("decision", "want rework, scrap or use_as_is, got %q", r.Decision)
	}
	if r.Decision == "use_as_is" && r.Note == "" {
		return nil, FieldErr("note", "required for use_as_is: say why the unit is acceptable")
	}
	var nc Nonconformance
	err := d.update(user, "nonconformance."+r.Decision, func(t *tx) error {
		if err := t.Must("nc", id, &nc); err != nil {
			return err
		}
		if nc.Status != "open" {
			return fmt.Errorf("nonconformance %s is closed: %w", id, ErrConflict)
		}
		nb := nc
		nc.Disposition, nc.DispositionBy, nc.DispositionAt, nc.Note = r.Decision, user, t.Now, r.Note
		if r.Decision != "rework" {
			var u Unit
			if err := t.Must("unit", nc.Serial, &u); err != nil {
				return err
			}
			ub := u
			u.Reinspection = ""
			u.Status = UnitScrapped
			if r.Decision == "use_as_is" {
				u.Status = UnitAccepted
			}
			if err := t.put("unit", u.Serial, ub, u); err != nil {
				return err
			}
			nc.Status, nc.Closed, nc.Reinspection = "closed", t.Now, "cancelled"
			if err := t.Delete("x/open/nc/nc/" + nc.ID); err != nil {
				return err
			}
		}
		return t.put("nc", id, nb, nc)
	})
	return &nc, err
}

// Nonconformances lists nonconformances: of an order, the open ones, or all.
func (d *DB) Nonconformances(order string, open bool, cursor string, limit int) (Page[Nonconformance], error) {
	var p Page[Nonconformance]
	err := d.view(func(t *tx) (err error) {
		switch {
		case order != "":
			p, err = listIndex(t, "x/order/"+order+"/nc/", "nc", cursor, limit, func(n *Nonconformance) bool { return !open || n.Status == "open" })
		case open:
			p, err = listIndex[Nonconformance](t, "x/open/nc/nc/", "nc", cursor, limit, nil)
		default:
			p, err = list[Nonconformance](t, "nc/", cursor, limit, nil)
		}
		return err
	})
	return p, err
}

// InspectionFilter selects inspections.
type InspectionFilter struct {
	Order, Serial, Station string
	From, To               time.Time
}

// Inspections lists inspection results.
func (d *DB) Inspections(f InspectionFilter, cursor string, limit int) (Page[Inspection], error) {
	var p Page[Inspection]
	keep := func(in *Inspection) bool {
		return inWindow(in.At, f.From, f.To) && (f.Station == "" || in.Station == f.Station || hasBase(in.Station, f.Station))
	}
	err := d.view(func(t *tx) (err error) {
		switch {
		case f.Order != "":
			p, err = listIndex(t, "x/order/"+f.Order+"/insp/", "insp", cursor, limit, keep)
		case f.Serial != "":
			p, err = listIndex(t, "x/serial/"+f.Serial+"/insp/", "insp", cursor, limit, keep)
		default:
			p, err = list(t, "insp/", cursor, limit, keep)
		}
		return err
	})
	sort.SliceStable(p.Items, func(i, j int) bool { return p.Items[i].At.Before(p.Items[j].At) })
	return p, err
}
