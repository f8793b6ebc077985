// Package state is the twin's picture of the plant: a pure fold over
// events. Applying the same events in the same order gives the same state,
// whether they came live, from history or from the simulator; that is what
// makes replay, seek and forecast exact.
//
// It is not a store (twin/store keeps events and snapshots) and knows no
// protocol. A State is not safe for concurrent use; its owner serialises
// Apply and reads, or hands out Clones.
//
//	var s state.State
//	for _, e := range events {
//		s.Apply(e)
//	}
//	fmt.Println(s.Asset("qijiang/motor/stator/winding/W2").State)
package state

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"twin/plant/event"
	"twin/plant/kpi"
)

// State is the plant as the events describe it.
type State struct {
	Time    int64 // the twin's clock: time of the latest observation applied (Unix ns); Faults do not move it
	Applied uint64
	Source  event.Source // source of the latest event

	assets  map[string]*Asset
	buffers map[string]*Buffer
	orders  map[string]*Order
	faults  uint64 // Fault events seen
}

// Asset is the state of one machine (or any asset events name).
type Asset struct {
	Path     string
	State    event.MachineState
	Since    int64              // when it entered State
	Counters map[string]float64 // cumulative counters: good, reject, …
	Measures map[string]float64 // latest measurements: power_kw, energy_kwh, …
	Job      string             // the part in process (last operation started and not finished)
	Op       string             // its operation
	Alarms   map[string]Alarm   // active alarms by name
	Updated  int64              // time of the last event about it
	Quality  event.Quality      // quality of the last value
	// Cycle is the running time since the machine last counted a part
	// (its good or reject counter rose), up to CycleAt: how far into its
	// current cycle it is, which a KPI window opening now needs.
	// CycleKnown is false until the twin has seen a count since it began
	// watching the machine (Cycle is then the part it saw).
	Cycle, CycleAt int64
	CycleKnown     bool
}

// Run returns the machine's running time since its last count at t, and
// whether that is all of it (false: no count seen since the twin began
// watching it, and this is the part it saw).
func (a *Asset) Run(t int64) (time.Duration, bool) {
	c := a.Cycle
	if a.State == event.Running && t > a.CycleAt && a.CycleAt != 0 {
		c += t - a.CycleAt
	}
	return time.Duration(c), a.CycleKnown
}

// KPI returns what a KPI window opening at t needs to know of the machine.
func (a *Asset) KPI(t int64) kpi.Initial {
	g, okG := a.Counters["good"]
	r, okR := a.Counters["reject"]
	e, okE := a.Measures["energy_kwh"]
	pw, okP := a.Measures["power_kw"]
	run, known := a.Run(t)
	return kpi.Initial{State: a.State, Good: g, HasGood: okG, Reject: r, HasReject: okR, EnergyKWh: e, HasEnergy: okE,
		PowerKW: pw, HasPower: okP, Run: run, RunKnown: known, Job: a.Job, Op: a.Op}
}

// Alarm is an active alarm.
type Alarm struct {
	Text     string
	Severity float64
	Since    int64
}

// Buffer is the occupancy of a buffer, from Moved events.
type Buffer struct {
	Path  string
	Level float64
	Last  string // the part that moved in last
}

// Order is an order's progress, from Order events.
type Order struct {
	ID       string
	Product  string  // from the events' Asset
	Status   string  // released, progress, completed, …
	Quantity float64 // ordered, from "released"
	Done     float64 // quantity completed
	Due      int64   // Unix ns, from "due"; 0 unknown
	Priority int     // from "priority"
	Released int64
	Updated  int64
}

