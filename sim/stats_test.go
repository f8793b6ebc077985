package sim

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

type cdf interface{ CDF(float64) float64 }

// ks returns the Kolmogorov–Smirnov statistic of samples against F.
func ks(xs []float64, F cdf) float64 {
	slices.Sort(xs)
	n := float64(len(xs))
	d := 0.0
	for i, x := range xs {
		f := F.CDF(x)
		d = math.Max(d, math.Max(f-float64(i)/n, float64(i+1)/n-f))
	}
	return d
}

func TestDistributionsKS(t *testing.T) {
	const n = 20000
	crit := 1.95 / math.Sqrt(n) // α = 0.001
	tri := distuv.NewTriangle(2, 9, 3, nil)
	for _, tc := range []struct {
		d Dist
		F cdf
	}{
		{Exponential{M: 90}, distuv.Exponential{Rate: 1.0 / 90}},
		{Normal{Mu: 60, Sigma: 7}, distuv.Normal{Mu: 60, Sigma: 7}},
		{LogNormal{Mu: 1, Sigma: 0.4}, distuv.LogNormal{Mu: 1, Sigma: 0.4}},
		{Triangular{Min: 2, Mode: 3, Max: 9}, tri},
		{Uniform{Min: -1, Max: 4}, distuv.Uniform{Min: -1, Max: 4}},
		{Weibull{K: 1.7, Lambda: 300}, distuv.Weibull{K: 1.7, Lambda: 300}},
		{Weibull{K: 0.6, Lambda: 10}, distuv.Weibull{K: 0.6, Lambda: 10}},
		{Gamma{K: 2.5, Theta: 4}, distuv.Gamma{Alpha: 2.5, Beta: 1.0 / 4}},
		{Gamma{K: 0.3, Theta: 2}, distuv.Gamma{Alpha: 0.3, Beta: 1.0 / 2}},
		{Erlang{K: 3, M: 30}, distuv.Gamma{Alpha: 3, Beta: 3.0 / 30}},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			s := NewStream(11, tc.d.String())
			xs := make([]float64, n)
			sum := 0.0
			for i := range xs {
				xs[i] = tc.d.Sample(s)
				sum += xs[i]
			}
			if d := ks(xs, tc.F); d > crit {
				t.Errorf("KS statistic %.4f exceeds %.4f", d, crit)
			}
			mean := tc.d.Mean()
			if tm, ok := tc.F.(interface{ Mean() float64 }); ok && !near(mean, tm.Mean(), 1e-9*math.Abs(mean)) {
				t.Errorf("Mean() %v, gonum says %v", mean, tm.Mean())
			}
		})
	}
}

func TestLogNormalMeanStd(t *testing.T) {
	d := LogNormalMeanStd(120, 30)
	var tl Tally
	s := NewStream(3, "ln")
	for i := 0; i < 200000; i++ {
		tl.Add(d.Sample(s))
	}
	if !near(d.Mean(), 120, 1e-9) || math.Abs(tl.Mean()-120) > 0.5 || math.Abs(tl.Std()-30) > 0.5 {
		t.Fatalf("mean %v (sample %v) std %v, want 120 and 30", d.Mean(), tl.Mean(), tl.Std())
	}
}

