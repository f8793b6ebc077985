// Package schedule is the records' planning: a day's finite-capacity
// schedule and the forecast of the open orders, both computed by running
// the plant's simulation (plant/model) from where the plant stands, over
// the open orders of the records (twin/mes). A schedule is kept in the
// records (audited) under its day.
package schedule

import (
	"context"
	"fmt"
	"slices"
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

// Compute plans the rest of a plant-local day (default today): the
// open orders' remaining quantities are run through the plant's
// simulation with the machines that are down now down, the shifts of the
// plant calendar, finite buffers and workers, and every work centre
// dispatching by customer priority then due date. With the twin's
// history it starts from where the plant stands now (forecast.Position:
// every unit in its buffer, on its machine part-way through its run,
// waiting for room), so work in progress carries on rather than starting
// again; a day after today is planned from now too and shows what falls
// within it. The schedule is stored (and audited) under the day.
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
		Entries: []ScheduleEntry{}, Orders: []ScheduledOrder{}, Down: pl.down()}
	open, err := d.OpenOrders()
	if err != nil {
		return nil, err
	}
	for _, x := range open {
		o := x.Order
		s.Orders = append(s.Orders, ScheduledOrder{Order: o.ID, Priority: o.Priority, Due: o.Due, Remaining: x.Left})
	}
	rule := plant.Priority
	opt := model.Options{Seed: 1, Source: event.Forecast, Dispatch: &rule}
	if h := d.History(); h != nil {
		pos, err := forecast.Position(p, h, now)
		if err != nil {
			return nil, fmt.Errorf("schedule: %w", err)
		}
		opt.Start, opt.Resume, opt.NoGenerator = now, withRecords(p, pos, open, now), true
		opt.Down = notIn(s.Down, pos.Down)
		s.Note = "one deterministic simulation run (seed 1) from where the twin's history says every unit stands"
	} else {
		opt.Start, opt.Orders, opt.Down = from, released(p, open, from), s.Down
		s.Note = "one deterministic simulation run (seed 1) without the twin's history: operations in progress restart at their first unit, so it errs late"
	}
	rec := &recorder{p: p, runs: map[string]*ScheduleEntry{}, done: map[string]int64{}, from: from.UnixNano(), products: map[string]string{}}
	for _, x := range open {
		rec.products[x.Order.ID] = x.Order.Product
	}
	horizon := sim.Time(end.Sub(opt.Start))
	opt.Horizon, opt.Sink = horizon, rec
	m, err := model.New(p, opt)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	m.RunUntil(horizon)
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

// released is the open orders as new demand released at from.
func released(p *plant.Plant, open []mes.OpenOrder, from time.Time) []plant.Order {
	orders := []plant.Order{}
	for _, x := range open {
		o := x.Order
		orders = append(orders, plant.Order{ID: o.ID, Customer: o.Customer, Product: p.FindProduct(o.Product), Quantity: x.Left, Release: from, Due: o.Due, Priority: o.Priority})
	}
	return orders
}

// withRecords is the plant's position with the records' word on the
// orders: their priority and due date; an open order the plant has not
// reported yet joins it with all its units still to start, released now.
// Orders the plant runs that the records do not know stay: they take
// their machines' time all the same.
func withRecords(p *plant.Plant, pos *model.Position, open []mes.OpenOrder, now time.Time) *model.Position {
	have := map[string]*model.OpenOrder{}
	for i := range pos.Orders {
		have[pos.Orders[i].ID] = &pos.Orders[i]
	}
	for _, x := range open {
		o := x.Order
		if po := have[o.ID]; po != nil {
			po.Priority, po.Due = o.Priority, o.Due
			continue
		}
		if pr := p.FindProduct(o.Product); pr != nil && x.Left > 0 {
			pos.Orders = append(pos.Orders, model.OpenOrder{ID: o.ID, Customer: o.Customer, Product: pr, Quantity: x.Left,
				Release: now, Due: o.Due, Priority: o.Priority, Stock: map[string]int{}})
		}
	}
	return pos
}

// notIn is the paths of a that are not in b.
func notIn(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
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
	p        *plant.Plant
	products map[string]string         // order → its product's id
	from     int64                     // what happens before is not of the day
	runs     map[string]*ScheduleEntry // by card
	keys     []string                  // cards in the order they started
	done     map[string]int64          // order → completion
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
		if e.Time < r.from {
			return
		}
		wo := parts[0] + "-" + parts[1]
		if pr, ok := r.products[parts[0]]; ok && parts[1] == "P" {
			wo = parts[0] + "-" + pr
		}
		card := wo + "-" + e.Name
		x := r.runs[card]
		if x == nil {
			x = &ScheduleEntry{Operation: card, WorkOrder: wo, Order: parts[0], Op: e.Name, Station: e.Asset,
				Start: time.Unix(0, e.Time).In(r.p.Location)}
			if e.Kind == event.OpFinished { // under way when the day's plan begins
				x.Start = time.Unix(0, r.from).In(r.p.Location)
			}
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
