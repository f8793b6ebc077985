package sim

import (
	"fmt"
	"testing"
)

// BenchmarkHold is the classic hold model: n events pending; each fired
// event schedules itself again at now plus an exponential increment. One
// op is one event popped, dispatched and pushed back.
func BenchmarkHold(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			env := New(Options{Seed: 1})
			s := env.Stream("hold")
			evs := make([]Event, n)
			left := 0
			hold := func() {
				left--
				if left <= 0 {
					env.Stop()
				}
				ev := env.Firing()
				env.Schedule(ev, env.Now()+FromSeconds(s.ExpFloat64()), Default)
			}
			for i := range evs {
				evs[i].Init("hold", hold)
				env.Schedule(&evs[i], FromSeconds(s.ExpFloat64()), Default)
			}
			left = 2 * n // warm up: the heap reaches its steady shape
			env.Run()
			b.ReportAllocs()
			b.ResetTimer()
			left = b.N
			env.Run()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
