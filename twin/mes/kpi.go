package mes

import (
	"slices"
	"sort"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/kpi"
	"twin/twin/window"
)

// KPI is one row of key performance indicators after ISO 22400-2,
// computed by the one KPI engine (plant/kpi; its package doc has the
// time model). Times are hours:
//
//	POT  planned operation time   calendar working time observed, and work outside it (overtime)
//	PBT  planned busy time        POT less planned downtime
//	APT  actual production time   running
//	AUST actual unit setup time   setup
//	ADET actual unit delay time   down (failure) or blocked while planned
//	ADOT actual unit down time    idle, starved or off while planned (available, no order)
//	PDOT planned downtime         planned maintenance while planned
//
// and time the twin did not observe (no reading yet, a source gone) is
// unobserved: neither planned nor lost. PQ (produced) = good + reject
// counted by the machines, GQ = good, SQ = reject; the planned run time
// of what was produced (PRU × PQ) is each count's planned time per unit,
// pro-rated to the share of its run inside the window.
//
//	Availability  = APT / PBT
//	Effectiveness = PRU × PQ / APT
//	Quality rate  = GQ / PQ
//	OEE           = Availability × Effectiveness × Quality rate
//
// Per-unit figures divide by the units completed in the window (good
// units at the work centres of the products' last operations; for a
// station its good units, for a line those of its last work centre).
// Ratios that do not apply (no planned time, no production) are omitted.
type KPI struct {
	By   string    `json:"by" enum:"station,line,order,day"`
	Key  string    `json:"key" doc:"station id, line id, order id or plant-local date"`
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero" doc:"the end of the window, or of what was observed when that is earlier (now)"`

	POT        float64 `json:"pot_h"`
	PBT        float64 `json:"pbt_h"`
	APT        float64 `json:"apt_h"`
	AUST       float64 `json:"aust_h"`
	ADET       float64 `json:"adet_h"`
	ADOT       float64 `json:"adot_h"`
	PDOT       float64 `json:"pdot_h"`
	Overtime   float64 `json:"overtime_h" doc:"production and setup outside the calendar (part of APT and AUST)"`
	OffShift   float64 `json:"off_shift_h" doc:"observed time outside the calendar, not working"`
	Unobserved float64 `json:"unobserved_h" doc:"time without a known machine state (not counted against availability)"`
	Planned    float64 `json:"planned_h" doc:"planned run time of what was produced (PRU × PQ), pro-rated to the window"`
	PQ         float64 `json:"pq"`
	GQ         float64 `json:"gq"`
	SQ         float64 `json:"sq"`

	Availability  *float64 `json:"availability,omitempty"`
	Effectiveness *float64 `json:"effectiveness,omitempty"`
	QualityRate   *float64 `json:"quality_rate,omitempty"`
	OEE           *float64 `json:"oee,omitempty"`

	Inspected int      `json:"inspected" doc:"units inspected the first time"`
	FPY       *float64 `json:"fpy,omitempty" doc:"first-pass yield: units passing their first inspection / units inspected"`
	ScrapRate *float64 `json:"scrap_rate,omitempty" doc:"SQ / PQ (stations, lines, days); scrapped units / units (orders)"`
	// ScrapByReason is the scrap people counted (partial and final
	// confirmations in the window, by the station they were made at) by
	// the reason given, largest first.
	LossH         float64      `json:"loss_h" doc:"the availability loss PBT − APT (setup, delay and down time) the losses break down"`
	Losses        []ReasonTime `json:"losses,omitempty" doc:"time of the stops people reported (POST /downtime) within the loss their reason explains, by reason, largest first (planned-downtime reasons explain PDOT, no loss of availability)"`
	UnexplainedH  float64      `json:"unexplained_h" doc:"the part of loss_h no reported stop explains"`
	ScrapByReason []ReasonQty  `json:"scrap_by_reason,omitempty" doc:"scrap counted at the stations (reports and confirmations in the window) by scrap reason, largest first; reason \"\": given without one"`

	Units      float64  `json:"units" doc:"units completed, the per-unit figures divide by"`
	Orders     int      `json:"orders_completed"`
	OnTime     *float64 `json:"on_time,omitempty" doc:"orders completed by their due date / orders completed"`
	LeadTimeH  *float64 `json:"lead_time_h,omitempty" doc:"mean release → completion"`
	EnergyKWh  float64  `json:"energy_kwh"`
	CO2Kg      float64  `json:"co2_kg" doc:"energy × the plant's grid emission factor"`
	KWhPerUnit *float64 `json:"kwh_per_unit,omitempty"`
	CO2PerUnit *float64 `json:"co2_kg_per_unit,omitempty"`
	LabourH    float64  `json:"labour_h"`
	LabourPer  *float64 `json:"labour_h_per_unit,omitempty"`

	times       kpi.Times
	qty         kpi.Quantities
	scrap       kpi.Scrap
	losses      []kpi.ReasonTime
	unexplained time.Duration
}

