package mes

import (
	"fmt"
	"maps"
	"math"
	"path"
	"sort"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/event"
)

// Equipment is an asset of the ledger: the plant file's equipment tree
// (ISA-95 levels), with specifications and an administrative status kept
// here, and the machine state read live from the twin.
type Equipment struct {
	ID         string            `json:"id"`
	Path       string            `json:"path"`
	Name       string            `json:"name"`
	Level      string            `json:"level" enum:"Site,Area,ProductionLine,WorkCenter,WorkUnit"`
	Parent     string            `json:"parent,omitempty"`
	WorkCenter string            `json:"work_center,omitempty"`
	Nameplate  *Nameplate        `json:"nameplate,omitempty"`
	Specs      map[string]string `json:"specs"`
	Status     string            `json:"status" enum:"in_service,out_of_service,retired"`
	Note       string            `json:"note,omitempty"`
	// live, from the twin (not stored)
	State      string    `json:"state,omitempty" doc:"machine state now (units)"`
	StateSince time.Time `json:"state_since,omitzero"`
	RunHours   float64   `json:"run_hours,omitempty" doc:"running hours counted by the live link"`
}

// Nameplate is the OPC 40001-1 identification.
type Nameplate struct {
	Manufacturer       string `json:"manufacturer,omitempty"`
	Model              string `json:"model,omitempty"`
	SerialNumber       string `json:"serial_number,omitempty"`
	YearOfConstruction int    `json:"year_of_construction,omitempty"`
}

// EquipmentChange changes an asset's ledger entry.
type EquipmentChange struct {
	Specs  map[string]string `json:"specs,omitempty" maxlen:"200" doc:"merged into the specs; an empty value removes the key"`
	Status string            `json:"status,omitempty" maxlen:"16" enum:"in_service,out_of_service,retired"`
	Note   string            `json:"note,omitempty" maxlen:"2000"`
}

