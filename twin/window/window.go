// Package window computes the key performance indicators of a window of
// the twin's history with the one KPI engine (plant/kpi): the state at
// the window's start read from the history, the window's events, and for
// machines in the middle of a run at its end, their events after it
// until that run ends (so that a run split by the window's end credits
// each window with its share). The records API (twin/mes), the views'
// tiles and the desktop viewer read their figures here; none computes
// one of its own.
//
// It is not the engine (plant/kpi holds the time model and the formulas)
// and keeps nothing: each call reads the history again.
//
//	f, err := window.Fold(p, store, midnight, now, window.Options{Now: now})
//	plant := window.Sum(p, f, nil)
//	fmt.Println(plant.Figures.OEE)
package window

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/kpi"
	"twin/twin/state"
)

// History is what a window reads: a twin's store (twin/store), or a
// recorded run (state.Tape).
type History interface {
	StateAt(t int64) (*state.State, error)
	Range(from, to int64, fn func(event.Event) error) error
	AssetRange(asset string, from, to int64, fn func(event.Event) error) error
}

// Options configure a fold.
type Options struct {
	// Now is the end of what was observed: a window that reaches past it
	// ends there (the future has no states). Zero: the window's end.
	Now time.Time
	// Product names the product of an order the history does not (an
	// order entered in the records); nil: such orders count their work
	// centre's mean time.
	Product func(order string) *plant.Product
	// Lookahead bounds how far past the window's end the runs under way
	// at its end are followed, and how far before its start the units
	// inspected then are looked for (72 h by default: a long weekend).
	Lookahead time.Duration
	// Stops are the stops people reported, by unit path (kpi.Machine.Stops).
	Stops map[string][]kpi.Stop
}

var errSettled = errors.New("window: settled")

// Fold runs the KPI engine over [from, to) of history h of plant p.
func Fold(p *plant.Plant, h History, from, to time.Time, opt Options) (*kpi.Fold, error) {
	if opt.Lookahead <= 0 {
		opt.Lookahead = 72 * time.Hour
	}
	end := to
	if !opt.Now.IsZero() && opt.Now.Before(end) {
		end = opt.Now
	}
	f := kpi.NewFold(p, from, to)
	f.Product = opt.Product
	for path, s := range opt.Stops {
		f.Stops(path, s)
	}
	if h == nil {
		f.Finish(from)
		return f, nil
	}
	st, err := h.StateAt(from.UnixNano() - 1)
	if err != nil {
		return nil, fmt.Errorf("window: the state at %s: %w", from.Format(time.RFC3339), err)
	}
	for _, u := range p.Units {
		if a := st.Asset(u.Path()); a != nil {
			f.Start(u.Path(), a.KPI(from.UnixNano()))
		}
	}
	for _, o := range st.Orders() {
		f.Order(o.ID, o.Product, o.Released, o.Due)
	}
	for _, path := range f.Inspecting() {
		err := h.AssetRange(path, from.Add(-opt.Lookahead).UnixNano(), from.UnixNano()-1, func(e event.Event) error {
			f.Before(e)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("window: reading %s before the window: %w", path, err)
		}
	}
	if end.After(from) {
		err = h.Range(from.UnixNano(), end.UnixNano()-1, func(e event.Event) error {
			f.Add(e)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("window: reading the history: %w", err)
		}
	}
	f.Finish(end)
	if !end.Before(to) { // the window is closed: its open runs may have ended since
		for _, path := range f.Ahead() {
			err := h.AssetRange(path, to.UnixNano(), to.Add(opt.Lookahead).UnixNano(), func(e event.Event) error {
				f.Add(e)
				if !slices.Contains(f.Ahead(), path) {
					return errSettled
				}
				return nil
			})
			if err != nil && !errors.Is(err, errSettled) {
				return nil, fmt.Errorf("window: reading %s after the window: %w", path, err)
			}
		}
	}
	f.Settle()
	return f, nil
}

// Row is one group of machines' figures in a window.
type Row struct {
	Key        string
	Times      kpi.Times
	Quantities kpi.Quantities
	Figures    kpi.Figures
	// Units are the units completed: for the plant its final work
	// centres' good count, for a station its good count, for a line its
	// last work centre's.
	Units float64
}

// Sum adds up the machines keep accepts (nil: all) into one row, the
// plant's: units are the units completed at the final work centres.
func Sum(p *plant.Plant, f *kpi.Fold, keep func(*plant.Unit) bool) Row {
	r := Row{Key: p.ID}
	for _, u := range p.Units {
		if keep != nil && !keep(u) {
			continue
		}
		m := f.Machine(u.Path())
		r.Times.Add(m.Times())
		r.Quantities.Add(m.Quantities())
		r.Units += f.Completed(u.Path())
	}
	r.Figures = kpi.Compute(r.Times, r.Quantities)
	return r
}

// Stations returns every machine's row, in the plant's order.
func Stations(p *plant.Plant, f *kpi.Fold) []Row {
	out := make([]Row, 0, len(p.Units))
	for _, u := range p.Units {
		m := f.Machine(u.Path())
		r := Row{Key: u.ID(), Times: m.Times(), Quantities: m.Quantities()}
		r.Units = r.Quantities.GQ
		r.Figures = kpi.Compute(r.Times, r.Quantities)
		out = append(out, r)
	}
	return out
}

// Day returns the plant-local midnight that starts t's day.
func Day(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}