// ReasonTime is a time by reason, in hours.
type ReasonTime struct {
	Reason string  `json:"reason"`
	Hours  float64 `json:"h"`
}

// ReasonQty is a quantity by reason.
type ReasonQty struct {
	Reason string  `json:"reason"`
	Qty    float64 `json:"qty"`
}

// KPIQuery asks for KPIs.
type KPIQuery struct {
	By       string    // station, line, order, day
	From, To time.Time // the window (stations, lines, days); orders: completed in it
	Station  string    // narrow to one station (id)
	Line     string
	Order    string
}

// fold runs the KPI engine over the twin's history in [from, to) (see
// twin/window), orders of the records naming their products.
func (d *DB) fold(from, to time.Time) (*kpi.Fold, error) {
	var h window.History
	if d.hist != nil {
		h = d.hist
	}
	stops, err := d.kpiStops(from, to)
	if err != nil {
		return nil, err
	}
	return window.Fold(d.p, h, from, to, window.Options{Now: d.now(), Stops: stops, Product: func(order string) *plant.Product {
		if o, err := d.Order(order); err == nil {
			return d.product(o.Product)
		}
		return nil
	}})
}

// set fills k's times and quantities.
func (k *KPI) set(t kpi.Times, q kpi.Quantities) {
	k.times, k.qty = t, q
	h := func(d time.Duration) float64 { return d.Hours() }
	k.POT, k.PBT, k.APT, k.AUST, k.ADET, k.ADOT, k.PDOT = h(t.POT()), h(t.PBT()), h(t.APT), h(t.AUST), h(t.ADET), h(t.ADOT), h(t.PDOT)
	k.Overtime, k.OffShift, k.Unobserved, k.Planned = h(t.Overtime), h(t.OffShift), h(t.Unobserved), h(q.Planned)
	k.PQ, k.GQ, k.SQ = q.PQ, q.GQ, q.SQ
	k.LossH = h(t.AUST + t.ADET + t.ADOT)
	k.EnergyKWh = q.EnergyKWh
}

// finish computes the ratios from the times and quantities.
func (k *KPI) finish(d *DB, oee bool) {
	if oee {
		f := kpi.Compute(k.times, k.qty)
		k.Availability, k.Effectiveness, k.QualityRate, k.OEE = kpi.Ptr(f.Availability), kpi.Ptr(f.Effectiveness), kpi.Ptr(f.QualityRate), kpi.Ptr(f.OEE)
		if k.ScrapRate == nil {
			k.ScrapRate = kpi.Ptr(f.ScrapRate)
		}
	}
	k.CO2Kg = kpi.CO2(k.EnergyKWh, d.p.Energy.Emission.Factor)
	k.KWhPerUnit = kpi.Ptr(kpi.PerUnit(k.EnergyKWh, k.Units))
	k.CO2PerUnit = kpi.Ptr(kpi.PerUnit(k.CO2Kg, k.Units))
	k.LabourPer = kpi.Ptr(kpi.PerUnit(k.LabourH, k.Units))
}

