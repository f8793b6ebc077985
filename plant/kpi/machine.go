package kpi

import (
	"slices"
	"time"

	"twin/plant/event"
)

// Times are a machine's (or a group's) times in a window, by the buckets
// of the time model (see the package doc).
type Times struct {
	APT, AUST, ADET, ADOT, PDOT time.Duration
	// Overtime is the part of APT and AUST outside the calendar.
	Overtime time.Duration
	// OffShift is observed time outside the calendar, not working.
	OffShift time.Duration
	// Unobserved is time without a known state.
	Unobserved time.Duration
}

// POT is the planned operation time: every planned bucket.
func (t Times) POT() time.Duration { return t.APT + t.AUST + t.ADET + t.ADOT + t.PDOT }

// PBT is the planned busy time: POT less planned downtime.
func (t Times) PBT() time.Duration { return t.APT + t.AUST + t.ADET + t.ADOT }

// AUBT is the actual unit busy time: production, setup and delays.
func (t Times) AUBT() time.Duration { return t.APT + t.AUST + t.ADET }

// Observed is the time with a known state.
func (t Times) Observed() time.Duration { return t.POT() + t.OffShift }

// Add adds o's times to t (a line is the sum of its machines).
func (t *Times) Add(o Times) {
	t.APT += o.APT
	t.AUST += o.AUST
	t.ADET += o.ADET
	t.ADOT += o.ADOT
	t.PDOT += o.PDOT
	t.Overtime += o.Overtime
	t.OffShift += o.OffShift
	t.Unobserved += o.Unobserved
}

// Quantities are what a machine (or a group) produced in a window.
type Quantities struct {
	PQ, GQ, SQ float64 // produced, good, rejected (scrap or sent to rework)
	// Planned is the planned run time of what was produced (PRU × PQ),
	// each count pro-rated to the share of its run inside the window.
	Planned time.Duration
	// EnergyKWh is the energy drawn in the window: its power integrated
	// over the window where the machine reports its power (exact at the
	// window's edges), else its energy meter's increase.
	EnergyKWh float64
}

// Add adds o's quantities to q.
func (q *Quantities) Add(o Quantities) {
	q.PQ += o.PQ
	q.GQ += o.GQ
	q.SQ += o.SQ
	q.Planned += o.Planned
	q.EnergyKWh += o.EnergyKWh
}

// bucket says where an instant of a machine in state s goes when its
// calendar is on (or off).
type bucket uint8

const (
	bUnobserved bucket = iota
	bAPT
	bAUST
	bADET
	bADOT
	bPDOT
	bOffShift
	nBuckets
)

// buckets maps [calendar on][state] to a bucket.
var buckets = func() (b [2][256]bucket) {
	for on := 0; on < 2; on++ {
		for s := range 256 {
			b[on][s] = bUnobserved
		}
	}
	for on := 0; on < 2; on++ {
		off := on == 0
		set := func(s event.MachineState, planned bucket) {
			if off {
				b[on][s] = bOffShift
			} else {
				b[on][s] = planned
			}
		}
		set(event.Down, bADET)
		set(event.Blocked, bADET)
		set(event.Idle, bADOT)
		set(event.Starved, bADOT)
		set(event.Off, bADOT)
		set(event.Maintenance, bPDOT)
		// production and setup are planned whenever they happen
		b[on][event.Running] = bAPT
		b[on][event.Setup] = bAUST
	}
	return
}()

// Machine accumulates one machine's times and quantities over a window.
// Its methods take times in Unix nanoseconds (or simulated nanoseconds:
// any clock, as long as it is one clock) that never go backwards; a
// call with an earlier time than the last counts nothing for the gap.
// The zero Machine is closed; Open starts a window. It does not allocate.
type Machine struct {
	last    int64
	state   event.MachineState
	on      bool // the calendar is on
	dur     [nBuckets]int64
	overNs  int64 // APT and AUST outside the calendar
	q       Quantities
	power   float64 // kW, for machines without an energy meter
	meter   counter
	integ   float64 // kWh of power integrated
	metered bool    // an energy meter has been read
	powered bool    // a power reading is known
	// the run since the last count: running time before the window
	// opened, and inside it; unknown when the machine was not observed
	// since its last count (the twin started watching mid-cycle)
	runBefore, runIn int64
	runUnknown       bool
	countAt          int64   // time of the last count
	cShare           float64 // the share of that instant's run inside the window
	cBudget          float64 // what is left to credit of a run watched part-way (ns); negative: no bound
	good, rej        counter
	// stops people reported (Stops), and the time of each that fell in
	// the loss it explains
	stops  []Stop
	byStop []int64
}

// Stop is a stop a person reported at a machine, [From, To) in the
// machine's clock, with its reason and the loss it explains.
type Stop struct {
	From, To int64
	Reason   string
	Loss     Loss
}

