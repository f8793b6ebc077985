package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"twin/sim"
)

// TestExamples runs every example scenario of this folder on the
// reference plant, shortened, and checks that each variant produced.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			s.Warmup, s.Horizon, s.Replications = sim.Time(24*time.Hour), sim.Time(4*24*time.Hour), 2
			if s.Events != nil {
				s.Events.Replication = 1
			}
			var log bytes.Buffer
			b, err := Run(context.Background(), s, Options{Events: &log})
			if err != nil {
				t.Fatal(err)
			}
			r, err := Summarize(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Variants) != len(s.Variants) {
				t.Fatalf("%d variants in the results, %d in the scenario", len(r.Variants), len(s.Variants))
			}
			for _, v := range r.Variants {
				m := v.Metric("throughput")
				if m == nil || !(m.Mean > 0) {
					t.Errorf("variant %s: throughput %v", v.Name, m)
				}
			}
			if s.Events != nil {
				if log.Len() == 0 {
					t.Error("the scenario asks for an event log; none written")
				}
				if _, err := DecodeEvent(bytes.SplitN(log.Bytes(), []byte("\n"), 2)[0]); err != nil {
					t.Errorf("event log: %v", err)
				}
			}
			var js, csv bytes.Buffer
			if err := r.WriteJSON(&js); err != nil || js.Len() == 0 {
				t.Fatalf("JSON: %v", err)
			}
			if err := r.WriteCSV(&csv); err != nil || csv.Len() == 0 {
				t.Fatalf("CSV: %v", err)
			}
		})
	}
}

// crnScenario compares the tandem line with a faster welder (50 instead
// of 60 min mean): a small effect that noise can hide.
const crnScenario = `
plant: ../testdata/plants/tandem.yaml
horizon: 400d
warmup: 20d
replications: 20
seed: 7
crn: %t
variants:
  - name: faster-weld
    overrides:
      routings.r.operations.weld.time: exp(50min)
`

func diffVariance(t *testing.T, crn bool) (mean, variance float64) {
	t.Helper()
	s, err := Parse("crn.yaml", []byte(fmt.Sprintf(crnScenario, crn)))
	if err != nil {
		t.Fatal(err)
	}
	s.PlantFile = "../testdata/plants/tandem.yaml"
	doc, err := parseYAML(s.PlantFile, mustRead(t, s.PlantFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Resolve(doc); err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Summarize(b)
	if err != nil {
		t.Fatal(err)
	}
	base, fast := r.Variants[0].Metric("flow_time_mean"), r.Variants[1].Metric("flow_time_mean")
	var tl sim.Tally
	for i := range base.Values {
		tl.Add(float64(fast.Values[i] - base.Values[i]))
	}
	t.Logf("crn %t: baseline flow time %.3f ± %.3f h, faster weld %.3f ± %.3f h", crn, base.Mean, base.CI95, fast.Mean, fast.CI95)
	return tl.Mean(), tl.Var()
}

// TestCommonRandomNumbers: with common random numbers the difference
// between two variants varies much less from replication to replication
// than with independent streams, and both estimate the same effect.
func TestCommonRandomNumbers(t *testing.T) {
	mc, vc := diffVariance(t, true)
	mi, vi := diffVariance(t, false)
	t.Logf("flow time difference: CRN %.3f h (variance %.4f), independent %.3f h (variance %.4f), ratio %.1f×", mc, vc, mi, vi, vi/vc)
	if !(vc*3 < vi) {
		t.Errorf("CRN variance %.4f is not clearly below the independent variance %.4f", vc, vi)
	}
	// Jackson: 1/(1.2−0.8) + 1/(1.0−0.8) + 1/(1.5−0.8) = 8.929 h; with the
	// welder at 1.2/h: 2.5 + 2.5 + 1.429 = 6.429 h. The effect is −2.5 h.
	if math.Abs(mc+2.5) > 0.3 {
		t.Errorf("CRN estimates the effect at %.3f h, want about −2.5", mc)
	}
}

// BenchmarkScaling runs the same batch with one worker and with all cores
// and reports the speed-up, with the collector set as twin run sets it
// (GOGC=400).
func BenchmarkScaling(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	s, err := Load("third-winder-vs-third-shift.yaml")
	if err != nil {
		b.Fatal(err)
	}
	s.Warmup, s.Horizon, s.Replications = sim.Time(7*24*time.Hour), sim.Time(56*24*time.Hour), 10
	var one, all time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := Run(context.Background(), s, Options{Workers: 1}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := Run(context.Background(), s, Options{}); err != nil {
			b.Fatal(err)
		}
		one += t1.Sub(t0)
		all += time.Since(t1)
	}
	runs := float64(s.Tasks() * b.N)
	b.ReportMetric(runs/one.Seconds(), "runs/s-1worker")
	b.ReportMetric(runs/all.Seconds(), "runs/s-allcores")
	b.ReportMetric(one.Seconds()/all.Seconds(), "speedup")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
