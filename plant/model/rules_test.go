package model

import (
	"math"
	"testing"

	"twin/plant"
	"twin/plant/event"
	"twin/sim"
)

// Two machines but one operator: together they run at most one at a time.
func TestOperatorPoolLimits(t *testing.T) {
	b := newBuilder()
	w := b.wc("m", 2, 0, plant.Power{})
	w.Skill = "op"
	b.p.Pools = []*plant.Pool{{ID: "ops", Skill: "op", Count: 1}}
	pr := b.product("x", []*plant.Operation{op("work", w, sim.Exponential{M: 600})})
	b.poisson(pr, 300, nil)
	running, most := 0, 0
	m, _ := New(b.p, Options{Seed: 9, Horizon: 20 * sim.Day, Sink: event.SinkFunc(func(e event.Event) {
		if e.Kind == event.OpStarted {
			running++
			most = max(most, running)
		}
		if e.Kind == event.OpFinished {
			running--
		}
	})})
	r := m.Run()
	busy := r.Stations[0].StateHours["running"] + r.Stations[1].StateHours["running"]
	if most != 1 || busy > 480.0001 || busy < 400 {
		t.Fatalf("at most %d running at once; %.1f h running in 480 h", most, busy)
	}
	if r.Stations[1].StateHours["starved"] == 0 {
		t.Fatal("no machine ever waited for the operator")
	}
}

// Planned maintenance every 40 h of running takes 2 h; a saturated
// machine spends 2/42 of its on-time in maintenance.
func TestPlannedMaintenance(t *testing.T) {
	b := newBuilder()
	w := b.wc("m", 1, 0, plant.Power{})
	w.Units[0].Maintenance = []plant.Maintenance{{Name: "pm", Every: 40 * sim.Hour, Basis: plant.OperatingTime, Duration: sim.Const{V: 7200}}}
	pr := b.product("x", []*plant.Operation{op("work", w, sim.Const{V: 600})})
	b.poisson(pr, 300, nil)
	m, _ := New(b.p, Options{Seed: 10, Horizon: 100 * sim.Day})
	r := m.Run()
	h := r.Stations[0].StateHours
	if got, want := h["maintenance"]/(h["maintenance"]+h["running"]), 2.0/42; math.Abs(got-want) > 0.003 {
		t.Fatalf("maintenance fraction %.4f, want %.4f (%v)", got, want, h)
	}
	if s := r.Stations[0]; math.Abs(s.Availability-1) > 1e-3 { // only the idle wait for the first order counts
		t.Fatalf("planned maintenance counted against availability: %v", s.Availability)
	}
}

// The setup-saving rule changes over less often than FIFO does.
func TestSetupRuleSavesChangeovers(t *testing.T) {
	run := func(rule plant.Rule) float64 {
		b := newBuilder()
		b.p.Families = []string{"a", "b", "c"}
		w := b.wc("m", 1, 0, plant.Power{})
		w.Setup = &plant.SetupMatrix{Default: sim.Const{V: 600}}
		w.Dispatch = rule
		var mix []plant.Share
		for _, f := range b.p.Families {
			pr := b.product("x"+f, []*plant.Operation{op("work", w, sim.Exponential{M: 300})})
			pr.Family = f
			mix = append(mix, plant.Share{Product: pr, Weight: 1})
		}
		b.p.Demand.Generator = &plant.Generator{Interarrival: sim.Exponential{M: 500}, Mix: mix, Quantity: sim.Const{V: 1}, DueIn: sim.Const{V: 86400}}
		m, _ := New(b.p, Options{Seed: 11, Warmup: sim.Day, Horizon: 30 * sim.Day})
		return m.Run().Stations[0].StateHours["setup"]
	}
	fifo, setup := run(plant.FIFO), run(plant.Setup)
	t.Logf("setup hours: fifo %.1f, setup rule %.1f", fifo, setup)
	if setup > 0.8*fifo {
		t.Fatalf("setup rule %.1f h of changeovers vs FIFO %.1f h", setup, fifo)
	}
}

// EDD is on time more often than FIFO when due dates vary widely; SPT has
// the shortest mean flow time; the priority rule serves rush orders
// faster than normal ones.
func TestDispatchRules(t *testing.T) {
	type out struct{ onTime, flow, rush, normal float64 }
	run := func(rule plant.Rule) out {
		b := newBuilder()
		b.p.Families = []string{"short", "long"}
		w := b.wc("m", 1, 0, plant.Power{})
		w.Dispatch = rule
		ps := b.product("s", []*plant.Operation{op("work", w, sim.Exponential{M: 300})})
		ps.Family = "short"
		pl := b.product("l", []*plant.Operation{op("work", w, sim.Exponential{M: 1500})})
		pl.Family = "long"
		b.p.Demand.Priorities = []string{"normal", "rush"}
		b.p.Demand.Generator = &plant.Generator{
			Interarrival: sim.Exponential{M: 1000},
			Mix:          []plant.Share{{Product: ps, Weight: 1}, {Product: pl, Weight: 1}},
			Quantity:     sim.Const{V: 1},
			DueIn:        sim.Uniform{Min: 1800, Max: 8 * 3600},
			Priority:     []float64{0.8, 0.2},
		}
		var rush, normal sim.Tally
		m, _ := New(b.p, Options{Seed: 12, Warmup: 2 * sim.Day, Horizon: 200 * sim.Day})
		r := m.Run()
		for _, o := range m.orders {
			if o.finished && o.release >= m.statFrom {
				h := (o.completed - o.release).Hours()
				if o.priority == 1 {
					rush.Add(h)
				} else {
					normal.Add(h)
				}
			}
		}
		return out{r.OnTime, r.FlowTime, rush.Mean(), normal.Mean()}
	}
	fifo, edd, spt, prio := run(plant.FIFO), run(plant.EDD), run(plant.SPT), run(plant.Priority)
	t.Logf("on time: fifo %.3f edd %.3f; flow h: fifo %.2f spt %.2f; priority rush %.2f h normal %.2f h",
		fifo.onTime, edd.onTime, fifo.flow, spt.flow, prio.rush, prio.normal)
	if edd.onTime <= fifo.onTime {
		t.Errorf("EDD on time %.3f, FIFO %.3f", edd.onTime, fifo.onTime)
	}
	if spt.flow >= fifo.flow {
		t.Errorf("SPT flow %.2f h, FIFO %.2f h", spt.flow, fifo.flow)
	}
	if prio.rush >= prio.normal {
		t.Errorf("rush orders %.2f h, normal %.2f h", prio.rush, prio.normal)
	}
}