func TestEmpiricalAndDiscrete(t *testing.T) {
	e, err := NewEmpirical([]float64{4, 1, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	s := NewStream(5, "emp")
	var tl Tally
	for i := 0; i < 100000; i++ {
		x := e.Sample(s)
		if x < 1 || x > 4 {
			t.Fatalf("sample %v outside the data's range", x)
		}
		tl.Add(x)
	}
	if math.Abs(tl.Mean()-e.Mean()) > 0.02 || e.Mean() != 2.5 {
		t.Fatalf("empirical mean %v, sample %v", e.Mean(), tl.Mean())
	}
	if _, err := NewEmpirical(nil); err == nil {
		t.Fatal("empty data accepted")
	}

	d, err := NewDiscrete([]float64{10, 20, 30}, []float64{1, 2, 7})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[float64]int{}
	const n = 100000
	for i := 0; i < n; i++ {
		counts[d.Sample(s)]++
	}
	for v, p := range map[float64]float64{10: 0.1, 20: 0.2, 30: 0.7} {
		got := float64(counts[v]) / n
		if math.Abs(got-p) > 4*math.Sqrt(p*(1-p)/n) {
			t.Errorf("P(%v) = %.4f, want %.2f", v, got, p)
		}
	}
	if d.Mean() != 26 {
		t.Errorf("mean %v, want 26", d.Mean())
	}
	for _, bad := range [][2][]float64{{{1}, {}}, {{1, 2}, {1, -1}}, {{1}, {0}}, {{1}, {math.NaN()}}} {
		if _, err := NewDiscrete(bad[0], bad[1]); err == nil {
			t.Errorf("NewDiscrete(%v, %v) accepted", bad[0], bad[1])
		}
	}
}

func TestTally(t *testing.T) {
	xs := []float64{3, 1, 4, 1, 5, 9, 2, 6}
	var a, b, all Tally
	for i, x := range xs {
		all.Add(x)
		if i < 3 {
			a.Add(x)
		} else {
			b.Add(x)
		}
	}
	a.Merge(&b)
	mean := 31.0 / 8
	v := 0.0
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	v /= 7
	for _, tl := range []*Tally{&all, &a} {
		if tl.N() != 8 || !near(tl.Mean(), mean, 1e-12) || !near(tl.Var(), v, 1e-12) || tl.Min() != 1 || tl.Max() != 9 || tl.Sum() != 31 {
			t.Fatalf("tally n=%d mean=%v var=%v min=%v max=%v", tl.N(), tl.Mean(), tl.Var(), tl.Min(), tl.Max())
		}
	}
	var empty Tally
	if !math.IsNaN(empty.Mean()) || !math.IsNaN(empty.CI(0.95)) {
		t.Fatal("empty tally has a mean")
	}
	if got := StudentT(0.95, 10); !near(got, 2.228138852, 1e-6) {
		t.Fatalf("t(0.975, 10) = %v", got)
	}
}

// The 95% interval covers the true mean in about 95% of experiments.
func TestConfidenceIntervalCoverage(t *testing.T) {
	s := NewStream(21, "ci")
	const trials, n = 2000, 10
	covered := 0
	for i := 0; i < trials; i++ {
		var tl Tally
		for j := 0; j < n; j++ {
			tl.Add(Normal{Mu: 5, Sigma: 2}.Sample(s))
		}
		if math.Abs(tl.Mean()-5) <= tl.CI(0.95) {
			covered++
		}
	}
	p := float64(covered) / trials
	// Binomial standard error 0.0049: accept ±3σ.
	if p < 0.935 || p > 0.965 {
		t.Fatalf("coverage %.3f, want 0.95 ± 0.015", p)
	}
}

func TestTimeWeighted(t *testing.T) {
	var w TimeWeighted
	w.Reset(0, 2)
	w.Set(10*Second, 4) // 2 over [0,10)
	w.Add(15*Second, -4)
	if got := w.Mean(20 * Second); !near(got, (20+20+0)/20.0, 1e-12) {
		t.Fatalf("mean %v, want 2", got)
	}
	if w.Max() != 4 || w.Min() != 0 || w.Value() != 0 {
		t.Fatalf("max %v min %v value %v", w.Max(), w.Min(), w.Value())
	}
	if got := w.Integral(20 * Second); got != 40 {
		t.Fatalf("integral %v, want 40", got)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	s := NewStream(2, "h")
	var h, h1, h2 Histogram
	xs := make([]float64, 50001)
	for i := range xs {
		xs[i] = LogNormal{Mu: 2, Sigma: 1.2}.Sample(s)
		h.Add(xs[i])
		if i%2 == 0 {
			h1.Add(xs[i])
		} else {
			h2.Add(xs[i])
		}
	}
	h1.Merge(&h2)
	slices.Sort(xs)
	for _, q := range []float64{0.01, 0.25, 0.5, 0.9, 0.95, 0.99} {
		exact := xs[int(math.Ceil(q*float64(len(xs))))-1]
		for _, hh := range []*Histogram{&h, &h1} {
			if got := hh.Quantile(q); math.Abs(got-exact)/exact > 1.0/64 {
				t.Errorf("q%.2f = %v, exact %v", q, got, exact)
			}
		}
	}
	if h.Quantile(0) != xs[0] || h.Quantile(1) != xs[len(xs)-1] || h1.N() != h.N() {
		t.Fatal("extremes or counts wrong")
	}
	var z Histogram
	z.Add(0)
	z.Add(-3)
	z.Add(10)
	if z.Quantile(0.5) != 0 || !near(z.Quantile(0.99), 10, 10.0/64) {
		t.Fatalf("zeros: median %v p99 %v", z.Quantile(0.5), z.Quantile(0.99))
	}
}
