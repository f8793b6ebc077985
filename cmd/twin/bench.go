package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"twin/sim"
	"twin/sim/classic"
)

func init() {
	register(&Command{
		Name:  "bench",
		Usage: "mm1 [--customers N] [--seed S] [--style events|servers|customers] [--lambda L] [--mu M]",
		Short: "benchmark the simulation kernel on an M/M/1 queue",
		Long: `Bench mm1 simulates an M/M/1 queue (Poisson arrivals at rate lambda, exponential
service at rate mu, one server) for N customers and prints one JSON line:
customers, events, wall seconds, events/s, customers/s, the mean wait in queue
and its theoretical value rho/(mu-lambda).

--style picks how the model is written on the kernel: "events" (an arrival and
a departure event), "servers" (a source process and a server process with a
store between them) or "customers" (a process per customer requesting a
resource, SimPy's way). All three give the same queue; they measure different
kernel paths.`,
		Run: runBench,
	})
}

// benchResult is the JSON line of "twin bench mm1".
type benchResult struct {
	Model          string  `json:"model"`
	Style          string  `json:"style"`
	Customers      int64   `json:"customers"`
	Seed           uint64  `json:"seed"`
	Events         uint64  `json:"events"`
	WallSeconds    float64 `json:"wall_seconds"`
	EventsPerSec   float64 `json:"events_per_s"`
	CustomersPerS  float64 `json:"customers_per_s"`
	MeanWait       float64 `json:"mean_wait"`
	TheoreticalWq  float64 `json:"theoretical_mean_wait"`
	Lambda         float64 `json:"lambda"`
	Mu             float64 `json:"mu"`
	SimulatedHours float64 `json:"simulated_hours"`
}

func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	c := commands["bench"]
	fs := newFlags(c, stdout)
	customers := fs.Int64("customers", 1_000_000, "customers to serve")
	seed := fs.Uint64("seed", 1, "random seed")
	style := fs.String("style", "events", "model style: events, servers or customers")
	lambda := fs.Float64("lambda", 0.9, "arrival rate (per second)")
	mu := fs.Float64("mu", 1, "service rate (per second)")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "mm1" {
		return errUsage
	}
	st, err := classic.ParseStyle(*style)
	if err != nil {
		return err
	}
	if *customers < 1 || !(*lambda > 0) || !(*mu > *lambda) {
		return fmt.Errorf("want customers ≥ 1 and 0 < lambda < mu (got %d, %g, %g)", *customers, *lambda, *mu)
	}
	q := classic.Queue{
		Arrival:   sim.Exponential{M: 1 / *lambda},
		Service:   sim.Exponential{M: 1 / *mu},
		Servers:   1,
		Customers: *customers,
		Seed:      *seed,
		Style:     st,
	}
	start := time.Now()
	r := q.Run()
	wall := time.Since(start).Seconds()
	rho := *lambda / *mu
	return json.NewEncoder(stdout).Encode(benchResult{
		Model:          "mm1",
		Style:          st.String(),
		Customers:      r.Customers,
		Seed:           *seed,
		Events:         r.Events,
		WallSeconds:    wall,
		EventsPerSec:   float64(r.Events) / wall,
		CustomersPerS:  float64(r.Customers) / wall,
		MeanWait:       r.Wait,
		TheoreticalWq:  rho / (*mu - *lambda),
		Lambda:         *lambda,
		Mu:             *mu,
		SimulatedHours: r.Span.Hours(),
	})
}
