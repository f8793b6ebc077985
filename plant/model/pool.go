package model

import (
	"twin/plant"
)

// pool is a group of workers with one skill. Machines take an operator for
// their setups and runs, and a repairer or maintainer for repairs and
// planned maintenance; a machine that finds none waits in line.
type pool struct {
	m       *Model
	p       *plant.Pool
	cap     int
	busy    int
	waiters []waiter
}

type waiter struct {
	u      *unit
	helper bool // waits for a repairer or maintainer, not an operator
}

func newPool(m *Model, p *plant.Pool) *pool {
	return &pool{m: m, p: p, cap: p.Count}
}

// acquire gives u an operator if one is free, else puts u in line.
func (p *pool) acquire(u *unit) bool { return p.get(u, false) }

// acquireHelper is acquire for a repair or maintenance.
func (p *pool) acquireHelper(u *unit) bool { return p.get(u, true) }

func (p *pool) get(u *unit, helper bool) bool {
	if p.busy < p.cap && len(p.waiters) == 0 {
		p.busy++
		return true
	}
	if u.want != p {
		if u.want != nil {
			u.want.cancel(u)
		}
		u.want = p
		p.waiters = append(p.waiters, waiter{u, helper})
	}
	return false
}

// cancel takes u out of the line.
func (p *pool) cancel(u *unit) {
	for i, w := range p.waiters {
		if w.u == u {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	if u.want == p {
		u.want = nil
	}
}

// release gives a worker back and hands free workers to the line.
func (p *pool) release() {
	p.busy--
	p.serve()
}

func (p *pool) serve() {
	for p.busy < p.cap && len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = append(p.waiters[:0], p.waiters[1:]...)
		p.busy++
		w.u.want = nil
		if w.helper {
			w.u.helper = true
		} else {
			w.u.operator = true
		}
		w.u.poke()
	}
}

// setShift sets the number of workers present for shift (working false:
// none). Workers already busy finish what they do.
func (p *pool) setShift(shift string, working bool) {
	n := 0
	if working {
		n = p.p.Count
		if c, ok := p.p.PerShift[shift]; ok {
			n = c
		}
	}
	p.cap = n
	p.serve()
}
