package sim

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Tally accumulates observations (waits, lead times, replication results)
// with Welford's update: mean and variance in one pass, stable for long
// runs. The zero value is empty and ready.
type Tally struct {
	n        int64
	mean, m2 float64
	min, max float64
	sum      float64
}

// Add records one observation.
func (t *Tally) Add(x float64) {
	t.n++
	if t.n == 1 {
		t.min, t.max = x, x
	} else {
		if x < t.min {
			t.min = x
		}
		if x > t.max {
			t.max = x
		}
	}
	t.sum += x
	d := x - t.mean
	t.mean += d / float64(t.n)
	t.m2 += d * (x - t.mean)
}

// Merge adds the observations summarised by o (Chan et al.'s parallel
// update), so replications can be tallied apart and combined.
func (t *Tally) Merge(o *Tally) {
	if o.n == 0 {
		return
	}
	if t.n == 0 {
		*t = *o
		return
	}
	n := t.n + o.n
	d := o.mean - t.mean
	t.mean += d * float64(o.n) / float64(n)
	t.m2 += o.m2 + d*d*float64(t.n)*float64(o.n)/float64(n)
	t.min = math.Min(t.min, o.min)
	t.max = math.Max(t.max, o.max)
	t.sum += o.sum
	t.n = n
}

// Reset empties the tally.
func (t *Tally) Reset() { *t = Tally{} }

// N returns the number of observations.
func (t *Tally) N() int64 { return t.n }

// Sum returns the sum of the observations.
func (t *Tally) Sum() float64 { return t.sum }

// Mean returns the sample mean, or NaN when empty.
func (t *Tally) Mean() float64 {
	if t.n == 0 {
		return math.NaN()
	}
	return t.mean
}

// Var returns the unbiased sample variance, or NaN with fewer than two
// observations.
func (t *Tally) Var() float64 {
	if t.n < 2 {
		return math.NaN()
	}
	return t.m2 / float64(t.n-1)
}

// Std returns the sample standard deviation.
func (t *Tally) Std() float64 { return math.Sqrt(t.Var()) }

// Min returns the smallest observation, or NaN when empty.
func (t *Tally) Min() float64 {
	if t.n == 0 {
		return math.NaN()
	}
	return t.min
}

// Max returns the largest observation, or NaN when empty.
func (t *Tally) Max() float64 {
	if t.n == 0 {
		return math.NaN()
	}
	return t.max
}

// CI returns the half-width of the two-sided confidence interval of the
// mean at the given level (0.95 for 95%), from Student's t with n−1 degrees
// of freedom. It assumes independent, roughly normal observations, which
// holds for means of independent replications; it does not hold for the
// autocorrelated waits inside one run. NaN with fewer than two observations.
func (t *Tally) CI(level float64) float64 {
	if t.n < 2 {
		return math.NaN()
	}
	return StudentT(level, t.n-1) * t.Std() / math.Sqrt(float64(t.n))
}

// StudentT returns the two-sided critical value of Student's t distribution
// with df degrees of freedom at the given confidence level.
func StudentT(level float64, df int64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(1 - (1-level)/2)
}

// TimeWeighted tracks a piecewise-constant quantity over simulated time
// (queue length, busy units, power draw) and gives its time average. Call
// Reset to start it, then Set at each change.
type TimeWeighted struct {
	start, last Time
	v           float64
	area        float64 // integral of v over [start, last]
	min, max    float64
}

// Reset starts (or restarts, after a warm-up) the average at time t with
// value v.
func (w *TimeWeighted) Reset(t Time, v float64) {
	*w = TimeWeighted{start: t, last: t, v: v, min: v, max: v}
}

// Set records that the value becomes v at time t (t never decreases).
func (w *TimeWeighted) Set(t Time, v float64) {
	if t > w.last {
		w.area += w.v * float64(t-w.last)
		w.last = t
	}
	w.v = v
	if v < w.min {
		w.min = v
	}
	if v > w.max {
		w.max = v
	}
}

// Add changes the value by d at time t.
func (w *TimeWeighted) Add(t Time, d float64) { w.Set(t, w.v+d) }

// Value returns the current value.
func (w *TimeWeighted) Value() float64 { return w.v }

// Integral returns the integral of the value from the start to now, in
// value × seconds.
func (w *TimeWeighted) Integral(now Time) float64 {
	a := w.area
	if now > w.last {
		a += w.v * float64(now-w.last)
	}
	return a / float64(Second)
}

// Mean returns the time average from the start to now, or the current value
// if no time has passed.
func (w *TimeWeighted) Mean(now Time) float64 {
	span := now - w.start
	if span <= 0 {
		return w.v
	}
	return w.Integral(now) / span.Seconds()
}

// Min returns the smallest value seen since the start.
func (w *TimeWeighted) Min() float64 { return w.min }

// Max returns the largest value seen since the start.
func (w *TimeWeighted) Max() float64 { return w.max }

// Histogram counts non-negative observations in log-linear buckets (64 per
// power of two, so any quantile is within 1.6% of the true value) and
// answers quantiles. Memory is bounded whatever the number of
// observations. Negative observations count as zero.
type Histogram struct {
	counts   []uint64 // index = bucket - lo
	lo       int
	zeros    uint64
	n        uint64
	min, max float64
}

const histSub = 64 // buckets per power of two

func histBucket(x float64) int {
	frac, exp := math.Frexp(x) // x = frac × 2^exp, frac in [0.5, 1)
	return exp*histSub + int((frac-0.5)*2*histSub)
}

func histLower(b int) float64 {
	exp := b / histSub
	sub := b % histSub
	if sub < 0 {
		sub += histSub
		exp--
	}
	return math.Ldexp(0.5+float64(sub)/(2*histSub), exp)
}

// Add records one observation.
func (h *Histogram) Add(x float64) {
	if h.n == 0 || x < h.min {
		h.min = x
	}
	if h.n == 0 || x > h.max {
		h.max = x
	}
	h.n++
	if !(x > 0) || math.IsInf(x, 1) {
		h.zeros++
		return
	}
	b := histBucket(x)
	h.ensure(b)
	h.counts[b-h.lo]++
}

// ensure grows the bucket array to include bucket b.
func (h *Histogram) ensure(b int) {
	switch {
	case len(h.counts) == 0:
		h.counts = make([]uint64, histSub)
		h.lo = b - histSub/2
	case b < h.lo:
		grow := h.lo - b + histSub
		c := make([]uint64, len(h.counts)+grow)
		copy(c[grow:], h.counts)
		h.counts, h.lo = c, h.lo-grow
	case b >= h.lo+len(h.counts):
		grow := b - h.lo - len(h.counts) + 1 + histSub
		h.counts = append(h.counts, make([]uint64, grow)...)
	}
}

// N returns the number of observations.
func (h *Histogram) N() uint64 { return h.n }

// Merge adds the counts of o.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if h.n == 0 || o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.counts {
		if c != 0 {
			b := o.lo + i
			h.ensure(b)
			h.counts[b-h.lo] += c
		}
	}
	h.zeros += o.zeros
	h.n += o.n
}

// Quantile returns an estimate of the q-quantile (0 ≤ q ≤ 1): the midpoint of
// the bucket holding it, clamped to the observed range. NaN when empty.
func (h *Histogram) Quantile(q float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank <= h.zeros {
		return math.Max(h.min, 0)
	}
	seen := h.zeros
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			b := h.lo + i
			x := (histLower(b) + histLower(b+1)) / 2
			return math.Min(math.Max(x, h.min), h.max)
		}
	}
	return h.max
}