// Apply folds one event into the state.
func (s *State) Apply(e event.Event) {
	if s.assets == nil {
		s.assets = map[string]*Asset{}
		s.buffers = map[string]*Buffer{}
		s.orders = map[string]*Order{}
	}
	if e.Time > s.Time && e.Kind != event.Fault {
		// a Fault reports input the twin could not use (a malformed
		// message, a reading quarantined for its time): it is no
		// observation of the plant, so it does not move the clock
		s.Time = e.Time
	}
	s.Applied++
	s.Source = e.Source
	switch e.Kind {
	case event.State:
		a := s.asset(e.Asset)
		st := event.MachineState(e.Value)
		if st != a.State {
			a.cycleTo(e.Time)
			if a.State == event.Unknown || st == event.Unknown {
				a.CycleKnown = false // not watched: where it is in its cycle is not known
			}
			a.State, a.Since = st, e.Time
		}
		a.Updated, a.Quality = e.Time, e.Quality
	case event.Counter:
		a := s.asset(e.Asset)
		if old, ok := a.Counters[e.Name]; e.Name == "good" || e.Name == "reject" {
			switch {
			case !ok: // a first reading: a base, not a count
				a.cycleTo(e.Time)
			case e.Value != old: // a count ends the cycle
				a.Cycle, a.CycleAt, a.CycleKnown = 0, e.Time, true
			}
		}
		a.Counters[e.Name] = e.Value
		a.Updated, a.Quality = e.Time, e.Quality
	case event.Measure:
		a := s.asset(e.Asset)
		a.Measures[e.Name] = e.Value
		a.Updated, a.Quality = e.Time, e.Quality
	case event.OpStarted:
		a := s.asset(e.Asset)
		a.Job, a.Op, a.Updated = e.Ref, e.Name, e.Time
	case event.OpFinished:
		a := s.asset(e.Asset)
		if a.Job == e.Ref {
			a.Job, a.Op = "", ""
		}
		a.Updated = e.Time
	case event.Moved:
		if from := s.buffers[e.Name]; from != nil && e.Name != "" {
			from.Level = max(from.Level-1, 0)
		}
		if strings.HasSuffix(e.Asset, "/buffer") || s.buffers[e.Asset] != nil {
			b := s.buffers[e.Asset]
			if b == nil {
				b = &Buffer{Path: e.Asset}
				s.buffers[e.Asset] = b
			}
			b.Level, b.Last = e.Value, e.Ref
		}
	case event.Alarm:
		a := s.asset(e.Asset)
		if e.Value == 0 {
			delete(a.Alarms, e.Name)
		} else if _, on := a.Alarms[e.Name]; !on {
			a.Alarms[e.Name] = Alarm{Text: e.Ref, Severity: e.Value, Since: e.Time}
		}
		a.Updated = e.Time
	case event.Order:
		o := s.orders[e.Ref]
		if o == nil {
			o = &Order{ID: e.Ref, Released: e.Time}
			s.orders[e.Ref] = o
		}
		if e.Asset != "" {
			o.Product = e.Asset
		}
		switch e.Name {
		case "released":
			o.Quantity, o.Released = e.Value, e.Time
			if o.Status == "" {
				o.Status = e.Name
			}
		case "due":
			o.Due = int64(e.Value * 1e9)
		case "priority":
			o.Priority = int(e.Value)
		case "progress":
			// units done, as the records confirm them or the plant counts
			// them: the furthest of the two
			if o.Status == "" || o.Status == "released" {
				o.Status = e.Name
			}
			o.Done = max(o.Done, e.Value)
		default:
			o.Status = e.Name
			o.Done = e.Value
		}
		o.Updated = e.Time
	case event.Fault:
		s.faults++
	}
}

// cycleTo adds the running time up to t to the cycle.
func (a *Asset) cycleTo(t int64) {
	if a.State == event.Running && t > a.CycleAt && a.CycleAt != 0 {
		a.Cycle += t - a.CycleAt
	}
	if t > a.CycleAt {
		a.CycleAt = t
	}
}

func (s *State) asset(path string) *Asset {
	a := s.assets[path]
	if a == nil {
		a = &Asset{Path: path, Counters: map[string]float64{}, Measures: map[string]float64{}, Alarms: map[string]Alarm{}}
		s.assets[path] = a
	}
	return a
}

// Asset returns the state of the asset at path, or nil.
func (s *State) Asset(path string) *Asset { return s.assets[path] }

// Assets returns every asset, sorted by path.
func (s *State) Assets() []*Asset {
	out := slices.Collect(maps.Values(s.assets))
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Buffers returns every buffer, sorted by path.
func (s *State) Buffers() []*Buffer {
	out := slices.Collect(maps.Values(s.buffers))
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Buffer returns the buffer at path, or nil.
func (s *State) Buffer(path string) *Buffer { return s.buffers[path] }

// Orders returns every order, sorted by id.
func (s *State) Orders() []*Order {
	out := slices.Collect(maps.Values(s.orders))
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Order returns the order with id, or nil.
func (s *State) Order(id string) *Order { return s.orders[id] }

// Faults returns the number of Fault events applied.
func (s *State) Faults() uint64 { return s.faults }

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := &State{Time: s.Time, Applied: s.Applied, Source: s.Source, faults: s.faults,
		assets: make(map[string]*Asset, len(s.assets)), buffers: make(map[string]*Buffer, len(s.buffers)),
		orders: make(map[string]*Order, len(s.orders))}
	for k, a := range s.assets {
		b := *a
		b.Counters, b.Measures, b.Alarms = maps.Clone(a.Counters), maps.Clone(a.Measures), maps.Clone(a.Alarms)
		c.assets[k] = &b
	}
	for k, b := range s.buffers {
		x := *b
		c.buffers[k] = &x
	}
	for k, o := range s.orders {
		x := *o
		c.orders[k] = &x
	}
	return c
}
