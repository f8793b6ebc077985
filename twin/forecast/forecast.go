// Package forecast runs the plant forward from its live state: the open
// orders, the machines that are down, the plant clock now. It answers the
// questions a shift leader asks at the start of a shift: when will each
// open order be done, will it be late, where is the bottleneck going to
// be, how much energy will the next hours take.
//
// A forecast is a fork: the live state is turned into the starting point
// of a simulation of the same plant (package plant/model), which runs
// several replications over the horizon. What it cannot know from the
// state (how far each part in process has got) it approximates: every
// open order restarts with its remaining quantity at its first operation.
// That errs late for orders far along their routing, so the forecast is a
// conservative one; say so where it is shown.
package forecast

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
	"twin/twin/state"
)

// Options configure a forecast.
type Options struct {
	Horizon      time.Duration // how far ahead; 8 h by default
	Replications int           // 10 by default
	Seed         uint64        // 1 by default
	Workers      int           // replications at a time; all cores by default
	// NewDemand adds the orders the plant's generator would bring in over
	// the horizon; by default only the open orders are worked.
	NewDemand bool
}

// Order is the forecast of one open order.
type Order struct {
	ID        string    `json:"id"`
	Product   string    `json:"product"`
	Remaining int       `json:"remaining"`
	Due       time.Time `json:"due,omitzero"`
	// Done is the fraction of replications in which the order completed
	// within the horizon; the times below are over those replications.
	Done       float64   `json:"done"`
	Completion time.Time `json:"completion,omitzero"` // mean
	P90        time.Time `json:"p90,omitzero"`        // 90% of completions by then
	OnTime     float64   `json:"on_time"`             // fraction of replications done by the due date
}

// Result is a forecast.
type Result struct {
	From         time.Time `json:"from"`
	Horizon      string    `json:"horizon"`
	Replications int       `json:"replications"`
	Orders       []Order   `json:"orders"`
	// Bottleneck is the work centre most often the bottleneck, and Share
	// the fraction of replications in which it was.
	Bottleneck      string             `json:"bottleneck"`
	BottleneckShare float64            `json:"bottleneck_share"`
	Utilisation     map[string]float64 `json:"utilisation"` // mean per work centre
	Produced        Stat               `json:"produced"`
	EnergyKWh       Stat               `json:"energy_kwh"`
	EnergyCost      Stat               `json:"energy_cost"`
	CO2Kg           Stat               `json:"co2_kg"`
	Down            []string           `json:"down,omitempty"` // units down at the start
	Skipped         []string           `json:"skipped,omitempty"`
}

// Stat is a mean and the half-width of its 95% confidence interval.
type Stat struct {
	Mean float64 `json:"mean"`
	CI   float64 `json:"ci95"`
}

