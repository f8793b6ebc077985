package model

import (
	"time"

	"twin/plant"
	"twin/sim"
)

// shiftDriver switches the machines and worker pools of one calendar on
// and off at its transitions.
type shiftDriver struct {
	m     *Model
	cal   *plant.Calendar
	units []*unit
	pools []*pool
	ev    sim.Event
}

// startCalendars sets every machine and pool to its calendar's state at
// time 0 and schedules the transitions.
func (m *Model) startCalendars() {
	drivers := map[*plant.Calendar]*shiftDriver{}
	get := func(c *plant.Calendar) *shiftDriver {
		if c == nil {
			c = m.p.Calendar
		}
		if d, ok := drivers[c]; ok {
			return d
		}
		d := &shiftDriver{m: m, cal: c}
		d.ev.Init("calendar/"+calID(c), d.step)
		drivers[c] = d
		return d
	}
	for _, u := range m.units {
		d := get(u.wc.p.Calendar)
		d.units = append(d.units, u)
	}
	for _, pl := range m.p.Pools {
		d := get(pl.Calendar)
		d.pools = append(d.pools, m.pools[pl.Skill])
	}
	// Start the drivers in a fixed order (the plant's calendar order).
	order := append([]*plant.Calendar{nil}, m.p.Calendars...)
	for _, c := range order {
		if d, ok := drivers[c]; ok {
			d.step()
		}
	}
}

func calID(c *plant.Calendar) string {
	if c == nil {
		return "always"
	}
	return c.ID
}

// step applies the calendar's state now and waits for its next change.
func (d *shiftDriver) step() {
	m := d.m
	working, shift, until := true, "", sim.MaxTime
	if d.cal != nil {
		var next time.Time
		working, shift, next = d.cal.State(m.WallTime(m.env.Now()))
		if t := m.simTime(next); t > m.env.Now() && !next.IsZero() {
			until = t
		}
	}
	for _, u := range d.units {
		u.setShift(working)
	}
	for _, p := range d.pools {
		p.setShift(shift, working)
	}
	if until < sim.MaxTime {
		m.env.Schedule(&d.ev, until, sim.Urgent)
	}
}
