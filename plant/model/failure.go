package model

import (
	"twin/plant"
	"twin/plant/event"
	"twin/sim"
)

// failureMode drives one failure mode of a machine. Calendar-basis
// failures come at wall-clock intervals; operating-basis failures count
// only running time. Time between failures is counted from the end of the
// previous repair.
type failureMode struct {
	u       *unit
	f       *plant.Failure
	ev      sim.Event
	tbf     *sim.Stream
	ttr     *sim.Stream
	left    sim.Time // operating basis: running time left to the failure
	pending bool     // came due while the machine was off or down
}

func newFailureMode(u *unit, f *plant.Failure) *failureMode {
	fm := &failureMode{u: u, f: f}
	fm.ev.Init(u.path+"/failure/"+f.Name, fm.fire)
	fm.tbf = u.m.env.Stream(u.path + "/failure/" + f.Name)
	fm.ttr = u.m.env.Stream(u.path + "/repair/" + f.Name)
	return fm
}

func (fm *failureMode) start() { fm.arm() }

// arm draws the time to the next failure.
func (fm *failureMode) arm() {
	d := fm.tbf.Duration(fm.f.TBF)
	if fm.f.Basis == plant.CalendarTime {
		fm.u.m.env.ScheduleIn(&fm.ev, d)
		return
	}
	fm.left = d
	if fm.u.phase == phRun && fm.u.timer.Pending() {
		fm.u.m.env.ScheduleIn(&fm.ev, d)
	}
}

// operating starts or stops the clock of an operating-basis failure.
func (fm *failureMode) operating(on bool) {
	if fm.f.Basis != plant.OperatingTime {
		return
	}
	env := fm.u.m.env
	if on {
		env.ScheduleIn(&fm.ev, fm.left)
		return
	}
	if fm.ev.Pending() {
		fm.left = fm.ev.When() - env.Now()
		env.Cancel(&fm.ev)
	}
}

func (fm *failureMode) fire() {
	u := fm.u
	if u.down != nil || !u.onShift {
		fm.pending = true // fails when it is next switched on or repaired
		return
	}
	u.fail(fm)
}

// shiftStarted lets a failure that came due off shift happen now.
func (fm *failureMode) shiftStarted() {
	if fm.pending && fm.u.down == nil {
		fm.pending = false
		fm.u.fail(fm)
	}
}

// fail takes the machine down: the phase under way pauses, the repair
// starts as soon as a repairer is free.
func (u *unit) fail(fm *failureMode) {
	u.pause()
	u.down = fm
	u.m.stats.failures++
	if u.m.sink != nil {
		u.m.emit(event.Alarm, u.path, "failure/"+fm.f.Name, "machine failure: "+fm.f.Name, 700)
	}
	u.poke()
}

// repair starts the repair of a down machine once it has its repairer.
func (u *unit) repair() {
	if u.repairing {
		return
	}
	fm := u.down
	if sk := fm.f.Skill; sk != "" && !u.helper {
		pl := u.m.pools[sk]
		if pl != nil && !pl.acquireHelper(u) {
			return // waits, down
		}
		u.helper = pl != nil
	}
	u.repairing = true
	u.m.env.ScheduleIn(&u.repairEnd, fm.ttr.Duration(fm.f.TTR))
}

// repaired ends a repair.
func (u *unit) repaired() {
	fm := u.down
	u.down, u.repairing = nil, false
	u.releaseHelper(fm.f.Skill)
	if u.m.sink != nil {
		u.m.emit(event.Alarm, u.path, "failure/"+fm.f.Name, "", 0)
	}
	fm.arm()
	for _, f := range u.failures {
		if f.pending && u.onShift {
			f.pending = false
			u.fail(f)
			break
		}
	}
	u.next()
}

func (u *unit) releaseHelper(skill string) {
	if u.helper {
		u.helper = false
		if pl := u.m.pools[skill]; pl != nil {
			pl.release()
		}
	}
}

// maintPlan drives one planned maintenance of a machine.
type maintPlan struct {
	u    *unit
	mp   *plant.Maintenance
	ev   sim.Event
	dur  *sim.Stream
	left sim.Time // operating basis: running time left until it is due
}

func newMaintPlan(u *unit, mp *plant.Maintenance) *maintPlan {
	p := &maintPlan{u: u, mp: mp}
	p.ev.Init(u.path+"/maintenance/"+mp.Name, p.due)
	p.dur = u.m.env.Stream(u.path + "/maintenance/" + mp.Name)
	return p
}

func (p *maintPlan) start() { p.arm() }

func (p *maintPlan) arm() {
	if p.mp.Basis == plant.CalendarTime {
		p.u.m.env.ScheduleIn(&p.ev, p.mp.Every)
		return
	}
	p.left = p.mp.Every
	if p.u.phase == phRun && p.u.timer.Pending() {
		p.u.m.env.ScheduleIn(&p.ev, p.left)
	}
}

func (p *maintPlan) operating(on bool) {
	if p.mp.Basis != plant.OperatingTime || p.u.maintDue == p {
		return
	}
	env := p.u.m.env
	if on {
		env.ScheduleIn(&p.ev, p.left)
		return
	}
	if p.ev.Pending() {
		p.left = p.ev.When() - env.Now()
		env.Cancel(&p.ev)
		if p.left <= 0 {
			p.due() // came due at the very end of the run
		}
	}
}

// due marks the maintenance due: the machine does it after its current job.
func (p *maintPlan) due() {
	u := p.u
	p.left = 0
	if u.maintDue == nil {
		u.maintDue = p
		if u.m.sink != nil {
			u.m.emit(event.Alarm, u.path, "maintenance/"+p.mp.Name, "planned maintenance due", 300)
		}
	}
	u.poke()
}

// maintain starts the due maintenance once a maintainer is free.
func (u *unit) maintain() {
	p := u.maintDue
	u.releaseOperator()
	if sk := p.mp.Skill; sk != "" && !u.helper {
		pl := u.m.pools[sk]
		if pl != nil && !pl.acquireHelper(u) {
			u.setState(event.Maintenance)
			return
		}
		u.helper = pl != nil
	}
	u.maintStart = u.m.env.Now()
	u.begin(phMaint, p.dur.Duration(p.mp.Duration), event.Maintenance)
}

// maintained ends a maintenance.
func (u *unit) maintained() {
	p := u.maintDue
	u.maintDue = nil
	u.releaseHelper(p.mp.Skill)
	u.m.stats.maintenance++
	if u.m.sink != nil {
		u.m.emit(event.Alarm, u.path, "maintenance/"+p.mp.Name, "", 0)
	}
	p.arm()
}
