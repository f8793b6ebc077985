package model

import (
	"twin/plant"
	"twin/sim"
)

// energyMeter integrates the plant's power draw into kWh and cost under
// the time-of-use tariff. Machines report their power changes; the tariff
// reports its price changes; between two changes everything is constant,
// so the integral is exact.
type energyMeter struct {
	m      *Model
	kw     float64 // the plant's draw now
	last   sim.Time
	kwh    float64
	cost   float64
	price  float64
	byBand map[string]float64 // kWh per tariff period
	band   string
	ev     sim.Event
	tariff *plant.Tariff
}

func (e *energyMeter) init(m *Model) {
	e.m = m
	e.byBand = map[string]float64{}
	e.tariff = &m.p.Energy.Tariff
	e.ev.Init("tariff", e.step)
	if len(e.tariff.Periods) > 0 {
		e.step()
	}
}

// step applies the tariff's price now and waits for its next change.
func (e *energyMeter) step() {
	now := e.m.env.Now()
	e.accumulate(now)
	p, until := e.tariff.At(e.m.WallTime(now))
	e.price, e.band = 0, ""
	if p != nil {
		e.price, e.band = p.Price, p.Name
	}
	if !until.IsZero() {
		if t := e.m.simTime(until); t > now {
			e.m.env.Schedule(&e.ev, t, sim.Urgent)
		}
	}
}

func (e *energyMeter) accumulate(now sim.Time) {
	if now > e.last {
		kwh := e.kw * (now - e.last).Hours()
		e.kwh += kwh
		e.cost += kwh * e.price
		e.byBand[e.band] += kwh
		e.last = now
	}
}

// change records that the plant's draw changes by dkw at now.
func (e *energyMeter) change(now sim.Time, dkw float64) {
	if dkw == 0 {
		return
	}
	e.accumulate(now)
	e.kw += dkw
}

func (e *energyMeter) reset(now sim.Time) {
	e.accumulate(now)
	e.kwh, e.cost = 0, 0
	clear(e.byBand)
}
