package window

import (
	"math"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
	"twin/twin/state"
)

func motor(t *testing.T) *plant.Plant {
	t.Helper()
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// One truth: a simulated run's own figures (the model feeds the engine
// directly) equal the figures the twin computes from that run's events
// (the engine folding the history), station by station and for the
// plant: the same code, whichever way the plant's life reaches it.
func TestSimulatedRunEqualsHistory(t *testing.T) {
	for _, c := range []struct {
		name          string
		seed          uint64
		warm, horizon sim.Time
	}{
		{"weekend ends", 7, 5 * sim.Day, 9 * sim.Day},                          // Saturday 00:00 to Monday 00:00: paused runs at both ends
		{"mid-shift ends", 3, 2*sim.Day + 10*sim.Hour, 4*sim.Day + 3*sim.Hour}, // Wednesday 10:00 to Sunday 13:00
		{"a shift", 11, 8*sim.Day + 9*sim.Hour, 7 * sim.Hour},                  // Tuesday 09:00–16:00, over a shift change
	} {
		t.Run(c.name, func(t *testing.T) { simulatedRunEqualsHistory(t, c.seed, c.warm, c.horizon) })
	}
}

func simulatedRunEqualsHistory(t *testing.T, seed uint64, warm, horizon sim.Time) {
	p := motor(t)
	tape := state.NewTape(0)
	m, err := model.New(p, model.Options{Seed: seed, Warmup: warm, Horizon: horizon, Sink: tape, Source: event.Live})
	if err != nil {
		t.Fatal(err)
	}
	m.RunUntil(warm + horizon)
	res := m.Result()
	m.RunUntil(warm + horizon + 3*sim.Day) // what happens after: the runs under way at the end
	from, to := m.WallTime(warm), m.WallTime(warm+horizon)

	f, err := Fold(p, tape, from, to, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := Stations(p, f)
	for i, s := range res.Stations {
		r := rows[i]
		if r.Times != s.Times {
			t.Errorf("%s: times from the history %+v, the run's %+v", r.Key, r.Times, s.Times)
		}
		if r.Quantities.PQ != s.Quantities.PQ || r.Quantities.GQ != s.Quantities.GQ || math.Abs(float64(r.Quantities.Planned-s.Quantities.Planned)) > float64(time.Microsecond) ||
			!near(r.Quantities.EnergyKWh, s.Quantities.EnergyKWh) {
			t.Errorf("%s: quantities from the history %+v, the run's %+v", r.Key, r.Quantities, s.Quantities)
		}
		if !near(zero(r.Figures.OEE), s.OEE) || !near(zero(r.Figures.Availability), s.Availability) || !near(zero(r.Figures.Effectiveness), s.Effectiveness) {
			t.Errorf("%s: OEE %v (A %v E %v) from the history, %v (A %v E %v) in the run", r.Key,
				r.Figures.OEE, r.Figures.Availability, r.Figures.Effectiveness, s.OEE, s.Availability, s.Effectiveness)
		}
	}
	pl := Sum(p, f, nil)
	if !near(pl.Figures.OEE, res.OEE) || pl.Units != float64(res.Produced) {
		t.Errorf("plant: OEE %v, %v units from the history; %v, %d in the run", pl.Figures.OEE, pl.Units, res.OEE, res.Produced)
	}
	if od := f.OrdersDone(); od.Completed != int(res.Orders) || !near(od.OnTimeRate(), res.OnTime) || !near(od.LeadTime(), res.LeadTime) {
		t.Errorf("orders from the history: %d, on time %v, lead %v h; the run: %d, %v, %v h", od.Completed, od.OnTimeRate(), od.LeadTime(), res.Orders, res.OnTime, res.LeadTime)
	}
	if fp := f.FirstPass().FPY(); !near(fp, res.FPY) {
		t.Errorf("FPY from the history %v, the run's %v", fp, res.FPY)
	}
	t.Logf("plant OEE %.4f (A %.4f E %.4f Q %.4f), FPY %.4f, %d orders on time %.3f, %d units", res.OEE, res.Availability, res.Effectiveness, res.Quality, res.FPY, res.Orders, res.OnTime, res.Produced)
}

func zero(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}
