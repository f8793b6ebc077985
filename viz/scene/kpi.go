package scene

import (
	"time"

	"twin/plant"
	"twin/plant/kpi"
	"twin/twin/window"
)

// Figures are the ISO 22400 figures of a window, as the one KPI engine
// (plant/kpi) computes them for the records API and simulated runs: the
// plant's day so far on the tiles (KPIs.Day), a station's in its details
// (Station.Day). A nil ratio is not defined (nothing planned, nothing
// made).
type Figures struct {
	From          int64    `json:"from"` // Unix ns: the plant-local midnight
	To            int64    `json:"to"`   // Unix ns: the end of what was observed
	OEE           *float64 `json:"oee,omitempty"`
	Availability  *float64 `json:"availability,omitempty"`
	Effectiveness *float64 `json:"effectiveness,omitempty"`
	Quality       *float64 `json:"quality,omitempty"`
	FPY           *float64 `json:"fpy,omitempty"`
	OnTime        *float64 `json:"on_time,omitempty"`
	Units         float64  `json:"units"`
	KWhPerUnit    *float64 `json:"kwh_per_unit,omitempty"`
	UnobservedH   float64  `json:"unobserved_h"` // hours without a known state, summed over machines
}

// RowFigures are the figures of an engine's row over [from, to).
func RowFigures(r window.Row, from, to time.Time) *Figures {
	return &Figures{
		From: from.UnixNano(), To: to.UnixNano(),
		OEE: kpi.Ptr(r.Figures.OEE), Availability: kpi.Ptr(r.Figures.Availability),
		Effectiveness: kpi.Ptr(r.Figures.Effectiveness), Quality: kpi.Ptr(r.Figures.QualityRate),
		Units: r.Units, KWhPerUnit: kpi.Ptr(kpi.PerUnit(r.Quantities.EnergyKWh, r.Units)),
		UnobservedH: r.Times.Unobserved.Hours(),
	}
}

// DayFigures computes the figures of plant p and of each of its stations
// (by id) over the plant day up to t, from a history alone (a replay, a
// scenario's tape): FPY and on-time from the plant's events. With records
// kept (twin serve, twin demo) the tiles come from the records API's
// rows instead, which have the inspectors' results.
func DayFigures(p *plant.Plant, h window.History, t int64) (*Figures, map[string]*Figures, error) {
	to := time.Unix(0, t).In(p.Location)
	from := window.Day(to, p.Location)
	if !from.Before(to) {
		return nil, nil, nil
	}
	f, err := window.Fold(p, h, from, to, window.Options{})
	if err != nil {
		return nil, nil, err
	}
	day := RowFigures(window.Sum(p, f, nil), from, to)
	day.FPY = kpi.Ptr(f.FirstPass().FPY())
	day.OnTime = kpi.Ptr(f.OrdersDone().OnTimeRate())
	st := map[string]*Figures{}
	for _, r := range window.Stations(p, f) {
		st[r.Key] = RowFigures(r, from, to)
	}
	return day, st, nil
}

// SetKPIs puts the day's figures on the tiles and the stations'.
func (sc *Scene) SetKPIs(day *Figures, stations map[string]*Figures) {
	sc.KPIs.Day = day
	for i := range sc.Stations {
		sc.Stations[i].Day = stations[sc.Stations[i].ID]
	}
}

// Day puts the figures of the plant day up to t, from history h (a store
// or a tape), on the scene's tiles and stations.
func (l *Layout) Day(sc *Scene, h window.History, t int64) error {
	day, st, err := DayFigures(l.p, h, t)
	if err != nil {
		return err
	}
	sc.SetKPIs(day, st)
	return nil
}
