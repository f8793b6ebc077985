package model

import (
	"math/rand/v2"
	"testing"

	"twin/plant"
	"twin/sim"
)

// better is the dispatch rules as a scan of the buffer compares two jobs
// (the code before the queue's heaps): whether a goes before b on a
// machine whose last family is last. Ties keep arrival order.
func better(m *Model, rule plant.Rule, last string, a, b *job, now sim.Time) bool {
	mean := func(j *job) float64 {
		if _, d := j.step(); d != nil {
			return d.Mean()
		}
		return 0
	}
	switch rule {
	case plant.EDD:
		return a.order.due < b.order.due
	case plant.SPT:
		return mean(a) < mean(b)
	case plant.Priority:
		if a.order.priority != b.order.priority {
			return a.order.priority > b.order.priority
		}
		return a.order.due < b.order.due
	case plant.CR:
		return m.criticalRatio(a, now) < m.criticalRatio(b, now)
	case plant.Setup:
		sa, sb := a.family == last, b.family == last
		if sa != sb {
			return sa
		}
		return a.order.due < b.order.due
	}
	return false
}

// TestQueueOrderIsTheScans: for every rule, the queue's pick is the job
// a scan of the buffer in arrival order finds (the first best), through
// random arrivals and removals, with many ties in due dates and
// priorities, over time (the critical ratio changes as time passes).
func TestQueueOrderIsTheScans(t *testing.T) {
	m, err := New(motorish(), Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var ops []struct {
		r  *plant.Routing
		op int
		pt *plant.Part
	}
	for _, pt := range m.p.Parts {
		for i := range pt.Routing.Ops {
			ops = append(ops, struct {
				r  *plant.Routing
				op int
				pt *plant.Part
			}{pt.Routing, i, pt})
		}
	}
	for _, pr := range m.p.Products {
		for i := range pr.Routing.Ops {
			ops = append(ops, struct {
				r  *plant.Routing
				op int
				pt *plant.Part
			}{pr.Routing, i, nil})
		}
	}
	for _, rule := range plant.Rules() {
		t.Run(rule.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(rule), 7))
			q := newQueue(rule, m.families, true)
			var in []*job // arrival order
			now := sim.Time(0)
			for step := 0; step < 6000; step++ {
				now += sim.Time(r.IntN(int(sim.Hour)))
				if len(in) == 0 || r.IntN(5) < 3 {
					o := &order{due: sim.Time(step/50+r.IntN(30)) * sim.Hour, // many ties
						priority: r.IntN(3), product: m.p.Products[r.IntN(len(m.p.Products))]}
					if r.IntN(10) == 0 {
						o.due = sim.MaxTime / 2 // no due date
					}
					x := ops[r.IntN(len(ops))]
					j := &job{order: o, routing: x.r, op: x.op, part: x.pt, family: o.product.Family, fam: m.families[o.product.Family]}
					j.alt = &j.routing.Ops[j.op].Alternatives[0]
					key := 0.0
					switch rule {
					case plant.SPT:
						_, d := j.step()
						key = d.Mean()
					case plant.CR:
						key = m.workLeft(j)
					}
					q.push(j, key)
					in = append(in, j)
				} else {
					i := r.IntN(len(in))
					q.remove(in[i])
					in = append(in[:i], in[i+1:]...)
				}
				if q.Len() != len(in) {
					t.Fatalf("step %d: %d queued, want %d", step, q.Len(), len(in))
				}
				if len(in) == 0 {
					continue
				}
				last := m.p.Families[r.IntN(len(m.p.Families))]
				if r.IntN(4) == 0 {
					last = ""
				}
				want := in[0]
				for _, j := range in[1:] {
					if better(m, rule, last, j, want, now) {
						want = j
					}
				}
				if got := q.pick(m, last, now); got != want {
					t.Fatalf("step %d (%d queued, last family %q): picked job %d, the scan picks %d", step, len(in), last, got.qseq, want.qseq)
				}
			}
		})
	}
}
