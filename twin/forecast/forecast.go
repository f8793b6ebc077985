// Package forecast runs the plant forward from where it stands: the
// open orders with every unit where the history says it is (Position),
// the machines that are down, the plant clock now. It answers the
// questions a shift leader asks at the start of a shift: when will each
// open order be done, will it be late, where is the bottleneck going to
// be, how much energy will the coming hours take.
//
// A forecast is a fork: the position is the starting point of a
// simulation of the same plant (package plant/model), which runs several
// replications, each until the open orders are done (or a horizon), with
// the new orders the plant's demand would bring meanwhile. An order is on
// time when it is completed by its due date, as the records count it.
package forecast

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
)

// Options configure a forecast.
type Options struct {
	// Horizon is how far ahead to run; zero: until every open order is
	// done, at most MaxHorizon.
	Horizon    time.Duration
	MaxHorizon time.Duration // 60 days by default
	// Replications is how many futures to draw (60 by default: the
	// median and the 90th percentile of a completion need that many).
	Replications int
	Seed         uint64 // 1 by default
	Workers      int    // replications at a time; all cores by default
	// NoNewDemand works the open orders only; by default the plant's
	// order generator brings its new orders too, as the plant would
	// receive them (they compete for the machines).
	NoNewDemand bool
}

// Order is the forecast of one open order.
type Order struct {
	ID        string    `json:"id"`
	Product   string    `json:"product"`
	Remaining int       `json:"remaining" doc:"units still to make"`
	Due       time.Time `json:"due,omitzero"`
	// Done is the fraction of replications in which the order completed
	// within the horizon; the times below are over those replications.
	Done float64 `json:"done"`
	// Completion is the expected completion: the median of the
	// replications' (half the futures have the order done by then). A
	// plant works shifts, so completions cluster before a shift's end or
	// after the next one's start: the median is one of those times, the
	// mean of them often a time the plant is closed.
	Completion time.Time `json:"completion,omitzero"`
	Mean       time.Time `json:"mean,omitzero"` // the mean of the completions
	P10        time.Time `json:"p10,omitzero"`  // 10% of completions by then
	P90        time.Time `json:"p90,omitzero"`  // 90% of completions by then
	OnTime     float64   `json:"on_time"`       // fraction of replications done by the due date
}

// Result is a forecast.
type Result struct {
	From         time.Time `json:"from"`
	Horizon      string    `json:"horizon" doc:"how far the replications ran"`
	Replications int       `json:"replications"`
	Units        string    `json:"units" doc:"what the plant calls its finished units"`
	Currency     string    `json:"currency" doc:"of energy_cost (ISO 4217)"`
	Orders       []Order   `json:"orders"`
	// Bottleneck is the work centre most often the bottleneck, and Share
	// the fraction of replications in which it was.
	Bottleneck      string             `json:"bottleneck"`
	BottleneckShare float64            `json:"bottleneck_share"`
	Utilisation     map[string]float64 `json:"utilisation"` // mean per work centre
	Produced        Stat               `json:"produced" doc:"finished units over the horizon"`
	EnergyKWh       Stat               `json:"energy_kwh"`
	EnergyCost      Stat               `json:"energy_cost"`
	CO2Kg           Stat               `json:"co2_kg"`
	Down            []string           `json:"down,omitempty"` // units down at the start
}

// Stat is a mean and the half-width of its 95% confidence interval.
type Stat struct {
	Mean float64 `json:"mean"`
	CI   float64 `json:"ci95"`
}

