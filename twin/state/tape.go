package state

import (
	"sort"

	"twin/plant/event"
)

// Tape keeps the events of a run in memory, with a checkpoint (a Clone of
// the state) every few thousand events, so that the state at any time is
// rebuilt from the nearest checkpoint instead of from the start: the
// playback of a scenario run or a forecast, scrubbed back and forth.
//
// Emit (the tape is an event.Sink) appends; At reads. Fill the tape first,
// or serialise Emit and At yourself: At is safe for concurrent use only
// with other Ats.
type Tape struct {
	evs   []event.Event
	marks []mark
	cur   State
	every int
}

type mark struct {
	n  int // events applied
	st *State
}

// NewTape makes a tape that checkpoints every `every` events (20,000 if
// every <= 0).
func NewTape(every int) *Tape {
	if every <= 0 {
		every = 20000
	}
	return &Tape{every: every, marks: []mark{{0, &State{}}}}
}

// Emit records e. Events should come in time order; one that does not is
// recorded at the time of the latest event (so that seeking stays exact).
func (t *Tape) Emit(e event.Event) {
	if n := len(t.evs); n > 0 && e.Time < t.evs[n-1].Time {
		e.Time = t.evs[n-1].Time
	}
	t.evs = append(t.evs, e)
	t.cur.Apply(e)
	if len(t.evs)%t.every == 0 {
		t.marks = append(t.marks, mark{len(t.evs), t.cur.Clone()})
	}
}

// Len is the number of events recorded.
func (t *Tape) Len() int { return len(t.evs) }

// Span is the time of the first and the last event (0, 0 when empty).
func (t *Tape) Span() (from, to int64) {
	if len(t.evs) == 0 {
		return 0, 0
	}
	return t.evs[0].Time, t.evs[len(t.evs)-1].Time
}

// Events returns the recorded events (not a copy: do not modify).
func (t *Tape) Events() []event.Event { return t.evs }

// At returns the state after every event at or before time ts, a state of
// its own.
func (t *Tape) At(ts int64) *State {
	n := sort.Search(len(t.evs), func(i int) bool { return t.evs[i].Time > ts })
	m := t.marks[sort.Search(len(t.marks), func(i int) bool { return t.marks[i].n > n })-1]
	s := m.st.Clone()
	for _, e := range t.evs[m.n:n] {
		s.Apply(e)
	}
	return s
}

// End returns a copy of the state after all the events.
func (t *Tape) End() *State { return t.cur.Clone() }

// StateAt is At, as a history (twin/window) reads it.
func (t *Tape) StateAt(ts int64) (*State, error) { return t.At(ts), nil }

// Range calls fn with every event whose time is in [from, to], in order;
// fn's error stops it.
func (t *Tape) Range(from, to int64, fn func(event.Event) error) error {
	i := sort.Search(len(t.evs), func(i int) bool { return t.evs[i].Time >= from })
	for ; i < len(t.evs) && t.evs[i].Time <= to; i++ {
		if err := fn(t.evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// AssetRange is Range over the events of one asset.
func (t *Tape) AssetRange(asset string, from, to int64, fn func(event.Event) error) error {
	return t.Range(from, to, func(e event.Event) error {
		if e.Asset != asset {
			return nil
		}
		return fn(e)
	})
}
