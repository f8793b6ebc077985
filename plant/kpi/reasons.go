package kpi

import (
	"cmp"
	"slices"
	"time"
)

// Scrap tallies scrapped units by the reason a person gave (a scrap
// reason's code; "" for scrap given without one): the quality rate's
// loss broken down, largest first (a Pareto).
type Scrap struct {
	n map[string]float64
}

// Add counts n units scrapped for reason.
func (s *Scrap) Add(reason string, n float64) {
	if n <= 0 {
		return
	}
	if s.n == nil {
		s.n = map[string]float64{}
	}
	s.n[reason] += n
}

// ReasonQty is a quantity by reason.
type ReasonQty struct {
	Reason string
	Qty    float64
}

// List returns the reasons, largest first, ties by code.
func (s Scrap) List() []ReasonQty {
	out := make([]ReasonQty, 0, len(s.n))
	for r, n := range s.n {
		out = append(out, ReasonQty{r, n})
	}
	slices.SortFunc(out, func(a, b ReasonQty) int {
		if c := cmp.Compare(b.Qty, a.Qty); c != 0 {
			return c
		}
		return cmp.Compare(a.Reason, b.Reason)
	})
	return out
}

// Total is the units tallied.
func (s Scrap) Total() float64 {
	t := 0.0
	for _, n := range s.n {
		t += n
	}
	return t
}

// ReasonTime is a time by reason.
type ReasonTime struct {
	Reason string
	Time   time.Duration
}
