package sim

import (
	"fmt"
	"math"
	"slices"
)

// Dist is a probability distribution of a real quantity. Processing times
// and repair times are distributions of seconds. Implementations are plain
// values; the random stream is passed in, so one distribution can serve
// many entities, each with its own stream.
type Dist interface {
	Sample(s *Stream) float64
	Mean() float64
	String() string
}

// Const always returns V.
type Const struct{ V float64 }

func (d Const) Sample(*Stream) float64 { return d.V }
func (d Const) Mean() float64          { return d.V }
func (d Const) String() string         { return fmt.Sprintf("const(%g)", d.V) }

// Exponential has the given mean (1/rate).
type Exponential struct{ M float64 }

func (d Exponential) Sample(s *Stream) float64 { return s.ExpFloat64() * d.M }
func (d Exponential) Mean() float64            { return d.M }
func (d Exponential) String() string           { return fmt.Sprintf("exp(%g)", d.M) }

// Normal has mean Mu and standard deviation Sigma. Used for durations it is
// truncated at zero by the caller (Stream.Duration).
type Normal struct{ Mu, Sigma float64 }

func (d Normal) Sample(s *Stream) float64 { return d.Mu + d.Sigma*s.NormFloat64() }
func (d Normal) Mean() float64            { return d.Mu }
func (d Normal) String() string           { return fmt.Sprintf("normal(%g, %g)", d.Mu, d.Sigma) }

// LogNormal is exp(N(Mu, Sigma)): Mu and Sigma are the parameters of the
// underlying normal. LogNormalMeanStd builds one from the mean and standard
// deviation of the variable itself, which is what plant data gives.
type LogNormal struct{ Mu, Sigma float64 }

// LogNormalMeanStd returns the log-normal distribution with the given mean
// and standard deviation.
func LogNormalMeanStd(mean, std float64) LogNormal {
	v := math.Log(1 + (std*std)/(mean*mean))
	return LogNormal{Mu: math.Log(mean) - v/2, Sigma: math.Sqrt(v)}
}

func (d LogNormal) Sample(s *Stream) float64 { return math.Exp(d.Mu + d.Sigma*s.NormFloat64()) }
func (d LogNormal) Mean() float64            { return math.Exp(d.Mu + d.Sigma*d.Sigma/2) }
func (d LogNormal) String() string           { return fmt.Sprintf("lognormal(%g, %g)", d.Mu, d.Sigma) }

// Triangular has a minimum, a mode and a maximum: the distribution of
// choice when a process engineer gives "fastest, usual, slowest".
type Triangular struct{ Min, Mode, Max float64 }

func (d Triangular) Sample(s *Stream) float64 {
	u := s.Float64()
	a, c, b := d.Min, d.Mode, d.Max
	if b <= a {
		return a
	}
	f := (c - a) / (b - a)
	if u < f {
		return a + math.Sqrt(u*(b-a)*(c-a))
	}
	return b - math.Sqrt((1-u)*(b-a)*(b-c))
}
func (d Triangular) Mean() float64 { return (d.Min + d.Mode + d.Max) / 3 }
func (d Triangular) String() string {
	return fmt.Sprintf("tri(%g, %g, %g)", d.Min, d.Mode, d.Max)
}

// Uniform is uniform on [Min, Max).
type Uniform struct{ Min, Max float64 }

func (d Uniform) Sample(s *Stream) float64 { return d.Min + (d.Max-d.Min)*s.Float64() }
func (d Uniform) Mean() float64            { return (d.Min + d.Max) / 2 }
func (d Uniform) String() string           { return fmt.Sprintf("uniform(%g, %g)", d.Min, d.Max) }

// Weibull has shape K and scale Lambda; K < 1 models infant mortality, K > 1
// wear-out: the usual law of time between failures.
type Weibull struct{ K, Lambda float64 }

func (d Weibull) Sample(s *Stream) float64 {
	return d.Lambda * math.Pow(s.ExpFloat64(), 1/d.K)
}
func (d Weibull) Mean() float64  { return d.Lambda * math.Gamma(1+1/d.K) }
func (d Weibull) String() string { return fmt.Sprintf("weibull(%g, %g)", d.K, d.Lambda) }

// Gamma has shape K and scale Theta (mean K·Theta).
type Gamma struct{ K, Theta float64 }

func (d Gamma) Sample(s *Stream) float64 { return gamma(s, d.K) * d.Theta }
func (d Gamma) Mean() float64            { return d.K * d.Theta }
func (d Gamma) String() string           { return fmt.Sprintf("gamma(%g, %g)", d.K, d.Theta) }

