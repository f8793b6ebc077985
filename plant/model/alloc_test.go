package model

import (
	"runtime"
	"testing"

	"twin/sim"
)

// TestNoAllocationPerUnit: once the reference plant has its work in
// process, making a motor allocates nothing of its own: finished jobs are
// reused (freeJob), an order's kitting line keeps its room. What is left
// is per order (the order, its stock, its id), about 30 motors each.
func TestNoAllocationPerUnit(t *testing.T) {
	build := load(t, "motor.yaml")
	m, err := New(build(), Options{Seed: 1, Horizon: 365 * sim.Day})
	if err != nil {
		t.Fatal(err)
	}
	m.RunUntil(28 * sim.Day) // the plant fills, the free list with it
	made0 := m.stats.produced
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	a0 := ms.Mallocs
	m.RunUntil(112 * sim.Day)
	runtime.ReadMemStats(&ms)
	made := m.stats.produced - made0
	per := float64(ms.Mallocs-a0) / float64(made)
	t.Logf("weeks 4–16: %d motors, %d allocations: %.3f per motor", made, ms.Mallocs-a0, per)
	if made < 5000 {
		t.Fatalf("only %d motors made in 12 weeks", made)
	}
	if per > 0.5 {
		t.Errorf("%.3f allocations per motor made, want at most 0.5 (a job or a slice per unit?)", per)
	}
}
