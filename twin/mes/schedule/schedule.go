// Package schedule is the records' planning: a day's finite-capacity
// schedule and the forecast of the open orders, both computed by running
// the plant's simulation (plant/model) from where the plant stands, over
// the open orders of the records (twin/mes). A schedule is kept in the
// records (audited) under its day.
package schedule

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
	"twin/twin/forecast"
	"twin/twin/mes"
	"twin/twin/state"
)

// Planner plans over a plant's records.
type Planner struct {
	Records *mes.DB
	// Live is the running twin: machines down now are down in the
	// schedule; nil: none is.
	Live mes.Live
}

// ScheduleEntry is one operation's planned run on a machine.
type ScheduleEntry struct {
	Operation  string    `json:"operation"`
	WorkOrder  string    `json:"work_order"`
	Order      string    `json:"order"`
	Op         string    `json:"op"`
	WorkCenter string    `json:"work_center"`
	Station    string    `json:"station" doc:"the machine the first unit runs on"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end" doc:"the last unit finishes (within the day)"`
	Quantity   int       `json:"quantity" doc:"units through the operation within the day"`
}

// ScheduledOrder is an order's expected completion under the schedule.
type ScheduledOrder struct {
	Order      string    `json:"order"`
	Priority   int       `json:"priority"`
	Due        time.Time `json:"due"`
	Remaining  int       `json:"remaining"`
	Completion time.Time `json:"completion,omitzero" doc:"empty: not done within the day"`
	Late       bool      `json:"late" doc:"due within the day and not done by then"`
}

// Schedule is a day's finite-capacity schedule.
type Schedule struct {
	Day      string           `json:"day"`
	From     time.Time        `json:"from"`
	To       time.Time        `json:"to"`
	Computed time.Time        `json:"computed"`
	By       string           `json:"by"`
	Rule     string           `json:"rule" doc:"dispatch rule at every work centre"`
	Down     []string         `json:"down,omitempty" doc:"machines down when it was computed"`
	Entries  []ScheduleEntry  `json:"entries"`
	Orders   []ScheduledOrder `json:"orders"`
	Note     string           `json:"note"`
}

// Compute plans the rest of a plant-local day (default today):
// the open orders' remaining quantities are run through the plant's
// simulation from now, with the machines that are down now down, the
// shifts of the plant calendar, finite buffers and workers, and every
// work centre dispatching by customer priority then due date. The
// schedule is stored (and audited) under the day.
func (pl *Planner) Compute(user, day string) (*Schedule, error) {
	d := pl.Records
	p := d.Plant()
	loc := p.Location
	now := d.Now().In(loc)
	start, from, end, err := dayLeft(day, now)
	if err != nil {
		return nil, err
	}
	s := &Schedule{Day: start.Format(time.DateOnly), From: from, To: end, Computed: now, By: user, Rule: plant.Priority.String(),
		Entries: []ScheduleEntry{}, Orders: []ScheduledOrder{}, Down: pl.down(),
		Note: "one deterministic simulation run (seed 1) from the live state; operations in progress restart at their first unit, so it errs late"}
	// the open orders and what is left of them
	open, err := d.OpenOrders()
	if err != nil {
		return nil, err
	}
	orders := []plant.Order{}
	for _, x := range open {
		o := x.Order
		orders = append(orders, plant.Order{ID: o.ID, Customer: o.Customer, Product: p.FindProduct(o.Product), Quantity: x.Left, Release: from, Due: o.Due, Priority: o.Priority})
		s.Orders = append(s.Orders, ScheduledOrder{Order: o.ID, Priority: o.Priority, Due: o.Due, Remaining: x.Left})
	}
	rec := &recorder{p: p, orders: orders, runs: map[string]*ScheduleEntry{}, done: map[string]int64{}}
	rule := plant.Priority
	m, err := model.New(p, model.Options{Seed: 1, Horizon: sim.Time(end.Sub(from)), Source: event.Forecast, Start: from,
		Down: s.Down, Orders: orders, Dispatch: &rule, Sink: rec})
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	m.RunUntil(sim.Time(end.Sub(from)))
	s.Entries = rec.entries(end)
	for i := range s.Orders {
		o := &s.Orders[i]
		if t, ok := rec.done[o.Order]; ok {
			o.Completion = time.Unix(0, t).In(loc)
		}
		o.Late = o.Due.Before(end) && (o.Completion.IsZero() || o.Completion.After(o.Due))
	}
	return s, d.Keep(user, "schedule.compute", "sched", s.Day, s)
}

