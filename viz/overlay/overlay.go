// Package overlay puts what the execution records know on the live
// scene: the KPIs of the plant day so far (the same rows GET
// /api/v1/kpis?by=day and by=station answer, from the one KPI engine) on
// the tiles and the stations, and the maintenance alarms on their
// machines. The web page and the desktop viewer draw them as they come.
package overlay

import (
	"fmt"
	"sync"
	"time"

	"twin/plant"
	"twin/twin/mes"
	"twin/twin/window"
	"twin/viz/scene"
)

// Records is what the overlay reads of the records (*mes.DB).
type Records interface {
	Plant() *plant.Plant
	Now() time.Time
	Overview(from, to time.Time) (plantRow mes.KPI, stations []mes.KPI, err error)
	Maintenance(alarmsOnly bool) ([]mes.MaintStatus, error)
}

// WithAlarms adds the records' maintenance alarms (due, overdue) to the
// stations of each scene, read from the records at most every 2 s.
func WithAlarms(db Records, build func() *scene.Scene) func() *scene.Scene {
	var mu sync.Mutex
	var alarms map[string][]string
	var read time.Time
	return func() *scene.Scene {
		sc := build()
		mu.Lock()
		if time.Since(read) > 2*time.Second {
			read = time.Now()
			alarms = map[string][]string{}
			if ms, err := db.Maintenance(true); err == nil {
				for _, m := range ms {
					alarms[m.Plan.Unit] = append(alarms[m.Plan.Unit], fmt.Sprintf("%s %s %s", m.Plan.Kind, m.Plan.Name, m.State))
				}
			}
		}
		for i := range sc.Stations {
			sc.Stations[i].Alarms = append(sc.Stations[i].Alarms, alarms[sc.Stations[i].ID]...)
		}
		mu.Unlock()
		return sc
	}
}

// WithTwinAlarms adds the twin's own alarms (alarms, read at every
// scene: it must be cheap, e.g. the disk guard's state) to each scene.
func WithTwinAlarms(alarms func() []string, build func() *scene.Scene) func() *scene.Scene {
	return func() *scene.Scene {
		sc := build()
		sc.Alarms = append(sc.Alarms, alarms()...)
		return sc
	}
}

// WithKPIs puts the records' figures for the plant day so far (the same
// rows GET /api/v1/kpis?by=day and by=station answer) on the tiles and
// the stations of each scene, computed at most every 5 s.
func WithKPIs(db Records, build func() *scene.Scene) func() *scene.Scene {
	var mu sync.Mutex
	var day *scene.Figures
	var stations map[string]*scene.Figures
	var read time.Time
	return func() *scene.Scene {
		sc := build()
		mu.Lock()
		defer mu.Unlock()
		if time.Since(read) > 5*time.Second {
			read = time.Now()
			if d, st, err := DayFigures(db); err == nil {
				day, stations = d, st
			}
		}
		sc.SetKPIs(day, stations)
		return sc
	}
}

// DayFigures are the records' KPI rows of the plant day up to the
// records' clock, as the views show them.
func DayFigures(db Records) (*scene.Figures, map[string]*scene.Figures, error) {
	to := db.Now()
	from := window.Day(to, db.Plant().Location)
	if !from.Before(to) {
		return nil, nil, nil
	}
	pl, sts, err := db.Overview(from, to)
	if err != nil {
		return nil, nil, err
	}
	fig := func(k mes.KPI) *scene.Figures {
		return &scene.Figures{From: k.From.UnixNano(), To: k.To.UnixNano(), OEE: k.OEE, Availability: k.Availability,
			Effectiveness: k.Effectiveness, Quality: k.QualityRate, FPY: k.FPY, OnTime: k.OnTime, Units: k.Units,
			KWhPerUnit: k.KWhPerUnit, UnobservedH: k.Unobserved}
	}
	st := map[string]*scene.Figures{}
	for _, k := range sts {
		st[k.Key] = fig(k)
	}
	return fig(pl), st, nil
}
