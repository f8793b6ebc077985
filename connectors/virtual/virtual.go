// Package virtual plays a simulated plant in real time, or N times faster,
// onto the sinks a real plant would feed: the OPC UA server and the MQTT
// publisher of the connectors, or the twin directly.
//
// The simulation runs on its own clock (package plant/model); Run maps it
// onto the wall clock: after d of wall time, the model has reached
// Speed × d of plant time. Every event the model emits carries the plant
// clock's time (which starts at Options.Start, now by default), so a twin
// fed by a virtual plant at ×60 sees an hour of plant time per minute.
//
//	v, _ := virtual.New(p, virtual.Options{Speed: 60, Sink: fanout})
//	go v.Run(ctx)
package virtual

import (
	"context"
	"errors"
	"sync"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
)

// Options configure a virtual plant.
type Options struct {
	Seed  uint64
	Speed float64 // plant seconds per wall second; 0 means 1
	// Start is the plant clock when the run begins; zero means now.
	Start time.Time
	// Tick is how often the model is advanced; 0 means 50 ms. Events due
	// within a tick are delivered together at its end.
	Tick time.Duration
	// Warmup runs the plant this long (plant time) before Start without
	// publishing, then sends the state it reached, so the stream starts
	// with machines at work and orders in progress.
	Warmup time.Duration
	// FirstOrder numbers the plant's generated orders from this one (see
	// model.Options).
	FirstOrder int
	// Resume starts the plant where a position says it stands (a twin's
	// history: see twin/forecast.Position) instead of from a warm-up: it
	// then sends the state it starts from, as after a warm-up.
	Resume *model.Position
	Sink   event.Sink // receives every event, from Run's goroutine
}

// Plant is a running virtual plant.
type Plant struct {
	p     *plant.Plant
	opt   Options
	m     *model.Model
	mu    sync.Mutex
	count uint64
	live  bool     // events reach the sink
	base  sim.Time // simulated time at Start

	orders struct { // released from outside, for the next step
		sync.Mutex
		q []plant.Order
	}
}

// New builds the model of p. It does not start it: call Run.
func New(p *plant.Plant, opt Options) (*Plant, error) {
	if opt.Speed == 0 {
		opt.Speed = 1
	}
	if opt.Speed < 0 {
		return nil, errors.New("virtual: negative speed")
	}
	if opt.Tick <= 0 {
		opt.Tick = 50 * time.Millisecond
	}
	if opt.Start.IsZero() {
		opt.Start = time.Now()
	}
	v := &Plant{p: p, opt: opt, live: opt.Warmup <= 0, base: sim.Time(opt.Warmup)}
	sink := event.SinkFunc(func(e event.Event) {
		if !v.live {
			return
		}
		v.count++
		if opt.Sink != nil {
			opt.Sink.Emit(e)
		}
	})
	mo := model.Options{Seed: opt.Seed, Sink: sink, Source: event.Live, Start: opt.Start.Add(-opt.Warmup), FirstOrder: opt.FirstOrder}
	if opt.Resume != nil {
		mo.Start, mo.Resume, v.base, v.live = opt.Start, opt.Resume, 0, false
	}
	m, err := model.New(p, mo)
	if err != nil {
		return nil, err
	}
	v.m = m
	if opt.Warmup > 0 || opt.Resume != nil {
		m.RunUntil(v.base)
		v.live = true
		m.EmitState()
	}
	return v, nil
}

// Release hands the plant an order to work (one its records released,
// which it did not generate itself); it is released at the plant's next
// step. Safe to call from any goroutine, also while the plant emits.
func (v *Plant) Release(o plant.Order) {
	v.orders.Lock()
	v.orders.q = append(v.orders.q, o)
	v.orders.Unlock()
}

// released releases the orders handed over since the last step, but for
// those the plant has already. v.mu is held.
func (v *Plant) released() {
	v.orders.Lock()
	q := v.orders.q
	v.orders.q = nil
	v.orders.Unlock()
	for _, o := range q {
		if !v.m.Has(o.ID) && o.Product != nil {
			v.m.Release(o)
		}
	}
}

// Model returns the model; touch it only while Run is not running.
func (v *Plant) Model() *model.Model { return v.m }

// Now returns the plant clock the simulation has reached.
func (v *Plant) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m.WallTime(v.m.Now())
}

// Events returns how many events the plant has emitted.
func (v *Plant) Events() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.count
}

// Run advances the model with the wall clock until ctx is done.
func (v *Plant) Run(ctx context.Context) error {
	begin := time.Now()
	t := time.NewTicker(v.opt.Tick)
	defer t.Stop()
	for {
		v.advance(time.Since(begin))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// advance runs the model to the plant time wall time d corresponds to.
func (v *Plant) advance(d time.Duration) {
	target := v.base + sim.Time(float64(d)*v.opt.Speed)
	v.mu.Lock()
	v.released()
	v.m.RunUntil(target)
	v.mu.Unlock()
}

// RunFor advances the model by plant time d at once, without pacing: for
// tests and for filling a twin's history quickly.
func (v *Plant) RunFor(d time.Duration) {
	v.mu.Lock()
	v.released()
	v.m.RunUntil(v.m.Now() + sim.Time(d))
	v.mu.Unlock()
}