// Run forecasts plant p from position pos, taken at now.
func Run(ctx context.Context, p *plant.Plant, pos *model.Position, now time.Time, opt Options) (*Result, error) {
	if p == nil || pos == nil {
		return nil, errors.New("forecast: nil plant or position")
	}
	opt = opt.withDefaults()
	now = now.In(p.Location)
	res := &Result{From: now, Replications: opt.Replications, Units: p.UnitName(), Currency: p.Currency, Utilisation: map[string]float64{}, Down: pos.Down}
	open := map[string]bool{}
	first := 0 // new orders are numbered after the open ones
	for _, o := range pos.Orders {
		if o.Remaining() <= 0 {
			continue
		}
		open[o.ID] = true
		res.Orders = append(res.Orders, Order{ID: o.ID, Product: o.Product.ID, Remaining: o.Remaining(), Due: o.Due})
		if len(o.ID) > 1 && o.ID[0] == 'G' {
			if n, err := strconv.Atoi(o.ID[1:]); err == nil {
				first = max(first, n+1)
			}
		}
	}
	reps, err := replicate(ctx, opt, func(i int, r *rep) error {
		m, err := model.New(p, model.Options{
			Seed:        sim.ReplicationSeed(opt.Seed, i),
			Source:      event.Forecast,
			Start:       now,
			Resume:      pos,
			NoGenerator: opt.NoNewDemand,
			FirstOrder:  first,
			Sink: event.SinkFunc(func(e event.Event) {
				if e.Kind == event.Order && e.Name == "completed" && open[e.Ref] {
					r.done[e.Ref] = e.Time
				}
			}),
		})
		if err != nil {
			return err
		}
		r.end = runUntilDone(ctx, m, r.done, len(open), opt)
		r.res = m.Result()
		return nil
	})
	if err != nil {
		return nil, err
	}
	var horizon sim.Time
	for _, r := range reps {
		horizon = max(horizon, r.end)
	}
	res.Horizon = horizon.Std().Round(time.Minute).String()
	for i := range res.Orders {
		res.Orders[i].complete(reps, now)
	}
	sort.SliceStable(res.Orders, func(a, b int) bool {
		x, y := res.Orders[a], res.Orders[b]
		if x.Completion.IsZero() != y.Completion.IsZero() {
			return !x.Completion.IsZero()
		}
		return x.Completion.Before(y.Completion)
	})
	res.plant(p, reps)
	return res, nil
}

func (opt Options) withDefaults() Options {
	if opt.MaxHorizon <= 0 {
		opt.MaxHorizon = 60 * 24 * time.Hour
	}
	if opt.Replications <= 0 {
		opt.Replications = 60
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	return opt
}

// rep is one replication's future.
type rep struct {
	done map[string]int64 // order → completion (Unix ns)
	res  *model.Result
	end  sim.Time
}

// replicate runs the replications on opt.Workers goroutines, joined
// before it returns; it stops early when ctx is done.
func replicate(ctx context.Context, opt Options, run func(i int, r *rep) error) ([]rep, error) {
	reps := make([]rep, opt.Replications)
	errs := make([]error, opt.Replications)
	var wg sync.WaitGroup
	next := make(chan int)
	for range opt.Workers {
		wg.Go(func() {
			for i := range next {
				reps[i].done = map[string]int64{}
				errs[i] = run(i, &reps[i])
			}
		})
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
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("forecast: %w", err)
		}
	}
	return reps, nil
}

// complete sets an order's completion from the replications: the share
// of futures it is done in, and on time in; its median, p10, p90 and
// mean completion among those it is done in.
func (o *Order) complete(reps []rep, now time.Time) {
	n := float64(len(reps))
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
	if len(times) == 0 {
		return
	}
	sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
	var sum float64
	for _, t := range times {
		sum += float64(t - now.UnixNano())
	}
	o.Mean = now.Add(time.Duration(sum / float64(len(times)))).Round(time.Second)
	q := func(f float64) time.Time {
		k := int(math.Ceil(f*float64(len(times)))) - 1
		return time.Unix(0, times[min(max(k, 0), len(times)-1)]).In(now.Location()).Round(time.Second)
	}
	o.Completion, o.P10, o.P90 = q(0.5), q(0.1), q(0.9)
}

// plant sets the plant's figures over the replications: the bottleneck
// most of them name (file order breaks ties), utilisations, production,
// energy, its cost and CO2.
func (res *Result) plant(p *plant.Plant, reps []rep) {
	n := float64(len(reps))
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
	for _, w := range p.WorkCenters {
		if v := votes[w.ID()]; v > votes[res.Bottleneck] || res.Bottleneck == "" && v > 0 {
			res.Bottleneck = w.ID()
		}
	}
	res.BottleneckShare = float64(votes[res.Bottleneck]) / n
	res.Produced = stat(&produced)
	res.EnergyKWh = stat(&kwh)
	res.EnergyCost = stat(&cost)
	res.CO2Kg = stat(&co2)
}

// runUntilDone runs m for the horizon, or (no horizon) until the open
// orders are done, at most the longest horizon, and returns where it
// stopped.
func runUntilDone(ctx context.Context, m *model.Model, done map[string]int64, open int, opt Options) sim.Time {
	if opt.Horizon > 0 {
		m.RunUntil(sim.Time(opt.Horizon))
		return sim.Time(opt.Horizon)
	}
	limit := sim.Time(opt.MaxHorizon)
	for t := sim.Hour; ; t += sim.Hour {
		m.RunUntil(t)
		if len(done) >= open || t >= limit || ctx.Err() != nil {
			return t
		}
	}
}

func stat(t *sim.Tally) Stat {
	s := Stat{Mean: t.Mean()}
	if t.N() > 1 {
		s.CI = t.CI(0.95)
	}
	return s
}
