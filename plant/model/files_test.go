package model

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/sim"
)

// The same checks as the in-code plants, on the plant files in
// testdata/plants: what a user writes is what the theory predicts.

// within99 is within at 99%: these plants repeat the in-code checks, and
// two 95% checks of one model would fail together one time in ten.
func within99(t *testing.T, what string, tl sim.Tally, want float64) {
	t.Helper()
	half := tl.CI(0.99)
	t.Logf("%s: %.4f ± %.4f (99%%, n=%d), theory %.4f", what, tl.Mean(), half, tl.N(), want)
	if math.Abs(tl.Mean()-want) > half {
		t.Errorf("%s: theory %.4f outside %.4f ± %.4f", what, want, tl.Mean(), half)
	}
}

func load(t testing.TB, name string) func() *plant.Plant {
	p, err := plant.Load("../../testdata/plants/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return func() *plant.Plant { return p } // read-only: shared by replications
}

func TestFileOneStation(t *testing.T) {
	n, horizon := 20, 1000*sim.Day
	if testing.Short() {
		n, horizon = 8, 300*sim.Day
	}
	tl := reps(t, n, Options{Seed: 3, Warmup: 20 * sim.Day, Horizon: horizon}, load(t, "one-station.yaml"), func(r *Result) float64 { return r.FlowTime })
	within99(t, "one-station.yaml: M/M/1 sojourn (h)", tl, 5)
}

func TestFileTandem(t *testing.T) {
	n, horizon := 20, 1000*sim.Day
	if testing.Short() {
		n, horizon = 8, 300*sim.Day
	}
	tl := reps(t, n, Options{Seed: 3, Warmup: 20 * sim.Day, Horizon: horizon}, load(t, "tandem.yaml"), func(r *Result) float64 { return r.FlowTime })
	within99(t, "tandem.yaml: Jackson sojourn (h)", tl, 1/(1.2-0.8)+1/(1.0-0.8)+1/(1.5-0.8))
}

func TestFileRework(t *testing.T) {
	tl := reps(t, 10, Options{Seed: 3, Horizon: 300 * sim.Day}, load(t, "rework.yaml"), func(r *Result) float64 {
		return float64(r.Inspections) / float64(r.Inspections-r.FailedInspections)
	})
	within99(t, "rework.yaml: inspections per good part", tl, 1/0.7)
}

// TestFileEnergy: 10 parts of 1 h on a 7.5 kW machine, 2 kW idle, from
// midnight, for one day: 07:00 splits valley and flat.
func TestFileEnergy(t *testing.T) {
	m, err := New(load(t, "energy.yaml")(), Options{Seed: 1, Horizon: sim.Day})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Run()
	// busy 00:00–10:00 (7 h valley, 3 h flat), idle 10:00–23:00 flat, 23:00–24:00 valley
	valley, flat := 7*7.5+1*2.0, 3*7.5+13*2.0
	want := map[string]float64{"valley": valley, "flat": flat}
	for band, kwh := range want {
		if math.Abs(r.EnergyByBand[band]-kwh) > 1e-9 {
			t.Errorf("%s: %.12f kWh, want %g", band, r.EnergyByBand[band], kwh)
		}
	}
	if math.Abs(r.EnergyKWh-103) > 1e-9 || math.Abs(r.EnergyCost-(valley*0.30+flat*0.70)) > 1e-9 || math.Abs(r.CO2Kg-103*0.5366) > 1e-9 {
		t.Errorf("%.12f kWh, %.12f CNY, %.12f kg CO2; want 103, %.2f, %.4f", r.EnergyKWh, r.EnergyCost, r.CO2Kg, valley*0.30+flat*0.70, 103*0.5366)
	}
	if r.Produced != 10 {
		t.Errorf("produced %d", r.Produced)
	}
}

// TestMotorPlant: the reference plant runs a month and behaves as its file
// says it should: winding the bottleneck, most stations busy 40–95%.
func TestMotorPlant(t *testing.T) {
	m, err := New(load(t, "motor.yaml")(), Options{Seed: 1, Warmup: 7 * sim.Day, Horizon: 56 * sim.Day})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Run()
	t.Logf("motor plant, 8 weeks: %.1f motors/day, lead time %.1f h (p95 %.1f), on time %.2f, %.1f kWh/motor, bottleneck %s",
		r.Throughput, r.LeadTime, r.LeadTimeP95, r.OnTime, r.EnergyKWh/float64(r.Produced), r.Bottleneck)
	if r.Throughput < 100 || r.Throughput > 170 || r.Bottleneck != "winding" {
		t.Errorf("throughput %.1f/day, bottleneck %s", r.Throughput, r.Bottleneck)
	}
	for _, w := range r.WorkCenters {
		if w.Utilisation > 0.97 || w.Utilisation < 0.2 {
			t.Errorf("%s utilisation %.2f", w.ID, w.Utilisation)
		}
		// a part started before the window and finished in it counts its
		// whole ideal time: OEE may pass utilisation by that much
		if w.OEE > w.Utilisation+1e-3 {
			t.Errorf("%s: OEE %.6f above utilisation %.6f", w.ID, w.OEE, w.Utilisation)
		}
	}
}

// BenchmarkMotorYear simulates one year of the reference plant, one
// replication per op, and reports its CPU time (target: under 0.3 s on
// one core; run with -cpu 1).
func BenchmarkMotorYear(b *testing.B) {
	build := load(b, "motor.yaml")
	var events uint64
	var produced int64
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		m, err := New(build(), Options{Seed: uint64(i + 1), Warmup: 7 * sim.Day, Horizon: 365 * sim.Day})
		if err != nil {
			b.Fatal(err)
		}
		r := m.Run()
		events += r.Events
		produced += r.Produced
	}
	cpu := (cpuTime() - cpu0).Seconds()
	s := b.Elapsed().Seconds()
	b.ReportMetric(s/float64(b.N), "s/year")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/year(max-0.3)")
	b.ReportMetric(float64(events)/s, "events/s")
	b.ReportMetric(float64(produced)/float64(b.N), "motors/year")
}

