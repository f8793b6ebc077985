package model

import (
	"errors"
	"fmt"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/sim"
)

// Options configure a model run.
type Options struct {
	Seed    uint64
	Warmup  sim.Time // statistics start here
	Horizon sim.Time // statistics run for this long after the warm-up

	// Sink receives the run's events (state changes, moves, operations,
	// counters, power, orders); nil discards them at no cost.
	Sink event.Sink
	// Source marks the events (event.Scenario by default).
	Source event.Source

	// Orders, when not nil, replace the plant's demand: the order list is
	// used and the generator is off.
	Orders []plant.Order
	// NoGenerator turns the plant's order generator off.
	NoGenerator bool
	// FirstOrder is the number of the generator's first order (G00001 at
	// 0 or 1): a plant that continues an earlier run's history numbers its
	// new orders after the old ones.
	FirstOrder int

	// Start is the plant clock at simulated time 0 (shifts, tariffs and
	// due dates are read against it); zero means the plant's Start. A
	// forecast from now sets it to now.
	Start time.Time
	// Down lists the units (by equipment path) that are down at the start:
	// each fails at once with its first failure mode and is repaired as
	// that mode says. A forecast from the live state sets it.
	Down []string
	// Dispatch, when set, replaces every work centre's dispatch rule (the
	// MES schedules by customer priority, then due date).
	Dispatch *plant.Rule
	// Resume starts the plant where a position says it stands (its open
	// orders, their units, its machines' work in hand and those down)
	// instead of empty: the virtual plant resuming a history, a forecast.
	// Its machines down join Down.
	Resume *Position
}

// Model is a plant simulation on the kernel. Build it with New, then Run it
// (a batch run) or drive it with RunUntil (the virtual plant, forecasts).
// A model belongs to one goroutine.
type Model struct {
	p    *plant.Plant
	opt  Options
	env  *sim.Env
	sink event.Sink
	t0   int64 // Unix nanoseconds of simulated time 0

	units    []*unit
	wcs      []*wcenter
	families map[string]int   // family → index, for the work centres' queues
	pools    map[string]*pool // by skill
	orders   []*order
	open     int    // orders released and not completed
	freeJobs []*job // jobs that have left the plant, for newJob
	times    stepTimes

	jobRand  *sim.Stream // reseeded per draw identity: see sim.Key
	wip      sim.TimeWeighted
	nWIP     int
	statFrom sim.Time

	energy energyMeter
	stats  runStats

	remaining map[remKey]float64 // mean work left, seconds, from an operation on
}

type remKey struct {
	routing *plant.Routing
	op      int
	product *plant.Product
}

// New builds a model of plant p.
func New(p *plant.Plant, opt Options) (*Model, error) {
	if p == nil {
		return nil, errors.New("model: nil plant")
	}
	if len(p.Units) == 0 {
		return nil, fmt.Errorf("model: plant %s has no units", p.ID)
	}
	if opt.Source == 0 {
		opt.Source = event.Scenario
	}
	m := &Model{
		p:         p,
		opt:       opt,
		env:       sim.New(sim.Options{Seed: opt.Seed}),
		sink:      opt.Sink,
		t0:        p.Start.UnixNano(),
		pools:     map[string]*pool{},
		remaining: map[remKey]float64{},
	}
	if !opt.Start.IsZero() {
		m.t0 = opt.Start.UnixNano()
	}
	m.jobRand = m.env.Stream("jobs")
	m.times = stepTimes{by: map[*plant.Alternative][]stepTime{}, p: p}
	m.families = map[string]int{}
	for _, f := range p.Families {
		if _, ok := m.families[f]; !ok {
			m.families[f] = len(m.families)
		}
	}
	for _, pr := range p.Products {
		if _, ok := m.families[pr.Family]; !ok {
			m.families[pr.Family] = len(m.families)
		}
	}
	for _, pl := range p.Pools {
		m.pools[pl.Skill] = newPool(m, pl)
	}
	for _, w := range p.WorkCenters {
		m.wcs = append(m.wcs, newWorkCenter(m, w))
	}
	for _, u := range p.Units {
		m.units = append(m.units, newUnit(m, u, m.wcs[u.WorkCenter.Index]))
	}
	m.wip.Reset(0, 0)
	m.energy.init(m)
	m.startCalendars()
	if opt.Resume != nil {
		m.resume(opt.Resume)
		opt.Down = append(append([]string(nil), opt.Down...), opt.Resume.Down...)
	}
	for _, u := range m.units {
		u.start()
	}
	if opt.Resume != nil {
		m.resumeClocks(opt.Resume.Clocks)
	}
	m.startDemand()
	m.startSources()
	for _, path := range opt.Down {
		for _, u := range m.units {
			if u.path == path && len(u.failures) > 0 {
				m.env.At(0, func() {
					if u.down == nil {
						u.fail(u.failures[0])
					}
				})
			}
		}
	}
	if opt.Warmup > 0 {
		m.env.At(opt.Warmup, m.resetStats)
	}
	return m, nil
}

// Env returns the simulation environment.
func (m *Model) Env() *sim.Env { return m.env }

// Plant returns the plant.
func (m *Model) Plant() *plant.Plant { return m.p }

// Now returns the current simulated time.
func (m *Model) Now() sim.Time { return m.env.Now() }

// simTime converts a plant clock reading into simulated time.
func (m *Model) simTime(t time.Time) sim.Time { return sim.Time(t.UnixNano() - m.t0) }

