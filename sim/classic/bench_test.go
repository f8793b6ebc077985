package classic

import (
	"testing"

	"twin/sim"
)

// BenchmarkMM1 runs M/M/1 (λ 0.9, μ 1) in each style, one customer per op,
// as `twin bench mm1` does; it reports customers/s next to the peer it is
// compared with (Cimba's PGO build, see make bench-peer).
func BenchmarkMM1(b *testing.B) {
	for _, st := range []Style{Events, Servers, Customers} {
		b.Run(st.String(), func(b *testing.B) {
			b.ReportAllocs()
			q := Queue{Arrival: sim.Exponential{M: 1 / 0.9}, Service: sim.Exponential{M: 1}, Servers: 1, Customers: int64(b.N), Seed: 1, Style: st}
			r := q.Run()
			b.ReportMetric(float64(r.Customers)/b.Elapsed().Seconds(), "customers/s")
			b.ReportMetric(float64(r.Events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
