package model

import (
	"math"
	"sort"

	"twin/plant/event"
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
	orders            int64 // completed orders released in the window
	onTime            int64
	lead              sim.Tally // order lead time, hours
	leadHist          sim.Histogram
	tardiness         sim.Tally // hours late (0 if on time)
	flow              sim.Tally // product unit flow time, hours
}

func (s *runStats) reset() { *s = runStats{} }

// Result holds the key performance indicators of a run's statistics
// window.
//
// Stations follow ISO 22400-2's time model. Planned operation time (POT)
// is the time the machine's calendar is on; planned busy time PBT = POT −
// planned maintenance; actual production time APT is time running; actual
// setup time AUST is time changing over; delays (failures) count against
// availability. Then Availability = APT / PBT, Effectiveness = PRU × PQ /
// APT (PRU: the mean processing time of what was produced), Quality = GQ /
// PQ, OEE = A × E × Q, and Utilisation = (APT + AUST) / PBT.
type Result struct {
	Hours float64 // length of the statistics window

	Produced   int64   // finished products
	Scrapped   int64   // parts and products scrapped
	Throughput float64 // finished products per day (24 h)

	Orders      int64   // orders released in the window and completed
	OpenOrders  int     // orders not completed at the end
	OnTime      float64 // fraction of those delivered by their due date
	Tardiness   float64 // mean hours late (on-time orders count 0)
	LeadTime    float64 // mean order lead time, hours
	LeadTimeP95 float64 // 95th percentile, hours
	FlowTime    float64 // mean time a product unit spends from launch to finish, hours
	WIP         float64 // time-average jobs on the floor

	Inspections       int64
	FailedInspections int64
	Failures          int64
	Maintenance       int64

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
	OEE         float64 // mean of its machines
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
		Orders:            m.stats.orders,
		OpenOrders:        m.open,
		Tardiness:         m.stats.tardiness.Mean(),
		LeadTime:          m.stats.lead.Mean(),
		LeadTimeP95:       m.stats.leadHist.Quantile(0.95),
		FlowTime:          m.stats.flow.Mean(),
		WIP:               m.wip.Mean(now),
		Inspections:       m.stats.inspections,
		FailedInspections: m.stats.failedInspections,
		Failures:          m.stats.failures,
		Maintenance:       m.stats.maintenance,
		EnergyKWh:         m.energy.kwh,
		EnergyCost:        m.energy.cost,
		CO2Kg:             m.energy.kwh * m.p.Energy.Emission.Factor,
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
	if r.Orders > 0 {
		r.OnTime = float64(m.stats.onTime) / float64(r.Orders)
	} else {
		r.OnTime = math.NaN()
	}
	for _, w := range m.wcs {
		wr := WorkCenter{ID: w.p.ID(), Queue: w.queueLen.Mean(now)}
		for _, u := range w.units {
			s := u.result(now)
			r.Stations = append(r.Stations, s)
			wr.Utilisation += s.Utilisation / float64(len(w.units))
			wr.OEE += s.OEE / float64(len(w.units))
		}
		r.WorkCenters = append(r.WorkCenters, wr)
	}
	best := -1.0
	for _, w := range r.WorkCenters {
		if w.Utilisation > best {
			best, r.Bottleneck = w.Utilisation, w.ID
		}
	}
	return r
}

// result computes a machine's indicators at now.
func (u *unit) result(now sim.Time) Station {
	st := u.stateTime
	st[u.state] += now - u.since
	energy := u.energy + u.power[u.state]*(now-u.since).Hours()
	s := Station{
		Path:       u.path,
		WorkCenter: u.wc.p.ID(),
		StateHours: map[string]float64{},
		Produced:   u.produced,
		Good:       u.good,
		Reject:     u.reject,
		EnergyKWh:  energy,
	}
	total := sim.Time(0)
	for i, t := range st {
		total += t
		if t > 0 {
			s.StateHours[event.MachineState(i).String()] = t.Hours()
		}
	}
	pot := total - st[event.Off] - st[event.Unknown]
	pbt := pot - st[event.Maintenance]
	apt := st[event.Running]
	if pbt > 0 {
		s.Availability = apt.Seconds() / pbt.Seconds()
		s.Utilisation = (apt + st[event.Setup]).Seconds() / pbt.Seconds()
	}
	if apt > 0 {
		s.Effectiveness = u.planned / apt.Seconds()
	}
	if u.produced > 0 {
		s.Quality = float64(u.good) / float64(u.produced)
	}
	s.OEE = s.Availability * s.Effectiveness * s.Quality
	return s
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

func perUnit(x float64, n int64) float64 {
	if n <= 0 {
		return math.NaN()
	}
	return x / float64(n)
}
