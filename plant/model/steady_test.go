package model

import (
	"math"
	"runtime"
	"sync"
	"testing"

	"twin/sim"
)

// TestReferenceSteadyState: the reference plant, its demand 89% of its
// bottleneck's capacity (winding), is in steady state all year: the mean WIP and
// order lead time of weeks 2–4 and of weeks 50–52 lie inside each
// other's 95% confidence interval (10 replications of one year). Demand
// at the plant's capacity (an order every 4.5 h: WIP climbing all year)
// fails it.
func TestReferenceSteadyState(t *testing.T) {
	n := 10
	p := load(t, "motor.yaml")()
	type week struct{ wip, lead float64 }
	out := make([][2]week, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				m, err := New(p, Options{Seed: sim.ReplicationSeed(11, i), Horizon: 52 * sim.Week})
				if err != nil {
					t.Error(err)
					return
				}
				for k, wk := range []sim.Time{4, 52} {
					m.RunUntil((wk - 3) * sim.Week)
					m.resetStats()
					m.RunUntil(wk * sim.Week)
					r := m.Result()
					out[i][k] = week{r.WIP, r.LeadTime}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	var wip, lead [2]sim.Tally
	for _, o := range out {
		for k := range 2 {
			wip[k].Add(o[k].wip)
			lead[k].Add(o[k].lead)
		}
	}
	for _, c := range []struct {
		what string
		t    [2]sim.Tally
	}{{"WIP (jobs)", wip}, {"lead time (h)", lead}} {
		a, b := c.t[0], c.t[1]
		ha, hb := a.CI(0.95), b.CI(0.95)
		t.Logf("%s: week 4 %.1f ± %.1f, week 52 %.1f ± %.1f (95%%, %d replications)", c.what, a.Mean(), ha, b.Mean(), hb, n)
		if math.Abs(a.Mean()-b.Mean()) > math.Min(ha, hb) {
			t.Errorf("%s is not stationary: week 4 %.1f ± %.1f, week 52 %.1f ± %.1f", c.what, a.Mean(), ha, b.Mean(), hb)
		}
	}
}