// dayLeft is what is left of a plant-local day ("": today's) from now:
// its start, from (its start or now, the later) and its end.
func dayLeft(day string, now time.Time) (start, from, end time.Time, err error) {
	loc := now.Location()
	start = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if day != "" {
		if start, err = time.ParseInLocation(time.DateOnly, day, loc); err != nil {
			return start, from, end, mes.FieldErr("day", "want YYYY-MM-DD, got %q", day)
		}
	}
	end = start.AddDate(0, 0, 1)
	from = start
	if now.After(from) {
		from = now
	}
	if !from.Before(end) {
		return start, from, end, mes.FieldErr("day", "%s is over", start.Format(time.DateOnly))
	}
	return start, from, end, nil
}

// down lists the machines the live twin has down now.
func (pl *Planner) down() []string {
	var out []string
	if pl.Live != nil {
		pl.Live.View(func(st *state.State) {
			for _, u := range pl.Records.Plant().Units {
				if a := st.Asset(u.Path()); a != nil && a.State == event.Down {
					out = append(out, u.Path())
				}
			}
		})
	}
	return out
}

// recorder is the schedule's sink: each card's run on its machine (the
// first unit's start to the last's end) and each order's completion.
type recorder struct {
	p      *plant.Plant
	orders []plant.Order
	runs   map[string]*ScheduleEntry // by card
	keys   []string                  // cards in the order they started
	done   map[string]int64          // order → completion
}

func (r *recorder) Emit(e event.Event) {
	switch e.Kind {
	case event.Order:
		if e.Name == "completed" {
			r.done[e.Ref] = e.Time
		}
	case event.OpStarted, event.OpFinished:
		parts := strings.Split(e.Ref, "/") // order/P|part/n
		if len(parts) != 3 {
			return
		}
		wo := parts[0] + "-" + parts[1]
		if parts[1] == "P" {
			for _, o := range r.orders {
				if o.ID == parts[0] {
					wo = o.ID + "-" + o.Product.ID
				}
			}
		}
		card := wo + "-" + e.Name
		x := r.runs[card]
		if x == nil {
			x = &ScheduleEntry{Operation: card, WorkOrder: wo, Order: parts[0], Op: e.Name, Station: e.Asset,
				Start: time.Unix(0, e.Time).In(r.p.Location)}
			if u := r.p.FindUnit(e.Asset); u != nil {
				x.WorkCenter = u.WorkCenter.ID()
			}
			r.runs[card] = x
			r.keys = append(r.keys, card)
		}
		if e.Kind == event.OpFinished {
			x.End = time.Unix(0, e.Time).In(r.p.Location)
			x.Quantity++
		}
	}
}

// entries are the runs by machine and start; a run not finished within
// the day ends with it.
func (r *recorder) entries(end time.Time) []ScheduleEntry {
	out := []ScheduleEntry{}
	for _, k := range r.keys {
		e := *r.runs[k]
		if e.End.IsZero() {
			e.End = end
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Station < b.Station || a.Station == b.Station && a.Start.Before(b.Start)
	})
	return out
}

// Get returns the schedule of a day (default today) as last computed.
func (pl *Planner) Get(day string) (*Schedule, error) {
	d := pl.Records
	if day == "" {
		day = d.Now().In(d.Plant().Location).Format(time.DateOnly)
	}
	s := new(Schedule)
	return s, d.Read("sched", day, s)
}

// ErrNoHistory is a forecast asked of records without the twin's history.
var ErrNoHistory = fmt.Errorf("a forecast needs the twin's history: %w", mes.ErrConflict)

// Forecast forecasts the open orders from where the plant stands now, as
// the twin's history says (twin/forecast).
func (pl *Planner) Forecast(ctx context.Context, opt forecast.Options) (*forecast.Result, error) {
	d := pl.Records
	h := d.History()
	if h == nil {
		return nil, ErrNoHistory
	}
	now := d.Now()
	where, err := forecast.Position(d.Plant(), h, now)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	return forecast.Run(ctx, d.Plant(), where, now, opt)
}
