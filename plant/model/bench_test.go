package model

import (
	"testing"

	"twin/plant"
	"twin/sim"
)

// motorish builds a plant the size of the reference motor plant in code:
// stator and rotor lines feeding an assembly line, a batch oven, setups,
// an inspection with rework, failures, two shifts.
func motorish() *plant.Plant {
	b := newBuilder()
	b.p.Families = []string{"s", "m", "l"}
	pw := plant.Power{Off: 0.2, Idle: 2, Setup: 4, Busy: 12, Down: 0.5}
	fail := []plant.Failure{{Name: "breakdown", TBF: sim.Exponential{M: 60 * 3600}, TTR: sim.LogNormalMeanStd(3600, 1800)}}
	mk := func(id string, n, buf int) *plant.WorkCenter {
		w := b.wc(id, n, buf, pw)
		for _, u := range w.Units {
			u.Failures = fail
		}
		return w
	}
	press := mk("press", 2, 40)
	wind := mk("winding", 4, 30)
	wind.Setup = &plant.SetupMatrix{Default: sim.Const{V: 900}}
	wind.Dispatch = plant.Setup
	oven := mk("oven", 1, 0)
	oven.Batch = &plant.Batch{Max: 24, Min: 6, MaxWait: 3 * sim.Hour}
	cast := mk("casting", 2, 30)
	turn := mk("turning", 3, 30)
	bal := mk("balancing", 2, 20)
	bear := mk("bearing", 1, 20)
	assy := mk("assembly", 3, 20)
	test := mk("test", 2, 20)
	rework := mk("rework", 1, 10)
	paint := mk("paint", 2, 20)
	pack := mk("pack", 1, 30)
	tri := func(a, m, c float64) sim.Dist { return sim.Triangular{Min: a, Mode: m, Max: c} }
	stator := b.part("stator", []*plant.Operation{
		op("stamp", press, tri(40, 50, 70)), op("wind", wind, tri(500, 600, 900)), op("varnish", oven, sim.Const{V: 3 * 3600}),
	})
	rotor := b.part("rotor", []*plant.Operation{
		op("stamp", press, tri(30, 40, 60)), op("cast", cast, tri(200, 240, 330)), op("turn", turn, tri(300, 360, 480)),
		op("balance", bal, tri(150, 180, 260)), op("bearings", bear, tri(80, 100, 140)),
	})
	join := op("assemble", assy, tri(400, 480, 700))
	join.Consumes = []plant.Component{{Part: stator, Qty: 1}, {Part: rotor, Qty: 1}}
	insp := op("test", test, tri(240, 300, 420))
	insp.Inspect = &plant.Inspection{Yield: 0.95, Scrap: 0.1, Rework: &plant.Alternative{WorkCenter: rework, Time: plant.Times{Default: tri(600, 1200, 2400)}}}
	bom := []plant.Component{{Part: stator, Qty: 1}, {Part: rotor, Qty: 1}}
	var prods []*plant.Product
	for _, f := range b.p.Families {
		pr := b.product("motor-"+f, []*plant.Operation{join, insp, op("paint", paint, tri(300, 360, 500)), op("pack", pack, tri(100, 120, 160))}, bom...)
		pr.Family = f
		prods = append(prods, pr)
	}
	// The product routings share operations; index them in the first one.
	b.p.Demand.Generator = &plant.Generator{
		Interarrival: sim.Exponential{M: 4 * 3600},
		Mix:          []plant.Share{{Product: prods[0], Weight: 5}, {Product: prods[1], Weight: 3}, {Product: prods[2], Weight: 2}},
		Quantity:     sim.Uniform{Min: 10, Max: 50},
		DueIn:        sim.Triangular{Min: 3 * 86400, Mode: 5 * 86400, Max: 10 * 86400},
		Priority:     []float64{0.8, 0.2},
	}
	b.p.Energy.Tariff.Periods = []plant.TariffPeriod{
		{Name: "valley", Price: 0.3, Hours: []plant.Span{{From: 0, To: 8 * 3600e9}, {From: 23 * 3600e9, To: 24 * 3600e9}}},
		{Name: "peak", Price: 1.1, Hours: []plant.Span{{From: 10 * 3600e9, To: 12 * 3600e9}, {From: 18 * 3600e9, To: 22 * 3600e9}}},
		{Name: "flat", Price: 0.7, Hours: []plant.Span{{From: 8 * 3600e9, To: 10 * 3600e9}, {From: 12 * 3600e9, To: 18 * 3600e9}, {From: 22 * 3600e9, To: 23 * 3600e9}}},
	}
	b.p.Energy.Emission.Factor = 0.5306
	return b.p
}

// BenchmarkYear simulates one year of a motor-plant-sized model, one
// replication per op.
func BenchmarkYear(b *testing.B) {
	b.ReportAllocs()
	var events uint64
	var produced int64
	for i := 0; i < b.N; i++ {
		m, err := New(motorish(), Options{Seed: uint64(i + 1), Horizon: 365 * sim.Day})
		if err != nil {
			b.Fatal(err)
		}
		r := m.Run()
		events += r.Events
		produced += r.Produced
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(s/float64(b.N), "s/year")
	b.ReportMetric(float64(events)/s, "events/s")
	b.ReportMetric(float64(produced)/float64(b.N), "motors/year")
}