// seedLedger enters the plant file's equipment and maintenance plans the
// ledger does not have yet.
func (d *DB) seedLedger() error {
	return d.update("system", "ledger.seed", func(t *tx) error {
		for _, n := range d.p.Nodes {
			if ok, err := t.Exists("eq/" + n.ID); err != nil || ok {
				if err != nil {
					return err
				}
				continue
			}
			e := &Equipment{ID: n.ID, Path: n.Path, Name: n.Name, Level: n.Level.String(), Specs: map[string]string{}, Status: "in_service"}
			if n.Parent != nil {
				e.Parent = n.Parent.ID
			}
			if u := n.Unit; u != nil {
				e.WorkCenter = u.WorkCenter.ID()
				np := u.Nameplate
				if np != (plant.Nameplate{}) {
					e.Nameplate = &Nameplate{np.Manufacturer, np.Model, np.SerialNumber, np.YearOfConstruction}
				}
				pw := u.Power
				e.Specs["power_busy_kw"] = fmt.Sprint(pw.Busy)
				e.Specs["power_idle_kw"] = fmt.Sprint(pw.Idle)
			}
			if err := t.put("eq", e.ID, nil, e); err != nil {
				return err
			}
		}
		for _, u := range d.p.Units {
			for _, m := range u.Maintenance {
				id := PlanID(u.ID(), m.Name)
				if ok, err := t.Exists("mplan/" + id); err != nil || ok {
					if err != nil {
						return err
					}
					continue
				}
				pl := &MaintPlan{ID: id, Unit: u.ID(), Name: m.Name, Kind: "maintenance", Basis: "calendar",
					EveryHours: float64(m.Every) / 3600e9, Source: "plant", Since: t.Now}
				if m.Basis == plant.OperatingTime {
					pl.Basis = "run_hours"
				}
				pl.LeadHours = pl.EveryHours / 10
				if err := t.put("mplan", id, nil, pl); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// PlanID is the id of a machine's maintenance plan of a name (the plant
// file's planned maintenance, or one added through the API).
func PlanID(unit, name string) string { return unit + "-" + slug(name) }

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

// Equipment returns the ledger, in the plant's tree order.
func (d *DB) Equipment() ([]Equipment, error) {
	out := make([]Equipment, 0, len(d.p.Nodes))
	err := d.view(func(t *tx) error {
		for _, n := range d.p.Nodes {
			var e Equipment
			if ok, err := t.Get("eq/"+n.ID, &e); err != nil {
				return err
			} else if ok {
				d.live(&e)
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// Asset returns one asset of the ledger.
func (d *DB) Asset(id string) (*Equipment, error) {
	e := new(Equipment)
	if err := d.view(func(t *tx) error { return t.Must("eq", id, e) }); err != nil {
		return nil, err
	}
	d.live(e)
	return e, nil
}

func (d *DB) live(e *Equipment) {
	if d.link == nil || e.Level != plant.UnitLevel.String() {
		return
	}
	if st, since, ok := d.link.state(e.Path); ok {
		e.State, e.StateSince = st.String(), time.Unix(0, since)
	}
	e.RunHours = round(d.link.runHours(e.Path), 3)
}

// ChangeAsset changes an asset's specifications, status or note.
func (d *DB) ChangeAsset(user, id string, c EquipmentChange) (*Equipment, error) {
	switch c.Status {
	case "", "in_service", "out_of_service", "retired":
	default:
		return nil, FieldErr("status", "want in_service, out_of_service or retired, got %q", c.Status)
	}
	for k := range c.Specs {
		if k == "" || len(k) > 64 {
			return nil, FieldErr("specs", "a key must have 1 to 64 characters")
		}
	}
	var e Equipment
	err := d.update(user, "equipment.change", func(t *tx) error {
		if err := t.Must("eq", id, &e); err != nil {
			return err
		}
		before := e
		before.Specs = maps.Clone(e.Specs)
		if e.Specs == nil {
			e.Specs = map[string]string{}
		}
		for k, v := range c.Specs {
			if v == "" {
				delete(e.Specs, k)
			} else {
				e.Specs[k] = v
			}
		}
		if c.Status != "" {
			e.Status = c.Status
		}
		if c.Note != "" {
			e.Note = c.Note
		}
		return t.put("eq", id, before, e)
	})
	d.live(&e)
	return &e, err
}

// HistoryEntry is one line of an asset's history.
type HistoryEntry struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind" enum:"ledger,maintenance,state"`
	Text string    `json:"text"`
	User string    `json:"user,omitempty"`
}

// AssetHistory returns an asset's history in [from, to): ledger changes,
// maintenance completions and (for machines, from the twin's history)
// machine state changes, at most limit state changes.
func (d *DB) AssetHistory(id string, from, to time.Time, limit int) ([]HistoryEntry, error) {
	var e Equipment
	var out []HistoryEntry
	err := d.view(func(t *tx) error {
		if err := t.Must("eq", id, &e); err != nil {
			return err
		}
		aud, err := t.AuditOf("eq", id)
		if err != nil {
			return err
		}
		for _, a := range aud {
			if inWindow(a.At, from, to) {
				out = append(out, HistoryEntry{At: a.At, Kind: "ledger", Text: a.Action + ": " + string(a.After), User: a.User})
			}
		}
		cs, err := all[MaintCompletion](t, "x/unit/"+id+"/mdone/", "mdone")
		if err != nil {
			return err
		}
		for _, c := range cs {
			if inWindow(c.At, from, to) {
				out = append(out, HistoryEntry{At: c.At, Kind: "maintenance", Text: c.Plan + " done: " + c.Note, User: c.By})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if d.hist != nil && e.Level == plant.UnitLevel.String() {
		f, t := int64(math.MinInt64), int64(math.MaxInt64)
		if !from.IsZero() {
			f = from.UnixNano()
		}
		if !to.IsZero() {
			t = to.UnixNano() - 1
		}
		if limit <= 0 {
			limit = 1000
		}
		n := 0
		last := event.MachineState(255)
		errStop := fmt.Errorf("stop")
		err := d.hist.AssetRange(e.Path, f, t, func(ev event.Event) error {
			if ev.Kind != event.State || event.MachineState(ev.Value) == last {
				return nil
			}
			last = event.MachineState(ev.Value)
			out = append(out, HistoryEntry{At: time.Unix(0, ev.Time), Kind: "state", Text: last.String()})
			if n++; n >= limit {
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// MaintPlan is an inspection or maintenance plan of a machine, every so
// many calendar hours or running hours.
type MaintPlan struct {
	ID         string    `json:"id"`
	Unit       string    `json:"unit" doc:"machine id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind" enum:"inspection,maintenance"`
	Basis      string    `json:"basis" enum:"calendar,run_hours"`
	EveryHours float64   `json:"every_hours"`
	LeadHours  float64   `json:"lead_hours" doc:"due this long before; default a tenth of the interval"`
	Source     string    `json:"source,omitempty" enum:"plant,api"`
	Since      time.Time `json:"since" doc:"last done (or when the plan was made)"`
	RunHoursAt float64   `json:"run_hours_at" doc:"the machine's running hours when last done"`
}

// MaintStatus is a plan and how close it is to due.
type MaintStatus struct {
	Plan      MaintPlan `json:"plan"`
	State     string    `json:"state" enum:"ok,due,overdue"`
	Used      float64   `json:"used_hours" doc:"calendar or running hours since last done"`
	Remaining float64   `json:"remaining_hours" doc:"negative when overdue"`
	DueAt     time.Time `json:"due_at,omitzero" doc:"calendar plans"`
}

// MaintCompletion records maintenance done.
type MaintCompletion struct {
	ID          string    `json:"id"`
	Plan        string    `json:"plan"`
	Unit        string    `json:"unit"`
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	DurationMin float64   `json:"duration_min,omitempty"`
	Note        string    `json:"note,omitempty"`
	RunHours    float64   `json:"run_hours" doc:"the machine's running hours then"`
}

// NewMaintPlan makes a plan.
type NewMaintPlan struct {
	Unit       string  `json:"unit" maxlen:"200"`
	Name       string  `json:"name" maxlen:"200"`
	Kind       string  `json:"kind" maxlen:"16" enum:"inspection,maintenance"`
	Basis      string  `json:"basis" maxlen:"16" enum:"calendar,run_hours"`
	EveryHours float64 `json:"every_hours"`
	LeadHours  float64 `json:"lead_hours,omitempty"`
}

// NewCompletion records maintenance done.
type NewCompletion struct {
	Plan        string    `json:"plan" maxlen:"200"`
	At          time.Time `json:"at,omitzero"`
	DurationMin float64   `json:"duration_min,omitempty"`
	Note        string    `json:"note,omitempty" maxlen:"2000"`
}

// AddMaintPlan adds an inspection or maintenance plan.
func (d *DB) AddMaintPlan(user string, r NewMaintPlan) (*MaintPlan, error) {
	u := d.unit(r.Unit)
	if u == nil {
		return nil, FieldErr("unit", "%q is not a machine of the plant", r.Unit)
	}
	if r.Name == "" {
		return nil, FieldErr("name", "required")
	}
	if r.Kind != "inspection" && r.Kind != "maintenance" {
		return nil, FieldErr("kind", "want inspection or maintenance, got %q", r.Kind)
	}
	if r.Basis != "calendar" && r.Basis != "run_hours" {
		return nil, FieldErr("basis", "want calendar or run_hours, got %q", r.Basis)
	}
	if !(r.EveryHours > 0) || math.IsInf(r.EveryHours, 0) {
		return nil, FieldErr("every_hours", "want a positive number of hours")
	}
	if r.LeadHours < 0 || r.LeadHours >= r.EveryHours {
		return nil, FieldErr("lead_hours", "want 0 ≤ lead < every")
	}
	if r.LeadHours == 0 {
		r.LeadHours = r.EveryHours / 10
	}
	var pl *MaintPlan
	err := d.update(user, "maintenance.plan", func(t *tx) error {
		pl = &MaintPlan{ID: PlanID(u.ID(), r.Name), Unit: u.ID(), Name: r.Name, Kind: r.Kind, Basis: r.Basis,
			EveryHours: r.EveryHours, LeadHours: r.LeadHours, Source: "api", Since: t.Now, RunHoursAt: d.runHours(u.Path())}
		if ok, err := t.Exists("mplan/" + pl.ID); err != nil || ok {
			if ok {
				return FieldErr("name", "%s already has a plan %q", u.ID(), r.Name)
			}
			return err
		}
		return t.put("mplan", pl.ID, nil, pl)
	})
	return pl, err
}

func (d *DB) unit(id string) *plant.Unit { return d.p.FindUnit(id) }

func (d *DB) runHours(path string) float64 {
	if d.link == nil {
		return 0
	}
	return d.link.runHours(path)
}

// Maintenance returns every plan with its state now; alarmsOnly keeps
// those due or overdue.
func (d *DB) Maintenance(alarmsOnly bool) ([]MaintStatus, error) {
	var out []MaintStatus
	now := d.now()
	err := d.view(func(t *tx) error {
		ps, err := list[MaintPlan](t, "mplan/", "", 1<<30, nil)
		if err != nil {
			return err
		}
		for _, p := range ps.Items {
			s := MaintStatus{Plan: p, State: "ok"}
			if p.Basis == "calendar" {
				s.Used = now.Sub(p.Since).Hours()
				s.DueAt = p.Since.Add(time.Duration(p.EveryHours * float64(time.Hour)))
			} else if u := d.unit(p.Unit); u != nil {
				s.Used = d.runHours(u.Path()) - p.RunHoursAt
			}
			s.Remaining = round(p.EveryHours-s.Used, 3)
			s.Used = round(s.Used, 3)
			switch {
			case s.Remaining < 0:
				s.State = "overdue"
			case s.Remaining <= p.LeadHours:
				s.State = "due"
			}
			if !alarmsOnly || s.State != "ok" {
				out = append(out, s)
			}
		}
		return nil
	})
	return out, err
}

// CompleteMaintenance records a plan's maintenance as done: the plan
// starts counting again.
func (d *DB) CompleteMaintenance(user string, r NewCompletion) (*MaintCompletion, error) {
	if err := validID("plan", r.Plan); err != nil {
		return nil, err
	}
	if r.DurationMin < 0 {
		return nil, FieldErr("duration_min", "negative")
	}
	var c *MaintCompletion
	err := d.update(user, "maintenance.complete", func(t *tx) error {
		var p MaintPlan
		if err := t.Must("mplan", r.Plan, &p); err != nil {
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
		u := d.unit(p.Unit)
		rh := 0.0
		if u != nil {
			rh = d.runHours(u.Path())
		}
		c = &MaintCompletion{ID: fmt.Sprintf("MC-%06d", n), Plan: p.ID, Unit: p.Unit, At: at, By: user, DurationMin: r.DurationMin, Note: r.Note, RunHours: round(rh, 3)}
		pb := p
		p.Since, p.RunHoursAt = at, rh
		if err := t.put("mplan", p.ID, pb, p); err != nil {
			return err
		}
		if err := t.put("mdone", c.ID, nil, c); err != nil {
			return err
		}
		return t.Index("unit", p.Unit, "mdone", c.ID)
	})
	return c, err
}

// Completions lists maintenance completions, of one machine or all.
func (d *DB) Completions(unit, cursor string, limit int) (Page[MaintCompletion], error) {
	var p Page[MaintCompletion]
	err := d.view(func(t *tx) (err error) {
		if unit != "" {
			p, err = listIndex[MaintCompletion](t, "x/unit/"+unit+"/mdone/", "mdone", cursor, limit, nil)
		} else {
			p, err = list[MaintCompletion](t, "mdone/", cursor, limit, nil)
		}
		return err
	})
	return p, err
}

func hasBase(p, id string) bool { return p != "" && path.Base(p) == id }

// Audit lists audit entries in order; kind and id narrow it to one
// record's (kind as the API names it, e.g. "order").
func (d *DB) Audit(kind, id string, from, to time.Time, cursor string, limit int) (Page[AuditEntry], error) {
	return d.st.Audit(kind, id, from, to, cursor, limit)
}