// Loss is the ISO 22400 time a stop's reason explains.
type Loss uint8

const (
	LossAvailability Loss = iota // down, blocked, idle, starved or off while planned (ADET, ADOT)
	LossSetup                    // setup (AUST)
	LossPlanned                  // planned downtime (PDOT)
)

// explains says whether a stop of loss l explains time in bucket b.
func (l Loss) explains(b bucket) bool {
	switch l {
	case LossAvailability:
		return b == bADET || b == bADOT
	case LossSetup:
		return b == bAUST
	case LossPlanned:
		return b == bPDOT
	}
	return false
}

// Stops sets the stops reported at the machine (they may overlap the
// window or not; they should not overlap one another). Each instant of a
// stop counts for its reason when the machine's time then is the loss
// the reason explains; what it claims while the machine ran counts for
// nothing.
func (m *Machine) Stops(stops []Stop) {
	m.stops = stops
	m.byStop = make([]int64, len(stops))
}

// counter turns a cumulative counter's readings into its increase.
type counter struct {
	known bool
	last  float64
	sum   float64
}

// observe takes a reading: the increase since the previous one is
// counted; a reading below it means the counter was reset, and counts
// from zero. The first reading only sets the base.
func (c *counter) observe(v float64) (inc float64) {
	if c.known {
		if inc = v - c.last; inc < 0 {
			inc = v
		}
		c.sum += inc
	}
	c.known, c.last = true, v
	return inc
}

// Open starts a window at t with the machine in state st, its calendar
// on or off, and run nanoseconds of running since its last count (the
// part of a cycle before the window). known is false when the run began
// before the machine was watched (run is then the part the twin saw).
func (m *Machine) Open(t int64, st event.MachineState, calendarOn bool, run time.Duration, known bool) {
	stops, by := m.stops, m.byStop
	clear(by)
	defer func() { m.stops, m.byStop = stops, by }()
	*m = Machine{last: t, state: st, on: calendarOn, runBefore: int64(max(run, 0)), countAt: -1 << 63,
		runUnknown: !known || st == event.Unknown}
}

// Reset starts a new window at t, keeping the machine's state, calendar,
// counters' bases, power and the run in progress (the simulator's end of
// warm-up).
func (m *Machine) Reset(t int64) {
	m.advance(t)
	run, known := m.Run()
	st, on, power := m.state, m.on, m.power
	good, rej, meter := m.good, m.rej, m.meter
	metered, powered := m.metered, m.powered
	m.Open(t, st, on, run, known)
	m.power, m.metered, m.powered = power, metered, powered
	m.good, m.rej, m.meter = good, rej, meter
	m.good.sum, m.rej.sum, m.meter.sum = 0, 0, 0
}

func (m *Machine) advance(t int64) {
	dt := t - m.last
	if dt <= 0 {
		return
	}
	on := 0
	if m.on {
		on = 1
	}
	b := buckets[on][m.state]
	m.dur[b] += dt
	for i, s := range m.stops {
		if lo, hi := max(s.From, m.last), min(s.To, t); hi > lo && s.Loss.explains(b) {
			m.byStop[i] += hi - lo
		}
	}
	if !m.on && (b == bAPT || b == bAUST) {
		m.overNs += dt
	}
	if m.state == event.Running {
		m.runIn += dt
	}
	m.integ += m.power * float64(dt) / 3.6e12
	m.last = t
}

// State records that the machine entered state st at t. A machine that
// comes out of the unknown (the twin starts watching it) is mid-cycle
// for all the twin knows: its first count is credited at most the running
// time the twin saw.
func (m *Machine) State(t int64, st event.MachineState) {
	m.advance(t)
	if st == event.Unknown || m.state == event.Unknown {
		m.runUnknown = true
	}
	m.state = st
}

// Calendar records that the machine's calendar turned on or off at t.
func (m *Machine) Calendar(t int64, on bool) {
	m.advance(t)
	m.on = on
}

// Count records good and rejected units finished at t, each planned to
// take pru. The planned time counted is pro-rated to the share of the run
// (the running time since the previous count) that lies inside the
// window; counts at the same instant share one run (a batch). A run the
// twin began watching part-way is taken to have lasted at least its
// planned time: its counts are credited at most the running time seen.
func (m *Machine) Count(t int64, good, rejected float64, pru time.Duration) {
	m.advance(t)
	n := good + rejected
	if n <= 0 {
		return
	}
	if t != m.countAt { // the first count of an instant ends the run
		run := m.runBefore + m.runIn
		m.cShare, m.cBudget = 1, -1
		if run > 0 {
			m.cShare = float64(m.runIn) / float64(run)
			if m.runUnknown {
				m.cBudget = float64(run)
			}
		}
		m.countAt = t
		m.runBefore, m.runIn, m.runUnknown = 0, 0, false
	}
	planned := float64(pru) * n
	if m.cBudget >= 0 {
		planned = min(planned, m.cBudget)
		m.cBudget -= planned
	}
	m.q.PQ += n
	m.q.GQ += good
	m.q.SQ += rejected
	m.q.Planned += time.Duration(planned * m.cShare)
}

