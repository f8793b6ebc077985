package kpi

import (
	"math"
	"sort"
	"time"
)

// Figures are the ratios of a window. A ratio that is not defined (its
// denominator is zero: no planned time, nothing produced, no run) is NaN.
type Figures struct {
	Availability          float64 // APT / PBT
	Effectiveness         float64 // PRU × PQ / APT
	QualityRate           float64 // GQ / PQ
	OEE                   float64 // Availability × Effectiveness × QualityRate
	SetupRate             float64 // AUST / (APT + AUST)
	TechnicalEfficiency   float64 // APT / (APT + ADET)
	UtilisationEfficiency float64 // APT / AUBT
	ScrapRate             float64 // SQ / PQ
}

// Ratio is a / b, or NaN when b is not positive.
func Ratio(a, b float64) float64 {
	if !(b > 0) {
		return math.NaN()
	}
	return a / b
}

func dratio(a, b time.Duration) float64 { return Ratio(float64(a), float64(b)) }

// Compute returns the figures of times t and quantities q.
func Compute(t Times, q Quantities) Figures {
	f := Figures{
		Availability:          dratio(t.APT, t.PBT()),
		Effectiveness:         dratio(q.Planned, t.APT),
		QualityRate:           Ratio(q.GQ, q.PQ),
		SetupRate:             dratio(t.AUST, t.APT+t.AUST),
		TechnicalEfficiency:   dratio(t.APT, t.APT+t.ADET),
		UtilisationEfficiency: dratio(t.APT, t.AUBT()),
		ScrapRate:             Ratio(q.SQ, q.PQ),
	}
	f.OEE = f.Availability * f.Effectiveness * f.QualityRate
	return f
}

// Ptr returns &x, or nil when x is NaN: for JSON, where an undefined
// ratio is left out.
func Ptr(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// PerUnit divides a total (kWh, kg CO2, labour hours) by the units
// completed in the window; NaN when none were.
func PerUnit(total, units float64) float64 { return Ratio(total, units) }

// CO2 is the emissions of kwh at the grid's emission factor (kg CO2 per
// kWh, GHG Protocol scope 2).
func CO2(kwh, factor float64) float64 { return kwh * factor }

// Inspections tallies first-pass yield: units inspected for the first
// time in the window, and those of them that passed that first time.
type Inspections struct {
	First, Passed int
}

// Add counts a unit's first inspection.
func (i *Inspections) Add(pass bool) {
	i.First++
	if pass {
		i.Passed++
	}
}

// FPY is the first-pass yield: passed the first time / inspected.
func (i Inspections) FPY() float64 { return Ratio(float64(i.Passed), float64(i.First)) }

// Orders tallies the orders completed in a window: an order is on time
// when it was completed by its due date, and its lead time runs from its
// release to its completion.
type Orders struct {
	Completed, OnTime int
	lead              []float64 // hours, in completion order
	sum               float64
}

// Add counts an order completed at completed, released at released, due
// at due (a zero due date is never late).
func (o *Orders) Add(released, due, completed time.Time) {
	o.Completed++
	if due.IsZero() || !completed.After(due) {
		o.OnTime++
	}
	h := completed.Sub(released).Hours()
	o.lead = append(o.lead, h)
	o.sum += h
}

// AddHours is Add with times given as a lead time and a lateness in
// hours (the simulator's clock): on time when late ≤ 0.
func (o *Orders) AddHours(lead, late float64) {
	o.Completed++
	if late <= 0 {
		o.OnTime++
	}
	o.lead = append(o.lead, lead)
	o.sum += lead
}

// OnTimeRate is the share of completed orders that were on time.
func (o Orders) OnTimeRate() float64 { return Ratio(float64(o.OnTime), float64(o.Completed)) }

// LeadTime is the mean lead time in hours.
func (o Orders) LeadTime() float64 { return Ratio(o.sum, float64(o.Completed)) }

// LeadTimeQuantile is the q-quantile of the lead times (hours), by the
// nearest-rank method.
func (o Orders) LeadTimeQuantile(q float64) float64 {
	if len(o.lead) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), o.lead...)
	sort.Float64s(s)
	k := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(k, 0), len(s)-1)]
}