// KPIs computes the indicators asked for.
func (d *DB) KPIs(q KPIQuery) ([]KPI, error) {
	if q.By == "order" {
		return d.orderKPIs(q)
	}
	if q.To.IsZero() {
		q.To = d.now()
	}
	if q.From.IsZero() {
		q.From = window.Day(q.To, d.p.Location)
	}
	if !q.From.Before(q.To) {
		return nil, FieldErr("from", "must be before to")
	}
	switch q.By {
	case "station", "line":
		return d.windowKPIs(q, q.From, q.To)
	case "day":
		if q.To.Sub(q.From) > 92*24*time.Hour {
			return nil, FieldErr("from", "at most 92 days at a time")
		}
		var out []KPI
		day := window.Day(q.From, d.p.Location)
		for day.Before(q.To) {
			next := day.AddDate(0, 0, 1)
			ks, err := d.windowKPIs(KPIQuery{By: "day"}, maxTime(day, q.From), minTime(next, q.To))
			if err != nil {
				return nil, err
			}
			ks[0].Key = day.Format(time.DateOnly)
			out = append(out, ks[0])
			day = next
		}
		return out, nil
	}
	return nil, FieldErr("by", "want station, line, order or day, got %q", q.By)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Overview is the plant's figures and every station's over one window,
// from one pass over the history (the views' tiles and station panels).
func (d *DB) Overview(from, to time.Time) (plantRow KPI, stations []KPI, err error) {
	rows, err := d.groupKPIs(from, to, []string{"day", "station"}, KPIQuery{})
	if err != nil {
		return KPI{}, nil, err
	}
	return rows["day"][0], rows["station"], nil
}

func (d *DB) windowKPIs(q KPIQuery, from, to time.Time) ([]KPI, error) {
	rows, err := d.groupKPIs(from, to, []string{q.By}, q)
	if err != nil {
		return nil, err
	}
	return rows[q.By], nil
}

// groupKPIs computes the rows of each grouping in bys (station, line, or
// day: the whole plant) over [from, to).
func (d *DB) groupKPIs(from, to time.Time, bys []string, q KPIQuery) (map[string][]KPI, error) {
	f, err := d.fold(from, to)
	if err != nil {
		return nil, err
	}
	w := &kpiWindow{f: f, from: from, to: to, end: minTime(to, maxTime(from, d.now()))}
	// records in the window
	err = d.view(func(t *tx) (err error) {
		if w.insps, err = records[Inspection](t, "insp", t.During("x/time/insp/insp/", from, to)); err != nil {
			return err
		}
		w.insps = slices.DeleteFunc(w.insps, func(in Inspection) bool { return in.Reinspection })
		if w.done, err = records[Order](t, "order", t.During("x/time/done/order/", from, to)); err != nil {
			return err
		}
		w.counts, err = records[Count](t, "cnt", t.During("x/time/count/cnt/", from, to))
		return err
	})
	if err != nil {
		return nil, err
	}
	if w.labour, err = d.Labour(LabourFilter{From: from, To: to}); err != nil {
		return nil, err
	}
	out := map[string][]KPI{}
	for _, by := range bys {
		out[by] = d.rowsBy(w, by, q)
	}
	return out, nil
}

// kpiWindow is what the KPIs of a window are computed from: the machine
// time folded from the twin's history, and the records in the window.
type kpiWindow struct {
	f             *kpi.Fold
	from, to, end time.Time // end: to, or now when that is earlier
	insps         []Inspection
	done          []Order
	labour        []Labour
	counts        []Count
}

// rowsBy groups the machines' figures into one row per station, line or
// (for by=day or any other) the plant, narrowed by q's station or line.
func (d *DB) rowsBy(w *kpiWindow, by string, q KPIQuery) []KPI {
	key := func(u *plant.Unit) string {
		switch by {
		case "station":
			return u.ID()
		case "line":
			return kpi.LineOf(u)
		}
		return "plant"
	}
	rows := map[string]*KPI{}
	var order []string
	units := map[string]string{} // unit path → row key
	lastWC := map[string]*plant.WorkCenter{}
	for _, u := range d.p.Units {
		k := key(u)
		if k == "" || q.Station != "" && u.ID() != q.Station || q.Line != "" && kpi.LineOf(u) != q.Line {
			continue
		}
		units[u.Path()] = k
		r := rows[k]
		if r == nil {
			r = &KPI{By: by, Key: k, From: w.from, To: w.end}
			rows[k] = r
			order = append(order, k)
		}
		m := w.f.Machine(u.Path())
		t, qty := r.times, r.qty
		t.Add(m.Times())
		qty.Add(m.Quantities())
		r.times, r.qty = t, qty
		lastWC[k] = u.WorkCenter
		byR, unexplained := m.Losses()
		for _, x := range byR {
			r.losses = append(r.losses, x)
		}
		r.unexplained += unexplained
		switch by {
		case "station":
			r.Units = m.Quantities().GQ
		case "day":
			r.Units += w.f.Completed(u.Path())
		}
	}
	firsts := map[string]*kpi.Inspections{}
	for _, in := range w.insps {
		if k, ok := units[in.Station]; ok {
			if firsts[k] == nil {
				firsts[k] = &kpi.Inspections{}
			}
			firsts[k].Add(in.Pass)
		}
	}
	for _, c := range w.counts {
		if k, ok := units[c.Station]; ok {
			rows[k].scrap.Add(c.ScrapReason, float64(c.Scrap))
		}
	}
	for _, l := range w.labour {
		on, off := maxTime(l.On, w.from), minTime(l.Off, w.to)
		if k, ok := units[l.Station]; ok && off.After(on) {
			rows[k].LabourH += off.Sub(on).Hours()
		}
	}
	list := make([]KPI, 0, len(order))
	for _, k := range order {
		r := rows[k]
		if by == "line" {
			for _, u := range lastWC[k].Units {
				r.Units += w.f.Machine(u.Path()).Quantities().GQ
			}
		}
		if in := firsts[k]; in != nil {
			r.Inspected = in.First
			r.FPY = kpi.Ptr(in.FPY())
		}
		if by == "day" {
			var ot kpi.Orders
			for _, o := range w.done {
				ot.Add(o.Released, o.Due, o.Completed)
			}
			r.Orders = ot.Completed
			r.OnTime, r.LeadTimeH = kpi.Ptr(ot.OnTimeRate()), kpi.Ptr(ot.LeadTime())
		}
		r.Losses, r.UnexplainedH = reasonHours(r.losses), r.unexplained.Hours()
		for _, x := range r.scrap.List() {
			r.ScrapByReason = append(r.ScrapByReason, ReasonQty{Reason: x.Reason, Qty: x.Qty})
		}
		r.set(r.times, r.qty)
		r.finish(d, true)
		list = append(list, *r)
	}
	if by == "day" && len(list) == 0 {
		list = append(list, KPI{By: "day", From: w.from, To: w.end})
	}
	return list
}

// isLastOfFinal says whether o is the last operation of a final work order.
func (d *DB) isLastOfFinal(o Operation) bool {
	pr := d.product(o.Item)
	return pr != nil && pr.Routing != nil && len(pr.Routing.Ops) > 0 && pr.Routing.Ops[len(pr.Routing.Ops)-1].ID == o.Op &&
		strings.HasSuffix(o.WorkOrder, "-"+o.Item)
}

// orderKPIs computes an order's figures from its records: units, first
// pass yield, scrap, delivery, lead time, the energy the machines drew
// while its operations ran, labour.
func (d *DB) orderKPIs(q KPIQuery) ([]KPI, error) {
	var ids []string
	if q.Order != "" {
		ids = []string{q.Order}
	} else {
		d.view(func(t *tx) error {
			ids = t.During("x/time/done/order/", q.From, q.To)
			return nil
		})
	}
	out := []KPI{}
	for _, id := range ids {
		r, err := d.Records(id)
		if err != nil {
			return nil, err
		}
		k := KPI{By: "order", Key: id, From: r.Order.Released, To: r.Order.Completed}
		fp, scrapped := 0, 0
		for _, u := range r.Units {
			if u.FirstPass != nil {
				k.Inspected++
				if *u.FirstPass {
					fp++
				}
			}
			if u.Status == UnitScrapped {
				scrapped++
			}
		}
		k.FPY = kpi.Ptr(kpi.Ratio(float64(fp), float64(k.Inspected)))
		k.ScrapRate = kpi.Ptr(kpi.Ratio(float64(scrapped), float64(len(r.Units))))
		for _, o := range r.Operations {
			if o.Machine != nil {
				k.EnergyKWh += max(o.Machine.EnergyKWh, 0)
			}
			k.GQ += float64(o.Good)
			k.SQ += float64(o.Scrap)
			if d.isLastOfFinal(o) {
				k.Units += float64(o.Good) // make-ups included
			}
		}
		k.PQ = k.GQ + k.SQ
		var sc kpi.Scrap
		for _, c := range r.Counts {
			sc.Add(c.ScrapReason, float64(c.Scrap))
		}
		for _, x := range sc.List() {
			k.ScrapByReason = append(k.ScrapByReason, ReasonQty{Reason: x.Reason, Qty: x.Qty})
		}
		for _, l := range r.Labour {
			k.LabourH += l.Hours
		}
		if r.Order.Status == StatusCompleted {
			var ot kpi.Orders
			ot.Add(r.Order.Released, r.Order.Due, r.Order.Completed)
			k.Orders = ot.Completed
			k.OnTime, k.LeadTimeH = kpi.Ptr(ot.OnTimeRate()), kpi.Ptr(ot.LeadTime())
		}
		k.finish(d, false)
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// reasonHours sums times by reason, largest first.
func reasonHours(ts []kpi.ReasonTime) []ReasonTime {
	sum := map[string]time.Duration{}
	for _, x := range ts {
		sum[x.Reason] += x.Time
	}
	out := make([]ReasonTime, 0, len(sum))
	for r, d := range sum {
		out = append(out, ReasonTime{Reason: r, Hours: d.Hours()})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Hours > out[j].Hours || out[i].Hours == out[j].Hours && out[i].Reason < out[j].Reason
	})
	return out
}