// Counters takes readings of the machine's cumulative good and reject
// counters at t (either may be absent: pass ok false) and counts their
// increases, each unit planned to take pru.
func (m *Machine) Counters(t int64, good float64, goodOK bool, rejected float64, rejOK bool, pru time.Duration) {
	var g, r float64
	if goodOK {
		g = m.good.observe(good)
	}
	if rejOK {
		r = m.rej.observe(rejected)
	}
	if g > 0 || r > 0 {
		m.Count(t, g, r, pru)
	} else {
		m.advance(t)
	}
}

// Power records the machine's draw (kW) from t on; it is integrated into
// energy when the machine has no energy meter.
func (m *Machine) Power(t int64, kw float64) {
	m.advance(t)
	m.power, m.powered = kw, true
}

// Meter takes a reading of the machine's cumulative energy meter (kWh).
func (m *Machine) Meter(t int64, kwh float64) {
	m.advance(t)
	m.metered = true
	m.meter.observe(kwh)
}

// Close advances the window to t (its end, or the end of what was
// observed).
func (m *Machine) Close(t int64) { m.advance(t) }

// OpenRun reports a run under way when the window closed: its running
// time inside the window, and in all so far (before the window too).
func (m *Machine) OpenRun() (in, total time.Duration) {
	return time.Duration(m.runIn), time.Duration(m.runBefore + m.runIn)
}

// Pending credits the window with the planned time of the run under way
// when it closed, once that run's end is known (or estimated): the run
// will take left more running time and make units planned to take
// planned in all; the window gets the share of planned its running time
// was. It is counted once: the run's time in the window is then settled.
// Units are not counted (they are produced in a later window).
func (m *Machine) Pending(left, planned time.Duration) {
	if m.runIn <= 0 || planned <= 0 {
		return
	}
	total := float64(m.runBefore + m.runIn + int64(max(left, 0)))
	if m.runUnknown {
		total = max(total, float64(planned))
	}
	m.q.Planned += time.Duration(float64(planned) * float64(m.runIn) / total)
	m.runBefore += m.runIn
	m.runIn = 0
}

// Unobserved records that from t the machine's state is unknown (its
// source went away): the same as State(t, event.Unknown).
func (m *Machine) Unobserved(t int64) { m.State(t, event.Unknown) }

// Run returns the running time since the machine's last count, and
// whether that is all of it (false: the run began before the machine was
// watched, and this is the part the twin saw).
func (m *Machine) Run() (time.Duration, bool) {
	return time.Duration(m.runBefore + m.runIn), !m.runUnknown
}

// MachineState returns the machine's state now.
func (m *Machine) MachineState() event.MachineState { return m.state }

// Times returns the window's times so far.
func (m *Machine) Times() Times {
	return Times{
		APT: time.Duration(m.dur[bAPT]), AUST: time.Duration(m.dur[bAUST]), ADET: time.Duration(m.dur[bADET]),
		ADOT: time.Duration(m.dur[bADOT]), PDOT: time.Duration(m.dur[bPDOT]), OffShift: time.Duration(m.dur[bOffShift]),
		Unobserved: time.Duration(m.dur[bUnobserved]), Overtime: time.Duration(m.overNs),
	}
}

// Losses returns the availability loss (PBT − APT: setup, delay and
// down time) explained by the stops reported, by reason (planned-downtime
// reasons explain PDOT, which is no loss of availability), and the part
// of the loss no stop explains.
func (m *Machine) Losses() (byReason []ReasonTime, unexplained time.Duration) {
	t := m.Times()
	loss := t.AUST + t.ADET + t.ADOT
	var explained time.Duration
	for i, s := range m.stops {
		d := time.Duration(m.byStop[i])
		if d == 0 {
			continue
		}
		if s.Loss != LossPlanned {
			explained += d
		}
		j := slices.IndexFunc(byReason, func(r ReasonTime) bool { return r.Reason == s.Reason })
		if j < 0 {
			byReason = append(byReason, ReasonTime{Reason: s.Reason})
			j = len(byReason) - 1
		}
		byReason[j].Time += d
	}
	return byReason, max(loss-explained, 0)
}

// Quantities returns the window's quantities so far.
func (m *Machine) Quantities() Quantities {
	q := m.q
	if m.metered && !m.powered {
		q.EnergyKWh = m.meter.sum
	} else {
		q.EnergyKWh = m.integ
	}
	return q
}
