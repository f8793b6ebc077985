package mes

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"time"

	"twin/plant/event"
	"twin/twin/state"
)

// link is the live link between the twin and the records: operations
// read the machines' counters and energy meters from the live state when
// they start, while they run and when they are confirmed; the link counts
// each machine's running hours (for maintenance by run-hours) from the
// twin's state changes, and keeps that count in the records (every two
// seconds and at close), catching up from the twin's history after a
// restart.
type link struct {
	d  *DB
	in Live

	mu    sync.Mutex
	units map[string]*runCount // by equipment path
	queue []event.Event
	wake  chan struct{}
	last  int64 // time of the latest event counted

	unsub func()
	done  chan struct{}
	quit  chan struct{}

	failing bool // the last flush failed (a full disk): said once, not every 2 s
}

// runCount is one machine's running time.
type runCount struct {
	State   event.MachineState `json:"state"`
	Since   int64              `json:"since"`
	Seconds float64            `json:"seconds"` // running, up to Since
}

func startLink(d *DB, in Live) (*link, error) {
	l := &link{d: d, in: in, units: map[string]*runCount{}, wake: make(chan struct{}, 1), done: make(chan struct{}), quit: make(chan struct{})}
	units := map[string]bool{}
	for _, u := range d.p.Units {
		units[u.Path()] = true
	}
	// what was counted before the restart
	err := d.view(func(t *tx) error {
		if _, err := t.Get("link/checkpoint", &l.last); err != nil {
			return err
		}
		for _, p := range t.Keys("link/run/") {
			rc := new(runCount)
			if _, err := t.Get("link/run/"+p, rc); err != nil {
				return err
			}
			l.units[p] = rc
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.unsub = in.Subscribe(func(e event.Event) {
		if e.Kind != event.State || !units[e.Asset] {
			return
		}
		l.mu.Lock()
		l.queue = append(l.queue, e)
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	})
	// and what happened while the records were closed
	if d.hist != nil && l.last != 0 {
		err := d.hist.Range(l.last+1, math.MaxInt64, func(e event.Event) error {
			if e.Kind == event.State && units[e.Asset] {
				l.mu.Lock()
				l.count(e)
				l.mu.Unlock()
			}
			return nil
		})
		if err != nil {
			l.unsub()
			return nil, err
		}
	}
	go l.run()
	return l, nil
}

// count folds a state change into the running hours. State events carry
// absolute states, so an event seen twice (history and live) counts once.
func (l *link) count(e event.Event) {
	rc := l.units[e.Asset]
	if rc == nil {
		rc = &runCount{State: event.Unknown, Since: e.Time}
		l.units[e.Asset] = rc
	}
	st := event.MachineState(e.Value)
	if e.Time < rc.Since || st == rc.State {
		return
	}
	if rc.State == event.Running {
		rc.Seconds += float64(e.Time-rc.Since) / 1e9
	}
	rc.State, rc.Since = st, e.Time
	if e.Time > l.last {
		l.last = e.Time
	}
}

func (l *link) run() {
	defer close(l.done)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-l.quit:
			l.drain()
			l.flush()
			return
		case <-l.wake:
			l.drain()
		case <-tick.C:
			l.flush()
		}
	}
}

func (l *link) drain() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.queue {
		l.count(e)
	}
	l.queue = l.queue[:0]
}

// flush writes the running hours and the checkpoint (derived data: no
// audit entries).
func (l *link) flush() {
	l.mu.Lock()
	snap := make(map[string]runCount, len(l.units))
	for p, rc := range l.units {
		snap[p] = *rc
	}
	last := l.last
	l.mu.Unlock()
	// the counts stay in memory until a flush succeeds: a full disk
	// delays them, it loses nothing (and a restart catches up from the
	// history since the last checkpoint written)
	err := l.d.writeLink(snap, last)
	switch {
	case err != nil && !l.failing:
		l.d.log.Error("mes: live link: writing running hours (kept in memory, written again every 2 s)", "err", err)
	case err == nil && l.failing:
		l.d.log.Info("mes: live link: running hours written again")
	}
	l.failing = err != nil
}

