package mes

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/event"
)

// KPI is one row of key performance indicators after ISO 22400-2. Times
// are hours. The time model (README.md, "KPIs") maps the twin's machine
// states onto ISO 22400's times:
//
//	PBT  planned busy time     = every state but off (no shift) and maintenance (planned downtime, PDOT)
//	APT  actual production time = running
//	ASUT actual setup time      = setup
//	ADOT actual unit down time  = down (failures)
//	ADET actual unit delay time = idle, starved, blocked, unknown
//
// and PQ (produced) = good + reject counted by the machine, GQ = good,
// SQ = reject; PRI (planned run time per item) is the routing's mean
// time, weighted by the operations confirmed at the machine in the window.
//
//	Availability  = APT / PBT
//	Effectiveness = PRI × PQ / APT
//	Quality rate  = GQ / PQ
//	OEE           = Availability × Effectiveness × Quality rate
//
// Ratios that do not apply (no planned time, no production) are omitted.
type KPI struct {
	By   string    `json:"by" enum:"station,line,order,day"`
	Key  string    `json:"key" doc:"station id, line id, order id or plant-local date"`
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`

	PBT  float64 `json:"pbt_h"`
	APT  float64 `json:"apt_h"`
	ASUT float64 `json:"asut_h"`
	ADOT float64 `json:"adot_h"`
	ADET float64 `json:"adet_h"`
	PDOT float64 `json:"pdot_h"`
	PQ   float64 `json:"pq"`
	GQ   float64 `json:"gq"`
	SQ   float64 `json:"sq"`

	Availability  *float64 `json:"availability,omitempty"`
	Effectiveness *float64 `json:"effectiveness,omitempty"`
	QualityRate   *float64 `json:"quality_rate,omitempty"`
	OEE           *float64 `json:"oee,omitempty"`

	Inspected int      `json:"inspected" doc:"units inspected the first time"`
	FPY       *float64 `json:"fpy,omitempty" doc:"first-pass yield: units passing their first inspection / units inspected"`
	ScrapRate *float64 `json:"scrap_rate,omitempty" doc:"SQ / PQ (stations, lines, days); scrapped units / units (orders)"`

	Units      float64  `json:"units" doc:"finished good units the per-unit figures divide by"`
	Orders     int      `json:"orders_completed"`
	OnTime     *float64 `json:"on_time,omitempty" doc:"orders completed by their due date / orders completed"`
	LeadTimeH  *float64 `json:"lead_time_h,omitempty" doc:"mean release → completion"`
	EnergyKWh  float64  `json:"energy_kwh"`
	CO2Kg      float64  `json:"co2_kg" doc:"energy × the plant's grid emission factor"`
	KWhPerUnit *float64 `json:"kwh_per_unit,omitempty"`
	CO2PerUnit *float64 `json:"co2_kg_per_unit,omitempty"`
	LabourH    float64  `json:"labour_h"`
	LabourPer  *float64 `json:"labour_h_per_unit,omitempty"`
}

// KPIQuery asks for KPIs.
type KPIQuery struct {
	By       string    // station, line, order, day
	From, To time.Time // the window (stations, lines, days); orders: completed in it
	Station  string    // narrow to one station (id)
	Line     string
	Order    string
}

// machine accumulates one machine's times and counters over a window.
// Counters are cumulative: the window counts their increases between
// observations (a counter that goes down was reset and counts from 0), so
// a machine first seen in the window contributes nothing for the parts it
// had made before.
type machine struct {
	dur           [9]float64 // seconds by state
	state         event.MachineState
	last          int64
	seen          bool
	good, rej     counter
	kwh           counter
	kw            float64 // power, for machines without an energy meter
	kwhIntegrated float64
	finished      [][2]string // operations finished on it (op, order), when the twin is told
}

type counter struct {
	known bool
	last  float64
	sum   float64
}

func (c *counter) observe(v float64) {
	if c.known {
		if d := v - c.last; d >= 0 {
			c.sum += d
		} else {
			c.sum += v // reset
		}
	}
	c.known, c.last = true, v
}

// machines reads the twin's history over [from, to): the state at from,
// then every event up to to.
func (d *DB) machines(from, to time.Time) (map[string]*machine, error) {
	out := map[string]*machine{}
	for _, u := range d.p.Units {
		out[u.Path()] = &machine{last: from.UnixNano()}
	}
	if d.hist == nil {
		return out, nil
	}
	st, err := d.hist.StateAt(from.UnixNano() - 1)
	if err != nil {
		return nil, err
	}
	for p, m := range out {
		if a := st.Asset(p); a != nil {
			m.seen = true
			m.state = a.State
			if v, ok := a.Counters["good"]; ok {
				m.good.observe(v)
			}
			if v, ok := a.Counters["reject"]; ok {
				m.rej.observe(v)
			}
			if v, ok := a.Measures["energy_kwh"]; ok {
				m.kwh.observe(v)
			}
			m.kw = a.Measures["power_kw"]
		}
	}
	advance := func(m *machine, t int64) {
		if t > m.last {
			dt := float64(t-m.last) / 1e9
			if int(m.state) < len(m.dur) {
				m.dur[m.state] += dt
			}
			m.kwhIntegrated += m.kw * dt / 3600
			m.last = t
		}
	}
	err = d.hist.Range(from.UnixNano(), to.UnixNano()-1, func(e event.Event) error {
		m := out[e.Asset]
		if m == nil {
			return nil
		}
		advance(m, e.Time)
		m.seen = true
		switch e.Kind {
		case event.State:
			m.state = event.MachineState(e.Value)
		case event.OpFinished:
			if i := strings.IndexByte(e.Ref, '/'); i > 0 {
				m.finished = append(m.finished, [2]string{e.Name, e.Ref[:i]})
			}
		case event.Counter:
			switch e.Name {
			case "good":
				m.good.observe(e.Value)
			case "reject":
				m.rej.observe(e.Value)
			}
		case event.Measure:
			switch e.Name {
			case "energy_kwh":
				m.kwh.observe(e.Value)
			case "power_kw":
				m.kw = e.Value
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	end := to.UnixNano()
	if _, last, ok, _ := d.hist.Bounds(); ok && last+1 < end {
		end = last + 1 // the future has no states yet
	}
	for _, m := range out {
		if m.seen {
			advance(m, end)
		}
	}
	return out, nil
}

// add folds a machine's window into k.
func (k *KPI) add(m *machine) {
	h := func(s event.MachineState) float64 { return m.dur[s] / 3600 }
	k.APT += h(event.Running)
	k.ASUT += h(event.Setup)
	k.ADOT += h(event.Down)
	k.PDOT += h(event.Maintenance)
	k.ADET += h(event.Idle) + h(event.Starved) + h(event.Blocked) + h(event.Unknown)
	k.PBT += h(event.Running) + h(event.Setup) + h(event.Down) + h(event.Idle) + h(event.Starved) + h(event.Blocked) + h(event.Unknown)
	gq, sq := m.good.sum, m.rej.sum
	k.GQ += gq
	k.SQ += sq
	k.PQ += gq + sq
	if m.kwh.known {
		k.EnergyKWh += m.kwh.sum
	} else {
		k.EnergyKWh += m.kwhIntegrated
	}
}

func ratio(a, b float64) *float64 {
	if !(b > 0) {
		return nil
	}
	r := math.Round(a/b*10000) / 10000
	return &r
}

// finish computes the ratios; priXpq is PRI × PQ in hours.
func (k *KPI) finish(d *DB, priXpq float64, oee bool) {
	if oee {
		k.Availability = ratio(k.APT, k.PBT)
		k.Effectiveness = ratio(priXpq, k.APT)
		k.QualityRate = ratio(k.GQ, k.PQ)
		if k.Availability != nil && k.Effectiveness != nil && k.QualityRate != nil {
			v := math.Round(*k.Availability**k.Effectiveness**k.QualityRate*10000) / 10000
			k.OEE = &v
		}
		if k.ScrapRate == nil {
			k.ScrapRate = ratio(k.SQ, k.PQ)
		}
	}
	k.CO2Kg = k.EnergyKWh * d.p.Energy.Emission.Factor
	k.KWhPerUnit = ratio(k.EnergyKWh, k.Units)
	k.CO2PerUnit = ratio(k.CO2Kg, k.Units)
	k.LabourPer = ratio(k.LabourH, k.Units)
	for _, p := range []*float64{&k.PBT, &k.APT, &k.ASUT, &k.ADOT, &k.ADET, &k.PDOT, &k.EnergyKWh, &k.CO2Kg, &k.LabourH} {
		*p = math.Round(*p*10000) / 10000
	}
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
		l := q.To.In(d.p.Location)
		q.From = time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, d.p.Location)
	}
	if !q.From.Before(q.To) {
		return nil, fieldErr("from", "must be before to")
	}
	switch q.By {
	case "station", "line":
		return d.windowKPIs(q, q.From, q.To)
	case "day":
		if q.To.Sub(q.From) > 92*24*time.Hour {
			return nil, fieldErr("from", "at most 92 days at a time")
		}
		var out []KPI
		l := q.From.In(d.p.Location)
		day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, d.p.Location)
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
	return nil, fieldErr("by", "want station, line, order or day, got %q", q.By)
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

// lineOf returns the id of the production line a unit belongs to.
func lineOf(u *plant.Unit) string {
	for n := u.Node; n != nil; n = n.Parent {
		if n.Level == plant.LineLevel {
			return n.ID
		}
	}
	return ""
}

func (d *DB) windowKPIs(q KPIQuery, from, to time.Time) ([]KPI, error) {
	ms, err := d.machines(from, to)
	if err != nil {
		return nil, err
	}
	// records in the window
	var ops []Operation
	var insps []Inspection
	var done []Order
	err = d.view(func(t *tx) (err error) {
		if ops, err = records[Operation](t, "op", t.during("x/time/confirm/op/", from, to)); err != nil {
			return err
		}
		if insps, err = records[Inspection](t, "insp", t.during("x/time/insp/insp/", from, to)); err != nil {
			return err
		}
		insps = slices.DeleteFunc(insps, func(in Inspection) bool { return in.Reinspection })
		done, err = records[Order](t, "order", t.during("x/time/done/order/", from, to))
		return err
	})
	if err != nil {
		return nil, err
	}
	labour, err := d.Labour(LabourFilter{From: from, To: to})
	if err != nil {
		return nil, err
	}
	// group the machines
	key := func(u *plant.Unit) string {
		switch q.By {
		case "station":
			return u.ID()
		case "line":
			return lineOf(u)
		}
		return "plant"
	}
	products := map[string]*plant.Product{} // order → product, read as needed
	rows := map[string]*KPI{}
	var order []string
	pri := map[string]float64{} // key → Σ PRI × PQ, hours
	units := map[string]string{}
	lastWC := map[string]*plant.WorkCenter{} // line → its last work centre (finished units)
	for _, u := range d.p.Units {
		k := key(u)
		if k == "" || q.Station != "" && u.ID() != q.Station || q.Line != "" && lineOf(u) != q.Line {
			continue
		}
		units[u.Path()] = k
		r := rows[k]
		if r == nil {
			r = &KPI{By: q.By, Key: k, From: from, To: to}
			rows[k] = r
			order = append(order, k)
		}
		m := ms[u.Path()]
		r.add(m)
		if len(m.finished) > 0 { // each part's planned time, by its product
			pri[k] += d.priFinished(u, m.finished, products) / 3600
		} else {
			pq := m.good.sum + m.rej.sum
			pri[k] += d.pri(u, ops) * pq / 3600
		}
		lastWC[k] = u.WorkCenter
	}
	for _, in := range insps {
		if r := rows[units[in.Station]]; r != nil {
			r.Inspected++
			if in.Pass {
				r.Units++ // reused below as a counter of first passes
			}
		}
	}
	for _, r := range rows {
		if r.Inspected > 0 {
			r.FPY = ratio(r.Units, float64(r.Inspected))
		}
		r.Units = 0
	}
	for _, l := range labour {
		on, off := maxTime(l.On, from), minTime(l.Off, to)
		if r := rows[units[l.Station]]; r != nil && off.After(on) {
			r.LabourH += off.Sub(on).Hours()
		}
	}
	for _, k := range order {
		r := rows[k]
		switch q.By {
		case "station":
			r.Units = r.GQ
		case "line":
			for _, u := range lastWC[k].Units {
				r.Units += ms[u.Path()].good.sum
			}
		default: // the plant on a day: finished products confirmed that day
			for _, o := range ops {
				if d.isLastOfFinal(o) {
					r.Units += float64(o.Good)
				}
			}
			onTime := 0
			var lead float64
			for _, o := range done {
				if !o.Completed.After(o.Due) {
					onTime++
				}
				lead += o.Completed.Sub(o.Released).Hours()
			}
			r.Orders = len(done)
			if len(done) > 0 {
				r.OnTime = ratio(float64(onTime), float64(len(done)))
				r.LeadTimeH = ratio(lead, float64(len(done)))
			}
		}
		r.finish(d, pri[k], true)
	}
	out := make([]KPI, 0, len(order))
	for _, k := range order {
		out = append(out, *rows[k])
	}
	if q.By == "day" && len(out) == 0 {
		out = append(out, KPI{By: "day", From: from, To: to})
	}
	return out, nil
}

// pri is the planned run time per item at machine u (seconds): the mean
// of the confirmed operations' planned times there, weighted by quantity;
// without any, the mean over the plant's families of the routing times
// at its work centre.
func (d *DB) pri(u *plant.Unit, ops []Operation) float64 {
	var sum, n float64
	for _, o := range ops {
		if o.Station == u.Path() && o.PlannedSeconds > 0 {
			q := float64(o.Good + o.Scrap)
			sum += o.PlannedSeconds * q
			n += q
		}
	}
	if n > 0 {
		return sum / n
	}
	for _, r := range d.p.Routings {
		for _, op := range r.Ops {
			for _, a := range op.Alternatives {
				if a.WorkCenter != u.WorkCenter {
					continue
				}
				fams := d.p.Families
				if len(fams) == 0 {
					fams = []string{""}
				}
				for _, f := range fams {
					if t := a.Time.For(f); t != nil {
						s := t.Mean()
						if b := a.WorkCenter.Batch; b != nil && b.Max > 1 {
							s /= float64(b.Max)
						}
						sum += s
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// priFinished is the planned run time of the parts finished on machine u
// (seconds): each at its operation's mean time for its order's product.
func (d *DB) priFinished(u *plant.Unit, fin [][2]string, products map[string]*plant.Product) float64 {
	var sum float64
	for _, f := range fin {
		pr, ok := products[f[1]]
		if !ok {
			if o, err := d.Order(f[1]); err == nil {
				pr = d.product(o.Product)
			}
			products[f[1]] = pr
		}
		if pr == nil {
			sum += d.pri(u, nil)
			continue
		}
		sum += d.opTime(u, f[0], pr)
	}
	return sum
}

// opTime is the mean time per part of operation op for product pr at
// machine u's work centre (a batch's cycle shared by its capacity).
func (d *DB) opTime(u *plant.Unit, op string, pr *plant.Product) float64 {
	for _, r := range d.p.Routings {
		for _, o := range r.Ops {
			if o.ID != op {
				continue
			}
			for _, a := range o.Alternatives {
				if a.WorkCenter != u.WorkCenter {
					continue
				}
				if t := a.Time.ForProduct(pr.ID, pr.Family); t != nil {
					s := t.Mean()
					if b := a.WorkCenter.Batch; b != nil && b.Max > 1 {
						s /= float64(b.Max)
					}
					return s
				}
			}
		}
	}
	return d.pri(u, nil)
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
			ids = t.during("x/time/done/order/", q.From, q.To)
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
		if k.Inspected > 0 {
			k.FPY = ratio(float64(fp), float64(k.Inspected))
		}
		k.ScrapRate = ratio(float64(scrapped), float64(len(r.Units)))
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
		for _, l := range r.Labour {
			k.LabourH += l.Hours
		}
		if r.Order.Status == StatusCompleted {
			k.Orders = 1
			on := 0.0
			if !r.Order.Completed.After(r.Order.Due) {
				on = 1
			}
			k.OnTime = &on
			k.LeadTimeH = ratio(r.Order.Completed.Sub(r.Order.Released).Hours(), 1)
		}
		k.finish(d, 0, false)
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
