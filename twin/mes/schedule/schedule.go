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

// ComputeSchedule plans the rest of a plant-local day (default today):
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
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if day != "" {
		t, err := time.ParseInLocation(time.DateOnly, day, loc)
		if err != nil {
			return nil, &mes.FieldError{Field: "day", Msg: fmt.Sprintf("want YYYY-MM-DD, got %q", day)}
		}
		start = t
	}
	end := start.AddDate(0, 0, 1)
	from := start
	if now.After(from) {
		from = now
	}
	if !from.Before(end) {
		return nil, &mes.FieldError{Field: "day", Msg: start.Format(time.DateOnly) + " is over"}
	}
	s := &Schedule{Day: start.Format(time.DateOnly), From: from, To: end, Computed: now, By: user, Rule: plant.Priority.String(),
		Entries: []ScheduleEntry{}, Orders: []ScheduledOrder{},
		Note: "one deterministic simulation run (seed 1) from the live state; operations in progress restart at their first unit, so it errs late"}

	// the open orders and what is left of them
	open, err := d.OpenOrders()
	if err != nil {
		return nil, err
	}
	var orders []plant.Order
	for _, x := range open {
		o := x.Order
		pr := p.FindProduct(o.Product)
		orders = append(orders, plant.Order{ID: o.ID, Customer: o.Customer, Product: pr, Quantity: x.Left, Release: from, Due: o.Due, Priority: o.Priority})
		s.Orders = append(s.Orders, ScheduledOrder{Order: o.ID, Priority: o.Priority, Due: o.Due, Remaining: x.Left})
	}
	if pl.Live != nil {
		pl.Live.View(func(st *state.State) {
			for _, u := range p.Units {
				if a := st.Asset(u.Path()); a != nil && a.State == event.Down {
					s.Down = append(s.Down, u.Path())
				}
			}
		})
	}
	type run struct {
		e     ScheduleEntry
		first bool
	}
	runs := map[string]*run{}
	var keys []string
	done := map[string]int64{}
	rule := plant.Priority
	if orders == nil {
		orders = []plant.Order{}
	}
	m, err := model.New(p, model.Options{Seed: 1, Horizon: sim.Time(end.Sub(from)), Source: event.Forecast, Start: from,
		Down: s.Down, Orders: orders, Dispatch: &rule,
		Sink: event.SinkFunc(func(e event.Event) {
			switch e.Kind {
			case event.Order:
				if e.Name == "completed" {
					done[e.Ref] = e.Time
				}
			case event.OpStarted, event.OpFinished:
				parts := strings.Split(e.Ref, "/") // order/P|part/n
				if len(parts) != 3 {
					return
				}
				item := parts[1]
				if item == "P" {
					item = ""
				}
				wo := parts[0] + "-" + item
				if item == "" {
					for _, o := range orders {
						if o.ID == parts[0] {
							wo = o.ID + "-" + o.Product.ID
						}
					}
				}
				card := wo + "-" + e.Name
				r := runs[card]
				if r == nil {
					r = &run{e: ScheduleEntry{Operation: card, WorkOrder: wo, Order: parts[0], Op: e.Name, Station: e.Asset,
						Start: time.Unix(0, e.Time).In(loc)}}
					if u := p.FindUnit(e.Asset); u != nil {
						r.e.WorkCenter = u.WorkCenter.ID()
					}
					runs[card] = r
					keys = append(keys, card)
				}
				if e.Kind == event.OpFinished {
					r.e.End = time.Unix(0, e.Time).In(loc)
					r.e.Quantity++
				}
			}
		})})
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	m.RunUntil(sim.Time(end.Sub(from)))
	for _, k := range keys {
		e := runs[k].e
		if e.End.IsZero() {
			e.End = end
		}
		s.Entries = append(s.Entries, e)
	}
	sort.SliceStable(s.Entries, func(i, j int) bool {
		a, b := s.Entries[i], s.Entries[j]
		return a.Station < b.Station || a.Station == b.Station && a.Start.Before(b.Start)
	})
	for i := range s.Orders {
		o := &s.Orders[i]
		if t, ok := done[o.Order]; ok {
			o.Completion = time.Unix(0, t).In(loc)
		}
		o.Late = o.Due.Before(end) && (o.Completion.IsZero() || o.Completion.After(o.Due))
	}
	return s, d.Keep(user, "schedule.compute", "sched", s.Day, s)
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