func (l *link) stop() {
	l.unsub()
	close(l.quit)
	<-l.done
}

// runHours returns a machine's running hours up to the live state's clock.
func (l *link) runHours(path string) float64 {
	l.drain()
	l.mu.Lock()
	rc := l.units[path]
	var s float64
	var st event.MachineState
	var since int64
	if rc != nil {
		s, st, since = rc.Seconds, rc.State, rc.Since
	}
	l.mu.Unlock()
	if st == event.Running {
		var now int64
		l.in.View(func(s *state.State) { now = s.Time })
		if now > since {
			s += float64(now-since) / 1e9
		}
	}
	return s / 3600
}

// reading returns a machine's counters and energy meter from the live state.
func (l *link) reading(path string) (Reading, bool) {
	var r Reading
	ok := false
	l.in.View(func(s *state.State) {
		if a := s.Asset(path); a != nil {
			ok = true
			r = Reading{Good: a.Counters["good"], Reject: a.Counters["reject"], EnergyKWh: a.Measures["energy_kwh"]}
		}
	})
	return r, ok
}

// state returns a machine's state from the live state.
func (l *link) state(path string) (event.MachineState, int64, bool) {
	var st event.MachineState
	var since int64
	ok := false
	l.in.View(func(s *state.State) {
		if a := s.Asset(path); a != nil {
			st, since, ok = a.State, a.Since, true
		}
	})
	return st, since, ok
}

func (d *DB) writeLink(units map[string]runCount, last int64) error {
	return d.update("system", "link", func(t *tx) error {
		for p, rc := range units {
			if strings.Contains(p, "\x00") {
				continue
			}
			b, _ := json.Marshal(rc)
			if err := t.Mark("link/run/"+p, b); err != nil {
				return err
			}
		}
		return t.Set("link/checkpoint", last)
	})
}

// asOrder is an order record as put gets it (a value or a pointer), or nil.
func asOrder(v any) *Order {
	switch o := v.(type) {
	case Order:
		return &o
	case *Order:
		if o != nil {
			c := *o
			return &c
		}
	}
	return nil
}

// order tells the twin of a change of an order in the records: the twin's
// state, its views and its forecast learn of orders here (a plant's
// machines do not announce them). A released order is "released" (with
// its quantity), "due" and "priority"; a change of its good units
// "progress"; its end "completed" or "cancelled" (see plant/event).
func (l *link) order(before, after *Order, now time.Time) {
	if after == nil {
		return
	}
	ev := func(t time.Time, name string, v float64) event.Event {
		return event.Event{Time: t.UnixNano(), Kind: event.Order, Source: event.Live, Asset: after.Product, Name: name, Ref: after.ID, Value: v}
	}
	open := func(o *Order) bool { return o != nil && (o.Status == StatusReleased || o.Status == StatusInProgress) }
	done := func(o *Order) bool { return o != nil && (o.Status == StatusCompleted || o.Status == StatusCancelled) }
	var evs []event.Event
	if (open(after) || done(after)) && !open(before) && !done(before) && !after.Released.IsZero() {
		at := after.Released
		evs = append(evs, ev(at, "released", float64(after.Quantity)), ev(at, "priority", float64(after.Priority)))
		if !after.Due.IsZero() {
			evs = append(evs, ev(at, "due", float64(after.Due.UnixNano())/1e9))
		}
	}
	if before != nil && after.Good != before.Good && !done(after) {
		evs = append(evs, ev(now, "progress", float64(after.Good)))
	}
	if done(after) && !done(before) {
		at := after.Completed
		if at.IsZero() {
			at = now
		}
		evs = append(evs, ev(at, after.Status, float64(after.Good)))
	}
	if len(evs) > 0 {
		l.in.EmitBatch(evs, nil)
	}
}