// WallTime returns the plant's clock at simulated time t.
func (m *Model) WallTime(t sim.Time) time.Time { return time.Unix(0, m.t0+int64(t)).In(m.p.Location) }

// Run runs the warm-up and the horizon and returns the statistics of the
// horizon.
func (m *Model) Run() *Result {
	end := m.opt.Warmup + m.opt.Horizon
	m.env.RunUntil(end)
	return m.Result()
}

// RunUntil advances the model to simulated time t.
func (m *Model) RunUntil(t sim.Time) { m.env.RunUntil(t) }

// resetStats starts the statistics window: the warm-up is over.
func (m *Model) resetStats() {
	now := m.env.Now()
	m.statFrom = now
	m.wip.Reset(now, float64(m.nWIP))
	m.stats.reset()
	m.energy.reset(now)
	for _, u := range m.units {
		u.resetStats(now)
	}
	for _, w := range m.wcs {
		w.queueLen.Reset(now, float64(w.queue.n))
	}
}

// emit sends an event if there is a sink.
func (m *Model) emit(kind event.Kind, asset, name, ref string, v float64) {
	if m.sink == nil {
		return
	}
	m.sink.Emit(event.Event{
		Time:   m.t0 + int64(m.env.Now()),
		Kind:   kind,
		Source: m.opt.Source,
		Asset:  asset,
		Name:   name,
		Ref:    ref,
		Value:  v,
	})
}

// draw samples d for a draw identified by (job, operation, purpose):
// the same identity gives the same number in every variant of a scenario.
func (m *Model) draw(d sim.Dist, j *job, purpose uint64) sim.Time {
	if d == nil {
		return 0
	}
	m.jobRand.Reseed(sim.Key(m.opt.Seed, uint64(j.id), uint64(j.passes)<<40|uint64(j.op)<<8|uint64(j.attempt), purpose))
	return m.jobRand.Duration(d)
}

// chance reports a keyed Bernoulli draw with probability p.
func (m *Model) chance(p float64, j *job, purpose uint64) bool {
	m.jobRand.Reseed(sim.Key(m.opt.Seed, uint64(j.id), uint64(j.passes)<<40|uint64(j.op)<<8|uint64(j.attempt), purpose))
	return m.jobRand.Float64() < p
}

// Purposes of keyed draws.
const (
	drawProcess uint64 = iota + 1
	drawSetup
	drawInspect
	drawScrap
	drawRework
	drawResume // the rest of a run under way when a position was taken
)

// remainingWork returns the mean processing time, in seconds, from
// operation op of routing r to its end, for product pr (first
// alternatives).
func (m *Model) remainingWork(r *plant.Routing, op int, pr *plant.Product) float64 {
	k := remKey{r, op, pr}
	if v, ok := m.remaining[k]; ok {
		return v
	}
	v := 0.0
	for _, o := range r.Ops[op:] {
		if len(o.Alternatives) > 0 {
			if d := o.Alternatives[0].Time.ForProduct(pr.ID, pr.Family); d != nil {
				v += d.Mean()
			}
		}
	}
	m.remaining[k] = v
	return v
}

// EmitState sends the sink the current state of every machine (state,
// power, energy, counters), every open order, and where every unit of
// theirs is, so that a consumer that starts listening now (the twin of a
// virtual plant after its warm-up) knows the whole plant, as a gateway's
// birth messages and an MES's work in progress tell it. A unit in a
// buffer is a Moved into it; one on a machine an OpStarted there; one
// held by the machine that finished it (no room downstream) a Moved to
// that machine; one waiting for room or for its parts a Moved to the
// work centre it waits for, from nowhere.
func (m *Model) EmitState() {
	for _, u := range m.units {
		m.emit(event.State, u.path, "", "", float64(u.state))
		m.emit(event.Measure, u.path, "power_kw", "", u.power[u.state])
		m.emit(event.Measure, u.path, "energy_kwh", "", u.energy)
		m.emit(event.Counter, u.path, "good", "", float64(u.totalGood))
		m.emit(event.Counter, u.path, "reject", "", float64(u.totalReject))
	}
	for _, o := range m.orders {
		if o.finished {
			continue
		}
		m.emit(event.Order, o.product.ID, "released", o.id, float64(o.qty))
		m.emit(event.Order, o.product.ID, "due", o.id, float64(m.WallTime(o.due).UnixNano())/1e9)
		m.emit(event.Order, o.product.ID, "priority", o.id, float64(o.priority))
		if o.done > 0 {
			m.emit(event.Order, o.product.ID, "progress", o.id, float64(o.done))
		}
	}
	waiting := func(j *job) {
		if j.op < len(j.routing.Ops) && len(j.routing.Ops[j.op].Alternatives) > 0 {
			m.emit(event.Moved, j.routing.Ops[j.op].Alternatives[0].WorkCenter.Path(), "", j.String(), 0)
		}
	}
	for _, w := range m.wcs {
		i := 0
		for j := w.queue.head; j != nil; j = j.qnext {
			i++
			m.emit(event.Moved, w.bufPath, "", j.String(), float64(i))
		}
		for _, j := range w.pending.all() {
			waiting(j)
		}
		for _, u := range w.units {
			for _, j := range u.jobs {
				m.emit(event.OpStarted, u.path, j.routing.Ops[j.op].ID, j.String(), 0)
			}
			for _, j := range u.out {
				m.emit(event.Moved, u.path, "", j.String(), 0)
			}
		}
	}
	for _, o := range m.orders {
		if !o.finished {
			for _, j := range o.kitWait {
				waiting(j)
			}
		}
	}
}
