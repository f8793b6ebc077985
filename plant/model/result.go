package model

import (
	"math"
	"sort"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/kpi"
	"twin/sim"
)

// runStats are the plant-wide counts of the statistics window.
type runStats struct {
	produced          int64 // finished products
	scrapped          int64 // parts and products scrapped
	failures          int64
	maintenance       int64
	inspections       int64
	failedInspections int64
	concessions       int64           // failed parts accepted past their rework limit
	orders            kpi.Orders      // completed in the window: on time, lead time
	firstPass         kpi.Inspections // first inspections of units and their passes
	tardiness         sim.Tally       // hours late (0 if on time)
	flow              sim.Tally       // product unit flow time, hours
}

func (s *runStats) reset() { *s = runStats{} }

// Result holds the key performance indicators of a run's statistics
// window.
//
// Stations, work centres and the plant follow ISO 22400-2's time model as
// the one KPI engine computes it for the twin (package plant/kpi): planned
// busy time from the calendar, availability APT / PBT, effectiveness PRU
// × PQ / APT with each part's planned time pro-rated to the window,
// quality GQ / PQ, OEE = A × E × Q; a work centre's and the plant's
// figures are those of the sums of their machines' times and quantities.
// Utilisation = (APT + AUST) / PBT. Orders count when completed in the
// window, on time when completed by their due date.
type Result struct {
	Hours float64 // length of the statistics window

	Produced   int64   // finished products
	Scrapped   int64   // parts and products scrapped
	Throughput float64 // finished products per day (24 h)

	Orders      int64   // orders completed in the window
	OpenOrders  int     // orders not completed at the end
	OnTime      float64 // fraction of those delivered by their due date
	Tardiness   float64 // mean hours late (on-time orders count 0)
	LeadTime    float64 // mean order lead time, hours
	LeadTimeP95 float64 // 95th percentile, hours
	FlowTime    float64 // mean time a product unit spends from launch to finish, hours
	WIP         float64 // time-average jobs on the floor

	Inspections       int64
	FailedInspections int64
	Concessions       int64   // failed parts accepted by a concession past their rework limit
	FPY               float64 // first-pass yield of the units first inspected in the window
	Failures          int64
	Maintenance       int64

	// The plant's ISO 22400 figures: its machines' times and quantities
	// summed.
	Availability  float64
	Effectiveness float64
	Quality       float64
	OEE           float64
	Times         kpi.Times
	Quantities    kpi.Quantities

	EnergyKWh    float64
	EnergyCost   float64 // in the plant currency
	CO2Kg        float64 // EnergyKWh × the emission factor
	EnergyByBand map[string]float64

	Stations    []Station
	WorkCenters []WorkCenter
	Bottleneck  string // the work centre with the highest utilisation

	Events uint64 // kernel events dispatched in the whole run
}

// Station is the result of one machine.
type Station struct {
	Path          string
	WorkCenter    string
	StateHours    map[string]float64
	Times         kpi.Times
	Quantities    kpi.Quantities
	Utilisation   float64
	Availability  float64
	Effectiveness float64
	Quality       float64
	OEE           float64
	Produced      int64
	Good          int64
	Reject        int64
	EnergyKWh     float64
}

// WorkCenter is the result of a group of machines.
type WorkCenter struct {
	ID          string
	Utilisation float64 // mean of its machines
	OEE         float64 // of its machines' times and quantities summed
	Queue       float64 // time-average jobs in its buffer
}

