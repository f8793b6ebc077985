package model

import (
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/sim"
)

// reps runs n replications of build() in parallel and returns f of each
// result.
func reps(t *testing.T, n int, opt Options, build func() *plant.Plant, f func(*Result) float64) sim.Tally {
	t.Helper()
	out := make([]float64, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				o := opt
				o.Seed = sim.ReplicationSeed(opt.Seed, i)
				m, err := New(build(), o)
				if err != nil {
					t.Error(err)
					return
				}
				out[i] = f(m.Run())
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	var tl sim.Tally
	for _, x := range out {
		tl.Add(x)
	}
	return tl
}

func within(t *testing.T, what string, tl sim.Tally, want float64) {
	t.Helper()
	half := tl.CI(0.95)
	t.Logf("%s: %.4f ± %.4f (95%%, n=%d), theory %.4f", what, tl.Mean(), half, tl.N(), want)
	if math.Abs(tl.Mean()-want) > half {
		t.Errorf("%s: theory %.4f outside %.4f ± %.4f", what, want, tl.Mean(), half)
	}
}

// One machine, Poisson arrivals, exponential service: an M/M/1. The mean
// time a unit spends in the plant is W = 1/(μ − λ).
func TestOneStationIsMM1(t *testing.T) {
	build := func() *plant.Plant {
		b := newBuilder()
		w := b.wc("m", 1, 0, plant.Power{})
		pr := b.product("x", []*plant.Operation{op("work", w, sim.Exponential{M: 3600})})
		b.poisson(pr, 3600/0.8, nil) // λ = 0.8/h, μ = 1/h
		return b.p
	}
	n, horizon := 30, 2000*sim.Day
	if testing.Short() {
		n, horizon = 10, 400*sim.Day
	}
	tl := reps(t, n, Options{Seed: 1, Warmup: 20 * sim.Day, Horizon: horizon}, build, func(r *Result) float64 { return r.FlowTime })
	within(t, "M/M/1 sojourn (h)", tl, 1/(1-0.8))
}

// Three machines in series with exponential times: a Jackson network. The
// mean sojourn is Σ 1/(μᵢ − λ).
func TestTandemIsJackson(t *testing.T) {
	mus := []float64{1.5, 1.2, 2.0} // per hour
	lambda := 0.9
	build := func() *plant.Plant {
		b := newBuilder()
		var ops []*plant.Operation
		for i, mu := range mus {
			w := b.wc(fmt.Sprint("m", i), 1, 0, plant.Power{})
			ops = append(ops, op(fmt.Sprint("op", i), w, sim.Exponential{M: 3600 / mu}))
		}
		pr := b.product("x", ops)
		b.poisson(pr, 3600/lambda, nil)
		return b.p
	}
	want := 0.0
	for _, mu := range mus {
		want += 1 / (mu - lambda)
	}
	n, horizon := 30, 2000*sim.Day
	if testing.Short() {
		n, horizon = 10, 400*sim.Day
	}
	tl := reps(t, n, Options{Seed: 2, Warmup: 20 * sim.Day, Horizon: horizon}, build, func(r *Result) float64 { return r.FlowTime })
	within(t, "tandem sojourn (h)", tl, want)
}

// An inspection with first-pass yield p and a rework loop inspects every
// good part 1/p times on average (each attempt passes with probability p).
func TestReworkLoop(t *testing.T) {
	const p = 0.7
	build := func() *plant.Plant {
		b := newBuilder()
		work := b.wc("work", 1, 0, plant.Power{})
		test := b.wc("test", 1, 0, plant.Power{})
		rework := b.wc("rework", 1, 0, plant.Power{})
		insp := op("test", test, sim.Exponential{M: 600})
		insp.Inspect = &plant.Inspection{Yield: p, Rework: &plant.Alternative{WorkCenter: rework, Time: plant.Times{Default: sim.Exponential{M: 900}}}}
		pr := b.product("x", []*plant.Operation{op("work", work, sim.Exponential{M: 1800}), insp})
		b.poisson(pr, 3600, nil)
		return b.p
	}
	tl := reps(t, 20, Options{Seed: 3, Warmup: 5 * sim.Day, Horizon: 200 * sim.Day}, build, func(r *Result) float64 {
		return float64(r.Inspections) / float64(r.Inspections-r.FailedInspections)
	})
	within(t, "inspections per good part", tl, 1/p)
}

// A deterministic case: orders every 2 h, one machine that works exactly
// 30 min and draws 10 kW running, 2 kW starved. Over 100 days it runs 12.5%
// of the time: energy = 10 × 300 + 2 × 2100 kWh, exactly.
func TestEnergyDeterministic(t *testing.T) {
	b := newBuilder()
	w := b.wc("m", 1, 0, plant.Power{Idle: 2, Busy: 10})
	pr := b.product("x", []*plant.Operation{op("work", w, sim.Const{V: 1800})})
	b.p.Demand.Generator = &plant.Generator{
		Interarrival: sim.Const{V: 7200},
		Mix:          []plant.Share{{Product: pr, Weight: 1}},
		Quantity:     sim.Const{V: 1},
		DueIn:        sim.Const{V: 86400},
	}
	b.p.Energy.Tariff.Periods = []plant.TariffPeriod{{Name: "flat", Price: 0.5, Hours: []plant.Span{{From: 0, To: 24 * 3600e9}}}}
	b.p.Energy.Emission.Factor = 0.5306
	m, err := New(b.p, Options{Seed: 1, Warmup: 2 * sim.Hour, Horizon: 100 * sim.Day})
	if err != nil {
		t.Fatal(err)
	}
	r := m.Run()
	hours := 100 * 24.0
	want := 10*hours/4 + 2*hours*3/4
	if math.Abs(r.EnergyKWh-want) > 1e-6 {
		t.Fatalf("energy %.9f kWh, want %.9f", r.EnergyKWh, want)
	}
	if math.Abs(r.EnergyCost-0.5*want) > 1e-6 || math.Abs(r.CO2Kg-0.5306*want) > 1e-6 {
		t.Fatalf("cost %v, CO2 %v for %v kWh", r.EnergyCost, r.CO2Kg, want)
	}
	if s := r.Stations[0]; math.Abs(s.EnergyKWh-want) > 1e-6 || s.Produced != 1200 || math.Abs(s.Utilisation-0.25) > 1e-9 {
		t.Fatalf("station: %.6f kWh, %d produced, utilisation %v", s.EnergyKWh, s.Produced, s.Utilisation)
	}
}

// The same seed gives the same event stream; another seed another one.
func TestDeterministicEvents(t *testing.T) {
	run := func(seed uint64) (uint64, int) {
		h := fnv.New64a()
		n := 0
		b := newBuilder()
		a := b.wc("a", 2, 3, plant.Power{Idle: 1, Busy: 5})
		c := b.wc("c", 1, 2, plant.Power{Idle: 1, Busy: 5})
		pr := b.product("x", []*plant.Operation{op("a", a, sim.Exponential{M: 1000}), op("c", c, sim.Exponential{M: 500})})
		b.poisson(pr, 600, sim.Const{V: 3600})
		m, _ := New(b.p, Options{Seed: seed, Horizon: 10 * sim.Day, Sink: event.SinkFunc(func(e event.Event) {
			fmt.Fprintln(h, e.String())
			n++
		})})
		m.Run()
		return h.Sum64(), n
	}
	h1, n1 := run(7)
	h2, _ := run(7)
	h3, _ := run(8)
	if h1 != h2 || h1 == h3 || n1 < 1000 {
		t.Fatalf("traces %x %x %x (%d events)", h1, h2, h3, n1)
	}
}

// Parts are conserved when buffers are small and machines block: every
// unit released is finished, in process, or waiting to be released onto
// the floor; blocked time appears upstream of the slow machine.
func TestBlockingConservesParts(t *testing.T) {
	b := newBuilder()
	fast := b.wc("fast", 1, 2, plant.Power{})
	slow := b.wc("slow", 1, 1, plant.Power{})
	pr := b.product("x", []*plant.Operation{op("a", fast, sim.Exponential{M: 60}), op("b", slow, sim.Exponential{M: 100})})
	b.poisson(pr, 90, nil)
	m, _ := New(b.p, Options{Seed: 4, Horizon: 5 * sim.Day})
	r := m.Run()
	released := int64(0)
	for _, o := range m.orders {
		released += int64(o.qty)
	}
	pending := 0
	for _, w := range m.wcs {
		pending += w.pending.len()
	}
	if got := r.Produced + int64(m.nWIP) + int64(pending); got != released {
		t.Fatalf("released %d, but produced %d + wip %d + pending %d = %d", released, r.Produced, m.nWIP, pending, got)
	}
	if r.Stations[0].StateHours["blocked"] <= 0 {
		t.Fatalf("upstream machine never blocked: %v", r.Stations[0].StateHours)
	}
}

// A machine with operating-basis failures that always has work is down
// MTTR / (MTBF + MTTR) of the time.
func TestFailureAvailability(t *testing.T) {
	build := func() *plant.Plant {
		b := newBuilder()
		w := b.wc("m", 1, 0, plant.Power{})
		w.Units[0].Failures = []plant.Failure{{Name: "jam", TBF: sim.Exponential{M: 8 * 3600}, TTR: sim.Exponential{M: 3600}}}
		pr := b.product("x", []*plant.Operation{op("work", w, sim.Exponential{M: 600})})
		b.poisson(pr, 300, nil) // twice what it can make: always busy
		return b.p
	}
	tl := reps(t, 10, Options{Seed: 5, Warmup: sim.Day, Horizon: 200 * sim.Day}, build, func(r *Result) float64 {
		h := r.Stations[0].StateHours
		return h["down"] / (h["down"] + h["running"])
	})
	within(t, "fraction down", tl, 1.0/9)
}

// A product assembled from two made components: each finished product
// consumed one of each, made for its own order.
func TestAssemblyJoinsComponents(t *testing.T) {
	b := newBuilder()
	ws := b.wc("stator", 1, 0, plant.Power{})
	wr := b.wc("rotor", 1, 0, plant.Power{})
	wa := b.wc("assy", 1, 0, plant.Power{})
	stator := b.part("stator", []*plant.Operation{op("wind", ws, sim.Exponential{M: 300})})
	rotor := b.part("rotor", []*plant.Operation{op("cast", wr, sim.Exponential{M: 200})})
	join := op("assemble", wa, sim.Exponential{M: 100})
	join.Consumes = []plant.Component{{Part: stator, Qty: 1}, {Part: rotor, Qty: 1}}
	pr := b.product("motor", []*plant.Operation{join}, plant.Component{Part: stator, Qty: 1}, plant.Component{Part: rotor, Qty: 1})
	b.p.Demand.Generator = &plant.Generator{
		Interarrival: sim.Exponential{M: 3600 * 4},
		Mix:          []plant.Share{{Product: pr, Weight: 1}},
		Quantity:     sim.Uniform{Min: 1, Max: 8},
		DueIn:        sim.Const{V: 86400},
	}
	m, _ := New(b.p, Options{Seed: 6, Horizon: 30 * sim.Day})
	r := m.Run()
	made := map[string]int64{}
	for _, s := range r.Stations {
		made[s.WorkCenter] = s.Produced
	}
	if r.Produced == 0 || made["assy"] != r.Produced {
		t.Fatalf("assembled %d, produced %d", made["assy"], r.Produced)
	}
	// Every assembly used a stator and a rotor; leftovers wait in stock or
	// on the floor.
	if made["stator"] < r.Produced || made["rotor"] < r.Produced {
		t.Fatalf("%d products from %d stators and %d rotors", r.Produced, made["stator"], made["rotor"])
	}
	for _, o := range m.orders {
		if o.finished && (o.done != o.qty || o.stock[stator.Index] != 0 || o.stock[rotor.Index] != 0) {
			t.Fatalf("order %s: done %d of %d, stock left %v", o.id, o.done, o.qty, o.stock)
		}
	}
}

// A batch oven takes up to Max parts per cycle, and a part waits at most
// MaxWait before a partial batch starts.
func TestBatchOven(t *testing.T) {
	b := newBuilder()
	oven := b.wc("oven", 1, 0, plant.Power{})
	oven.Batch = &plant.Batch{Max: 6, Min: 1, MaxWait: 2 * sim.Hour}
	pr := b.product("x", []*plant.Operation{op("bake", oven, sim.Const{V: 3 * 3600})})
	b.poisson(pr, 1800, nil)
	sizes := map[float64]int{}
	cur := 0.0
	m, _ := New(b.p, Options{Seed: 7, Horizon: 20 * sim.Day, Sink: event.SinkFunc(func(e event.Event) {
		if e.Kind == event.OpStarted {
			cur++
		}
		if e.Kind == event.State && event.MachineState(e.Value) == event.Running {
			cur = 0
		}
		if e.Kind == event.OpFinished && cur > 0 {
			sizes[cur]++
			cur = 0
		}
	})})
	r := m.Run()
	for size := range sizes {
		if size > 6 {
			t.Fatalf("a batch of %v parts in an oven of 6", size)
		}
	}
	// 2 parts an hour, 6 per 3-hour cycle: the oven runs full almost always.
	if r.Produced < 800 || sizes[6] == 0 {
		t.Fatalf("produced %d; batch sizes %v", r.Produced, sizes)
	}
}

// A batch below the oven's minimum runs after its wait once nothing more
// is on its way to the oven (an order's last parts; a plant that receives
// no more orders): the plant runs the basket it has. Parts still coming
// keep it waiting for the minimum.
func TestLastBatchRuns(t *testing.T) {
	b := newBuilder()
	press := b.wc("press", 1, 0, plant.Power{})
	oven := b.wc("oven", 1, 0, plant.Power{})
	oven.Batch = &plant.Batch{Max: 10, Min: 8, MaxWait: sim.Hour}
	pr := b.product("x", []*plant.Operation{op("press", press, sim.Const{V: 600}), op("bake", oven, sim.Const{V: 3 * 3600})})
	b.p.Demand.Orders = []plant.Order{{ID: "O1", Product: pr, Quantity: 3, Release: b.p.Start, Due: b.p.Start.Add(48 * time.Hour)}}
	var baked []int64
	m, _ := New(b.p, Options{Seed: 1, Horizon: 2 * sim.Day, Sink: event.SinkFunc(func(e event.Event) {
		if e.Kind == event.OpStarted && e.Name == "bake" {
			baked = append(baked, e.Time)
		}
	})})
	r := m.Run()
	// the three parts are pressed by 00:30; nothing more comes: the oven
	// bakes them an hour after the first arrived, at 01:10
	if r.Produced != 3 || len(baked) != 3 {
		t.Fatalf("produced %d, %d parts baked: the last basket of 3 below the minimum of 8 never ran", r.Produced, len(baked))
	}
	if got, want := time.Unix(0, baked[0]).Sub(b.p.Start), 70*time.Minute; got != want {
		t.Fatalf("the basket started %v after the start, want %v (the first part's hour of waiting)", got, want)
	}
}

// Machines work only in their shifts: a single 8-hour shift gives 8 hours
// of planned time a day.
func TestShiftCalendar(t *testing.T) {
	b := newBuilder()
	w := b.wc("m", 1, 0, plant.Power{Off: 0, Idle: 1, Busy: 3})
	cal := &plant.Calendar{ID: "day", Shifts: []plant.Shift{{Name: "A", Start: 6 * 3600e9, End: 14 * 3600e9}}}
	for i := range cal.Shifts[0].Days {
		cal.Shifts[0].Days[i] = true
	}
	b.p.Calendars = []*plant.Calendar{cal}
	b.p.Calendar = cal
	pr := b.product("x", []*plant.Operation{op("work", w, sim.Exponential{M: 600})})
	b.poisson(pr, 1200, nil)
	m, _ := New(b.p, Options{Seed: 8, Horizon: 10 * sim.Day})
	r := m.Run()
	h := r.Stations[0].StateHours
	on := 240 - h["off"]
	if math.Abs(on-80) > 1e-6 {
		t.Fatalf("on-shift hours %.3f, want 80 (10 days × 8 h): %v", on, h)
	}
	if r.Produced < 400 {
		t.Fatalf("produced %d", r.Produced)
	}
}
