package sim

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used: on a machine shared
// with other jobs, figures per CPU second are steadier than per wall
// second (a process waiting for a core uses none).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
			left = max(10*n, 1000000) // warm up: the calendar reaches its steady shape
			env.Run()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			left = b.N
			env.Run()
			cpu := cpuTime() - c0
			unit := "events/s"
			if n == 100000 {
				unit = "events/s(min-10M)"
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
		})
	}
}

// BenchmarkHoldMemory runs the hold model at 100,000 pending events for
// 100M events and reports the heap in use (after a collection) at 10M and
// at 100M events, and their ratio: the calendar's memory is bounded in
// steady state when it stays near 1 (target: at most 1.1). One op is the
// whole run; run it with -benchtime 1x.
func BenchmarkHoldMemory(b *testing.B) {
	const n = 100000
	heap := func() float64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse)
	}
	var at10, at100 float64
	var fired uint64
	for b.Loop() {
		env := New(Options{Seed: 1})
		s := env.Stream("hold")
		evs := make([]Event, n)
		left := 0
		hold := func() {
			left--
			if left <= 0 {
				env.Stop()
			}
			env.Schedule(env.Firing(), env.Now()+FromSeconds(s.ExpFloat64()), Default)
		}
		for i := range evs {
			evs[i].Init("hold", hold)
			env.Schedule(&evs[i], FromSeconds(s.ExpFloat64()), Default)
		}
		left = 10_000_000
		env.Run()
		b.StopTimer()
		at10 += heap()
		b.StartTimer()
		left = 90_000_000
		env.Run()
		b.StopTimer()
		at100 += heap()
		b.StartTimer()
		fired += env.Fired()
		runtime.KeepAlive(evs)
	}
	k := float64(b.N)
	b.ReportMetric(at10/k/(1<<20), "MiB-heap-10M")
	b.ReportMetric(at100/k/(1<<20), "MiB-heap-100M")
	b.ReportMetric(at100/at10, "heap-100M/10M(max-1.1)")
	b.ReportMetric(float64(fired)/b.Elapsed().Seconds(), "events/s")
}