// Result computes the indicators of the window so far.
func (m *Model) Result() *Result {
	now := m.env.Now()
	m.energy.accumulate(now)
	span := now - m.statFrom
	r := &Result{
		Hours:             span.Hours(),
		Produced:          m.stats.produced,
		Scrapped:          m.stats.scrapped,
		Orders:            int64(m.stats.orders.Completed),
		OpenOrders:        m.open,
		OnTime:            m.stats.orders.OnTimeRate(),
		Tardiness:         m.stats.tardiness.Mean(),
		LeadTime:          m.stats.orders.LeadTime(),
		LeadTimeP95:       m.stats.orders.LeadTimeQuantile(0.95),
		FlowTime:          m.stats.flow.Mean(),
		WIP:               m.wip.Mean(now),
		Inspections:       m.stats.inspections,
		FailedInspections: m.stats.failedInspections,
		Concessions:       m.stats.concessions,
		FPY:               m.stats.firstPass.FPY(),
		Failures:          m.stats.failures,
		Maintenance:       m.stats.maintenance,
		EnergyKWh:         m.energy.kwh,
		EnergyCost:        m.energy.cost,
		CO2Kg:             kpi.CO2(m.energy.kwh, m.p.Energy.Emission.Factor),
		EnergyByBand:      map[string]float64{},
		Events:            m.env.Fired(),
	}
	for k, v := range m.energy.byBand {
		if k != "" {
			r.EnergyByBand[k] = v
		}
	}
	if span > 0 {
		r.Throughput = float64(r.Produced) / span.Hours() * 24
	}
	for _, w := range m.wcs {
		wr := WorkCenter{ID: w.p.ID(), Queue: w.queueLen.Mean(now)}
		var t kpi.Times
		var q kpi.Quantities
		for _, u := range w.units {
			s := u.result(now)
			r.Stations = append(r.Stations, s)
			wr.Utilisation += s.Utilisation / float64(len(w.units))
			t.Add(s.Times)
			q.Add(s.Quantities)
		}
		wr.OEE = zeroNaN(kpi.Compute(t, q).OEE)
		r.Times.Add(t)
		r.Quantities.Add(q)
		r.WorkCenters = append(r.WorkCenters, wr)
	}
	f := kpi.Compute(r.Times, r.Quantities)
	r.Availability, r.Effectiveness, r.Quality, r.OEE = f.Availability, f.Effectiveness, f.QualityRate, f.OEE
	best := -1.0
	for _, w := range r.WorkCenters {
		if w.Utilisation > best {
			best, r.Bottleneck = w.Utilisation, w.ID
		}
	}
	return r
}

// result computes a machine's indicators at now. A run under way counts
// the share of its planned time done so far (its end is known here: the
// timer's, or what is left of a paused run).
func (u *unit) result(now sim.Time) Station {
	st := u.stateTime
	st[u.state] += now - u.since
	energy := u.energy + u.power[u.state]*(now-u.since).Hours()
	k := u.kpi // a copy: the run goes on
	k.Close(int64(now))
	if u.phase == phRun && len(u.jobs) > 0 { // running, or paused (a failure, the end of a shift)
		left := u.remaining
		if u.timer.Pending() {
			left = u.timer.When() - now
		}
		var planned time.Duration
		for _, j := range u.jobs {
			_, d := j.step()
			planned += kpi.PerUnitTime(d, u.wc.p)
		}
		k.Pending(time.Duration(left), planned)
	}
	s := Station{
		Path:       u.path,
		WorkCenter: u.wc.p.ID(),
		StateHours: map[string]float64{},
		Times:      k.Times(),
		Quantities: k.Quantities(),
		Produced:   u.produced,
		Good:       u.good,
		Reject:     u.reject,
		EnergyKWh:  energy,
	}
	s.Quantities.EnergyKWh = energy
	for i, t := range st {
		if t > 0 {
			s.StateHours[event.MachineState(i).String()] = t.Hours()
		}
	}
	f := kpi.Compute(s.Times, s.Quantities)
	s.Availability, s.Effectiveness, s.Quality, s.OEE = zeroNaN(f.Availability), zeroNaN(f.Effectiveness), zeroNaN(f.QualityRate), zeroNaN(f.OEE)
	if pbt := s.Times.PBT(); pbt > 0 {
		s.Utilisation = float64(s.Times.APT+s.Times.AUST) / float64(pbt)
	}
	return s
}