// TestFirstOrder: the generator numbers its orders from FirstOrder.
func TestFirstOrder(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	m, err := New(p, Options{Seed: 1, FirstOrder: 40, Sink: event.SinkFunc(func(e event.Event) {
		if e.Kind == event.Order && e.Name == "released" {
			ids = append(ids, e.Ref)
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	m.RunUntil(sim.Time(48 * time.Hour))
	if len(ids) < 2 || ids[0] != "G00040" || ids[1] != "G00041" {
		t.Fatalf("orders released: %v", ids)
	}
}

// TestFileJackson: a Jackson network whose second station sends a
// quarter of its parts back to the first (inspect.rework.back_to): WIP,
// sojourn and throughput are the product form's (jackson.yaml gives the
// figures).
func TestFileJackson(t *testing.T) {
	n, horizon := 16, 1000*sim.Day
	if testing.Short() {
		n, horizon = 8, 300*sim.Day
	}
	opt := Options{Seed: 5, Warmup: 20 * sim.Day, Horizon: horizon}
	pl := load(t, "jackson.yaml")
	within99(t, "jackson.yaml: WIP (parts)", reps(t, n, opt, pl, func(r *Result) float64 { return r.WIP }), 0.64/0.36+1)
	within99(t, "jackson.yaml: sojourn (h)", reps(t, n, opt, pl, func(r *Result) float64 { return r.FlowTime }), (1/(1.25-0.8)+1/(1.6-0.8))/0.75)
	within99(t, "jackson.yaml: throughput (/day)", reps(t, n, opt, pl, func(r *Result) float64 { return r.Throughput }), 14.4)
	within99(t, "jackson.yaml: visits to B per part", reps(t, n, opt, pl, func(r *Result) float64 {
		return float64(r.Inspections) / float64(r.Inspections-r.FailedInspections)
	}), 1/0.75)
}

// birthDeathThroughput is the throughput of a birth–death chain on
// states 0…n with birth rate lambda below n and death rate mu above 0:
// mu × P(N > 0).
func birthDeathThroughput(lambda, mu float64, n int) float64 {
	sum, term := 0.0, 1.0
	for range n + 1 {
		sum += term
		term *= lambda / mu
	}
	return mu * (1 - 1/sum)
}

// TestFileSaturated: a saturated tandem with a finite buffer has the
// throughput of its birth–death chain, for both blocking rules
// (saturated.yaml gives the chains).
func TestFileSaturated(t *testing.T) {
	n, horizon := 16, 1000*sim.Day
	if testing.Short() {
		n, horizon = 8, 300*sim.Day
	}
	src, err := os.ReadFile("../../testdata/plants/saturated.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rule   string
		states int // the chain's last state
	}{{"after", 4}, {"before", 3}} {
		p, err := plant.Parse("saturated.yaml", []byte(strings.Replace(string(src), "blocking: after", "blocking: "+c.rule, 1)))
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{Seed: 9, Warmup: 10 * sim.Day, Horizon: horizon}
		tl := reps(t, n, opt, func() *plant.Plant { return p }, func(r *Result) float64 { return r.Throughput })
		within99(t, "saturated.yaml, blocking "+c.rule+": throughput (/day)", tl, 24*birthDeathThroughput(1, 1.2, c.states))
	}
}