// gamma draws Gamma(k, 1) by Marsaglia and Tsang's method (2000), boosted
// for k < 1 with U^(1/k).
func gamma(s *Stream, k float64) float64 {
	if k <= 0 {
		return 0
	}
	if k < 1 {
		return gamma(s, k+1) * math.Pow(s.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		var x, v float64
		for v <= 0 {
			x = s.NormFloat64()
			v = 1 + c*x
		}
		v = v * v * v
		u := s.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// Erlang is the sum of K exponential phases with total mean M.
type Erlang struct {
	K int
	M float64
}

func (d Erlang) Sample(s *Stream) float64 {
	sum := 0.0
	for i := 0; i < d.K; i++ {
		sum += s.ExpFloat64()
	}
	return sum * d.M / float64(d.K)
}
func (d Erlang) Mean() float64  { return d.M }
func (d Erlang) String() string { return fmt.Sprintf("erlang(%d, %g)", d.K, d.M) }

// Empirical resamples observed data as a continuous distribution: the
// inverse of the piecewise-linear empirical CDF through the sorted
// observations. Build it with NewEmpirical.
type Empirical struct {
	xs   []float64
	mean float64
}

// NewEmpirical returns the empirical distribution of data (copied).
func NewEmpirical(data []float64) (*Empirical, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("sim: empirical distribution needs at least one value")
	}
	xs := slices.Clone(data)
	slices.Sort(xs)
	sum := 0.0
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("sim: empirical distribution: value %v is not finite", x)
		}
		sum += x
	}
	// The piecewise-linear CDF's mean is the trapezoid average.
	mean := xs[0]
	if n := len(xs); n > 1 {
		area := 0.0
		for i := 1; i < n; i++ {
			area += (xs[i] + xs[i-1]) / 2
		}
		mean = area / float64(n-1)
	}
	return &Empirical{xs: xs, mean: mean}, nil
}

func (d *Empirical) Sample(s *Stream) float64 {
	n := len(d.xs)
	if n == 1 {
		return d.xs[0]
	}
	p := s.Float64() * float64(n-1)
	i := int(p)
	return d.xs[i] + (p-float64(i))*(d.xs[i+1]-d.xs[i])
}
func (d *Empirical) Mean() float64  { return d.mean }
func (d *Empirical) String() string { return fmt.Sprintf("empirical(%d values)", len(d.xs)) }

// Discrete draws one of Values with probability proportional to its weight,
// in O(1) by Walker's alias method. Build it with NewDiscrete.
type Discrete struct {
	values []float64
	prob   []float64
	alias  []int
	mean   float64
}

// NewDiscrete returns the discrete distribution of values with weights.
func NewDiscrete(values, weights []float64) (*Discrete, error) {
	n := len(values)
	if n == 0 || n != len(weights) {
		return nil, fmt.Errorf("sim: discrete distribution needs as many weights as values (got %d and %d)", n, len(weights))
	}
	total := 0.0
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("sim: discrete distribution: weight %d is %v, want a finite value ≥ 0", i, w)
		}
		total += w
	}
	if total <= 0 {
		return nil, fmt.Errorf("sim: discrete distribution: weights sum to zero")
	}
	d := &Discrete{values: slices.Clone(values), prob: make([]float64, n), alias: make([]int, n)}
	scaled := make([]float64, n)
	var small, large []int
	for i, w := range weights {
		d.mean += values[i] * w / total
		scaled[i] = w * float64(n) / total
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		l := small[len(small)-1]
		small = small[:len(small)-1]
		g := large[len(large)-1]
		d.prob[l], d.alias[l] = scaled[l], g
		scaled[g] += scaled[l] - 1
		if scaled[g] < 1 {
			large = large[:len(large)-1]
			small = append(small, g)
		}
	}
	for _, i := range append(small, large...) {
		d.prob[i], d.alias[i] = 1, i
	}
	return d, nil
}

// Index draws the index of a value.
func (d *Discrete) Index(s *Stream) int {
	i := s.IntN(len(d.values))
	if s.Float64() < d.prob[i] {
		return i
	}
	return d.alias[i]
}

func (d *Discrete) Sample(s *Stream) float64 { return d.values[d.Index(s)] }
func (d *Discrete) Mean() float64            { return d.mean }
func (d *Discrete) String() string           { return fmt.Sprintf("discrete(%d values)", len(d.values)) }