// zeroNaN is x, or 0 when x is not defined (a machine that never worked
// has no availability): the results' tables average numbers.
func zeroNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// Metric is one named number of a result, for tables and for aggregating
// replications.
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// Metrics flattens the result into named numbers, plant-wide first, then
// per work centre and per machine, in a stable order.
func (r *Result) Metrics() []Metric {
	ms := []Metric{
		{"throughput", "units/day", r.Throughput},
		{"produced", "units", float64(r.Produced)},
		{"scrapped", "units", float64(r.Scrapped)},
		{"concessions", "units", float64(r.Concessions)},
		{"orders_completed", "orders", float64(r.Orders)},
		{"on_time", "fraction", r.OnTime},
		{"tardiness_mean", "h", r.Tardiness},
		{"lead_time_mean", "h", r.LeadTime},
		{"lead_time_p95", "h", r.LeadTimeP95},
		{"flow_time_mean", "h", r.FlowTime},
		{"wip", "jobs", r.WIP},
		{"open_orders", "orders", float64(r.OpenOrders)},
		{"energy", "kWh", r.EnergyKWh},
		{"energy_cost", "currency", r.EnergyCost},
		{"co2", "kg", r.CO2Kg},
		{"energy_per_unit", "kWh/unit", perUnit(r.EnergyKWh, r.Produced)},
		{"energy_cost_per_unit", "currency/unit", perUnit(r.EnergyCost, r.Produced)},
		{"co2_per_unit", "kg/unit", perUnit(r.CO2Kg, r.Produced)},
		{"oee", "fraction", r.OEE},
		{"availability", "fraction", r.Availability},
		{"effectiveness", "fraction", r.Effectiveness},
		{"quality_rate", "fraction", r.Quality},
		{"fpy", "fraction", r.FPY},
		{"failures", "count", float64(r.Failures)},
		{"inspections_per_good", "ratio", perUnit(float64(r.Inspections), r.Inspections-r.FailedInspections)},
	}
	bands := make([]string, 0, len(r.EnergyByBand))
	for b := range r.EnergyByBand {
		bands = append(bands, b)
	}
	sort.Strings(bands)
	for _, b := range bands {
		ms = append(ms, Metric{"energy/" + b, "kWh", r.EnergyByBand[b]})
	}
	for _, w := range r.WorkCenters {
		ms = append(ms,
			Metric{"utilisation/" + w.ID, "fraction", w.Utilisation},
			Metric{"oee/" + w.ID, "fraction", w.OEE},
			Metric{"queue/" + w.ID, "jobs", w.Queue},
		)
	}
	for _, s := range r.Stations {
		ms = append(ms,
			Metric{"utilisation/" + s.Path, "fraction", s.Utilisation},
			Metric{"oee/" + s.Path, "fraction", s.OEE},
			Metric{"availability/" + s.Path, "fraction", s.Availability},
			Metric{"effectiveness/" + s.Path, "fraction", s.Effectiveness},
			Metric{"quality/" + s.Path, "fraction", s.Quality},
			Metric{"energy/" + s.Path, "kWh", s.EnergyKWh},
		)
	}
	return ms
}

func perUnit(x float64, n int64) float64 { return kpi.PerUnit(x, float64(n)) }

// MetricNames lists the names Result.Metrics gives for a run of plant p,
// in the same order, without running it: what a scenario may ask to
// report.
func MetricNames(p *plant.Plant) []string {
	r := &Result{EnergyByBand: map[string]float64{}}
	for _, b := range p.Energy.Tariff.Periods {
		r.EnergyByBand[b.Name] = 0
	}
	for _, w := range p.WorkCenters {
		r.WorkCenters = append(r.WorkCenters, WorkCenter{ID: w.ID()})
		for _, u := range w.Units {
			r.Stations = append(r.Stations, Station{Path: u.Path()})
		}
	}
	ms := r.Metrics()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}