// Run forecasts plant p from state st (its clock is st.Time).
func Run(ctx context.Context, p *plant.Plant, st *state.State, opt Options) (*Result, error) {
	if p == nil || st == nil {
		return nil, errors.New("forecast: nil plant or state")
	}
	if opt.Horizon <= 0 {
		opt.Horizon = 8 * time.Hour
	}
	if opt.Replications <= 0 {
		opt.Replications = 10
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	now := time.Unix(0, st.Time).In(p.Location)
	if st.Time == 0 {
		now = p.Start
	}
	res := &Result{From: now, Horizon: opt.Horizon.String(), Replications: opt.Replications, Utilisation: map[string]float64{}}

	products := map[string]*plant.Product{}
	for _, pr := range p.Products {
		products[pr.ID] = pr
	}
	var orders []plant.Order
	for _, o := range st.Orders() {
		if o.Status == "completed" || o.Status == "cancelled" || o.Status == "shipped" {
			continue
		}
		left := int(math.Round(o.Quantity - o.Done))
		pr := products[o.Product]
		if left <= 0 || pr == nil {
			if left > 0 {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: unknown product %q", o.ID, o.Product))
			}
			continue
		}
		po := plant.Order{ID: o.ID, Product: pr, Quantity: left, Release: now, Priority: o.Priority}
		if o.Due != 0 {
			po.Due = time.Unix(0, o.Due).In(p.Location)
		} else {
			po.Due = now.Add(100 * 365 * 24 * time.Hour)
		}
		orders = append(orders, po)
		res.Orders = append(res.Orders, Order{ID: o.ID, Product: pr.ID, Remaining: left, Due: time.Unix(0, o.Due).In(p.Location)})
		if o.Due == 0 {
			res.Orders[len(res.Orders)-1].Due = time.Time{}
		}
	}
	for _, u := range p.Units {
		if a := st.Asset(u.Path()); a != nil && a.State == event.Down {
			res.Down = append(res.Down, u.Path())
		}
	}

	type rep struct {
		done map[string]int64 // order → completion (Unix ns)
		res  *model.Result
		err  error
	}
	reps := make([]rep, opt.Replications)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &reps[i]
				r.done = map[string]int64{}
				mo := model.Options{
					Seed:    sim.ReplicationSeed(opt.Seed, i),
					Horizon: sim.Time(opt.Horizon),
					Source:  event.Forecast,
					Start:   now,
					Down:    res.Down,
					Sink: event.SinkFunc(func(e event.Event) {
						if e.Kind == event.Order && e.Name == "completed" {
							r.done[e.Ref] = e.Time
						}
					}),
				}
				if opt.NewDemand {
					// the open orders plus the generator's
					pl := *p
					pl.Demand.Orders = orders
					m, err := model.New(&pl, mo)
					if err != nil {
						r.err = err
						continue
					}
					m.RunUntil(sim.Time(opt.Horizon))
					r.res = m.Result()
					continue
				}
				mo.Orders = orders
				if mo.Orders == nil {
					mo.Orders = []plant.Order{}
				}
				m, err := model.New(p, mo)
				if err != nil {
					r.err = err
					continue
				}
				m.RunUntil(sim.Time(opt.Horizon))
				r.res = m.Result()
			}
		}()
	}
	for i := range reps {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, r := range reps {
		if r.err != nil {
			return nil, r.err
		}
	}

	n := float64(len(reps))
	for i := range res.Orders {
		o := &res.Orders[i]
		var times []int64
		onTime := 0
		for _, r := range reps {
			if t, ok := r.done[o.ID]; ok {
				times = append(times, t)
				if o.Due.IsZero() || t <= o.Due.UnixNano() {
					onTime++
				}
			}
		}
		o.Done = float64(len(times)) / n
		o.OnTime = float64(onTime) / n
		if len(times) > 0 {
			sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
			var sum float64
			for _, t := range times {
				sum += float64(t - now.UnixNano())
			}
			o.Completion = now.Add(time.Duration(sum / float64(len(times)))).Round(time.Second)
			k := int(math.Ceil(0.9*float64(len(times)))) - 1
			o.P90 = time.Unix(0, times[max(k, 0)]).In(p.Location).Round(time.Second)
		}
	}
	sort.SliceStable(res.Orders, func(a, b int) bool {
		x, y := res.Orders[a], res.Orders[b]
		if x.Completion.IsZero() != y.Completion.IsZero() {
			return !x.Completion.IsZero()
		}
		return x.Completion.Before(y.Completion)
	})

	votes := map[string]int{}
	var produced, kwh, cost, co2 sim.Tally
	for _, r := range reps {
		votes[r.res.Bottleneck]++
		produced.Add(float64(r.res.Produced))
		kwh.Add(r.res.EnergyKWh)
		cost.Add(r.res.EnergyCost)
		co2.Add(r.res.CO2Kg)
		for _, w := range r.res.WorkCenters {
			res.Utilisation[w.ID] += w.Utilisation / n
		}
	}
	for _, w := range p.WorkCenters { // file order breaks ties
		if v := votes[w.ID()]; v > votes[res.Bottleneck] || res.Bottleneck == "" && v > 0 {
			res.Bottleneck = w.ID()
		}
	}
	res.BottleneckShare = float64(votes[res.Bottleneck]) / n
	res.Produced = stat(&produced)
	res.EnergyKWh = stat(&kwh)
	res.EnergyCost = stat(&cost)
	res.CO2Kg = stat(&co2)
	return res, nil
}

func stat(t *sim.Tally) Stat {
	s := Stat{Mean: t.Mean()}
	if t.N() > 1 {
		s.CI = t.CI(0.95)
	}
	return s
}
