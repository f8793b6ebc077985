package model

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"twin/plant"
	"twin/sim"
)

// The cost of the model as the plant and the run grow: the scaling
// script of `make bench`. scalePlant multiplies a plant k times (every
// work centre's machines, every buffer and worker pool, and the demand:
// orders come k times as often), so that the model has k times the work
// to do; a linear model costs k times as much, at the same events/s.

// scalePlant multiplies plant p (changed in place) k times.
func scalePlant(p *plant.Plant, k int) *plant.Plant {
	if k <= 1 {
		return p
	}
	for _, w := range p.WorkCenters {
		if w.Buffer > 0 {
			w.Buffer *= k
		}
		units := w.Units
		for c := 2; c <= k; c++ {
			for _, u := range units {
				n := &plant.Node{ID: fmt.Sprintf("%s-%d", u.Node.ID, c), Level: plant.UnitLevel, Parent: w.Node, At: u.Node.At}
				n.Path = w.Node.Path + "/" + n.ID
				cu := &plant.Unit{Node: n, Index: len(p.Units), WorkCenter: w, Power: u.Power, Failures: u.Failures, Maintenance: u.Maintenance}
				n.Unit = cu
				w.Node.Nodes = append(w.Node.Nodes, n)
				p.Nodes = append(p.Nodes, n)
				w.Units = append(w.Units, cu)
				p.Units = append(p.Units, cu)
			}
		}
	}
	for _, pl := range p.Pools {
		pl.Count *= k
		for s, n := range pl.PerShift {
			pl.PerShift[s] = n * k
		}
	}
	if g := p.Demand.Generator; g != nil {
		g.Interarrival = scaled{g.Interarrival, 1 / float64(k)}
	}
	return p
}

// scaled is a distribution times a factor.
type scaled struct {
	d sim.Dist
	f float64
}

func (s scaled) Sample(r *sim.Stream) float64 { return s.d.Sample(r) * s.f }
func (s scaled) Mean() float64                { return s.d.Mean() * s.f }
func (s scaled) String() string               { return fmt.Sprintf("%v×%g", s.d, s.f) }

// cpuTime returns the CPU time the process has used (the run's goroutine
// and the collector's), so that a loaded machine does not count time the
// run spent waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// motorRun runs the reference plant ×k for weeks from empty and returns
// its CPU time and events.
func motorRun(b *testing.B, k, weeks int, seed uint64) (time.Duration, uint64) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(scalePlant(p, k), Options{Seed: seed, Horizon: sim.Time(weeks) * sim.Week})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC() // the garbage of the run before is not this run's
	t0 := cpuTime()
	r := m.Run()
	return cpuTime() - t0, r.Events
}

// BenchmarkScale runs the reference plant ×1 and ×16 for 16 weeks, and ×1
// for 1 week (eight times, with eight seeds: one is short to time), side
// by side in each op, and reports the cost of ×16 over
// ×1 (target: at most 24) and events/s from ×1 to ×16 and from 1 to 16
// weeks (target: each ratio at least 0.75).
func BenchmarkScale(b *testing.B) {
	var t1, t16, tw time.Duration
	var e1, e16, ew uint64
	for b.Loop() {
		d, e := motorRun(b, 1, 16, 1)
		t1, e1 = t1+d, e1+e
		d, e = motorRun(b, 16, 16, 1)
		t16, e16 = t16+d, e16+e
		for s := range uint64(8) {
			d, e = motorRun(b, 1, 1, s+1)
			tw, ew = tw+d, ew+e
		}
	}
	n := float64(b.N)
	evps := func(e uint64, d time.Duration) float64 { return float64(e) / d.Seconds() }
	b.ReportMetric(t1.Seconds()/n, "s-x1-16w")
	b.ReportMetric(t16.Seconds()/n, "s-x16-16w")
	b.ReportMetric(float64(e1)/n, "events-x1-16w")
	b.ReportMetric(float64(e16)/n, "events-x16-16w")
	b.ReportMetric(evps(e1, t1), "events/s-x1")
	b.ReportMetric(evps(e16, t16), "events/s-x16")
	b.ReportMetric(t16.Seconds()/t1.Seconds(), "cost-x16/x1(max-24)")
	b.ReportMetric(evps(e16, t16)/evps(e1, t1), "events/s-x16/x1(min-0.75)")
	b.ReportMetric(evps(e1, t1)/evps(ew, tw), "events/s-16w/1w(min-0.75)")
}

// tandemRun makes 40,000 parts on the tandem line (three stations in
// series): released at once in one order, so that 40,000 wait at the
// first station, or as the plant's Poisson stream of one-part orders
// (a short queue). It returns the CPU time per part.
func tandemRun(b *testing.B, atOnce bool, rule plant.Rule) time.Duration {
	const parts = 40000
	p, err := plant.Load("../../testdata/plants/tandem.yaml")
	if err != nil {
		b.Fatal(err)
	}
	opt := Options{Seed: 1, Dispatch: &rule, Horizon: sim.MaxTime / 4}
	if atOnce {
		opt.Orders = []plant.Order{{ID: "all", Product: p.Products[0], Quantity: parts, Release: p.Start, Due: p.Start.Add(90 * 24 * time.Hour)}}
	} else {
		p.Demand.Generator.Until = p.Start.Add(time.Duration(float64(parts) * p.Demand.Generator.Interarrival.Mean() * float64(time.Second)))
	}
	m, err := New(p, opt)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	t0 := cpuTime()
	r := m.Run()
	d := cpuTime() - t0
	if atOnce && r.Produced != parts {
		b.Fatalf("made %d parts of %d", r.Produced, parts)
	}
	return d / time.Duration(max(r.Produced, 1))
}

// BenchmarkLongQueue compares the cost per part of a 40,000-part queue
// with that of a short queue, side by side, for the fifo and edd rules
// (target: at most 2×).
func BenchmarkLongQueue(b *testing.B) {
	for _, rule := range []plant.Rule{plant.FIFO, plant.EDD} {
		b.Run(rule.String(), func(b *testing.B) {
			var long, short time.Duration
			for b.Loop() {
				long += tandemRun(b, true, rule)
				short += tandemRun(b, false, rule)
			}
			b.ReportMetric(float64(long.Nanoseconds())/float64(b.N), "ns/part-40k-queue")
			b.ReportMetric(float64(short.Nanoseconds())/float64(b.N), "ns/part-short-queue")
			b.ReportMetric(float64(long)/float64(short), "cost-40k/short(max-2)")
		})
	}
}

// TestScaledPlantEvents: the motor plant ×16 fires at most 20 times the
// events of the plant ×1 over two weeks (16 times the work, and slack for
// the longer queues): an arrival wakes one machine, not every idle one.
// Before, the ×16 plant's 32 ovens were poked on every arrival and it
// fired about 60 times the events.
func TestScaledPlantEvents(t *testing.T) {
	events := func(k int) uint64 {
		p, err := plant.Load("../../testdata/plants/motor.yaml")
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(scalePlant(p, k), Options{Seed: 1, Horizon: 2 * sim.Week})
		if err != nil {
			t.Fatal(err)
		}
		return m.Run().Events
	}
	e1, e16 := events(1), events(16)
	t.Logf("events over 2 weeks: ×1 %d, ×16 %d (%.1f×)", e1, e16, float64(e16)/float64(e1))
	if e16 > 20*e1 {
		t.Errorf("the plant ×16 fired %d events, %.1f× the %d of the plant ×1; want at most 20×", e16, float64(e16)/float64(e1), e1)
	}
}
