package scenarios

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"twin/plant/event"
	"twin/sim"
)

// fakeBatch is a batch of 3 variants × 4 replications with made-up
// values: throughput = 10 + variant + rep/10, on_time NaN in replication 1.
func fakeBatch(crn bool) *Batch {
	h := Header{Name: "fake", Fingerprint: "f", Replications: 4, CRN: crn, Baseline: "baseline", HorizonHours: 24,
		Variants: []VariantHeader{{Name: "baseline"}, {Name: "a", Overrides: []OverrideText{{"x.y", "1"}}}, {Name: "b", Sweep: "s"}}}
	b := &Batch{Scenario: h, Shard: Shard{0, 1}}
	for v := range 3 {
		for rep := 1; rep <= 4; rep++ {
			ot := 0.9
			if rep == 1 {
				ot = math.NaN()
			}
			r := RunResult{Variant: v, Replication: rep, Seed: sim.ReplicationSeed(1, rep), Bottleneck: []string{"winding", "oven"}[rep%2],
				Metrics: []Value{
					{"throughput", "units/day", Num(10 + float64(v) + float64(rep*rep)/10)},
					{"on_time", "fraction", Num(ot)},
				}}
			if v == 2 {
				r.Metrics = append(r.Metrics, Value{"only_b", "x", 1})
			}
			b.Runs = append(b.Runs, r)
		}
	}
	return b
}

func TestSummarize(t *testing.T) {
	res, err := Summarize(fakeBatch(true))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Variants) != 3 || !res.Variants[0].Baseline || res.Variants[1].Baseline {
		t.Fatalf("variants %+v", res.Variants)
	}
	a := res.Variants[1]
	tp := a.Metric("throughput")
	// Values 11.1, 11.4, 11.9, 12.6.
	var tally sim.Tally
	for _, x := range []float64{11.1, 11.4, 11.9, 12.6} {
		tally.Add(x)
	}
	if tp.N != 4 || !near(float64(tp.Mean), tally.Mean()) || !near(float64(tp.CI95), tally.CI(0.95)) ||
		float64(tp.Min) != 11.1 || float64(tp.Max) != 12.6 || tp.Unit != "units/day" {
		t.Fatalf("throughput %+v", tp)
	}
	// Paired differences are all exactly 1: CI 0.
	if d := tp.Diff; d == nil || !d.Paired || !near(float64(d.Mean), 1) || float64(d.CI95) > 1e-12 || d.N != 4 || !d.Significant() {
		t.Fatalf("diff %+v", tp.Diff)
	}
	ot := a.Metric("on_time")
	if ot.N != 3 || !math.IsNaN(float64(ot.Values[0])) || !near(float64(ot.Mean), 0.9) {
		t.Fatalf("on_time %+v", ot)
	}
	if res.Variants[0].Metric("throughput").Diff != nil {
		t.Fatal("baseline has a difference from itself")
	}
	if m := res.Variants[2].Metric("only_b"); m == nil || m.Diff != nil {
		t.Fatalf("only_b %+v", m)
	}
	if bn := a.Bottleneck; len(bn) != 2 || bn[0] != (Count{"oven", 2}) || bn[1] != (Count{"winding", 2}) {
		t.Fatalf("bottleneck %+v", bn)
	}
	if len(a.Seeds) != 4 || uint64(a.Seeds[2]) != sim.ReplicationSeed(1, 3) {
		t.Fatalf("seeds %v", a.Seeds)
	}

	// Without CRN the difference is Welch's: same mean, a wider CI.
	ind, err := Summarize(fakeBatch(false))
	if err != nil {
		t.Fatal(err)
	}
	d := ind.Variants[1].Metric("throughput").Diff
	if d.Paired || !near(float64(d.Mean), 1) || !(d.CI95 > 0.5) {
		t.Fatalf("independent diff %+v", d)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestResultsJSONRoundTrip(t *testing.T) {
	res, err := Summarize(fakeBatch(true))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"values": [
            null,`) || !strings.Contains(buf.String(), `"seeds": [`) {
		t.Fatalf("NaN not null, or no seeds:\n%s", buf.String())
	}
	back, err := ReadResults(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := back.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != buf.String() {
		t.Fatal("results.json does not survive a round trip")
	}
}

func TestResultsCSV(t *testing.T) {
	res, _ := Summarize(fakeBatch(true))
	var buf bytes.Buffer
	if err := res.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+2+2+3 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("rows %q", rows)
	}
	if r := rows[3]; r[0] != "a" || r[2] != "throughput" || r[4] != "4" || r[10] != "1" {
		t.Fatalf("row %q", r)
	}
	if r := rows[1]; r[10] != "" {
		t.Fatalf("baseline row has a diff: %q", r)
	}
}

func TestMerge(t *testing.T) {
	full := fakeBatch(true)
	for _, n := range []int{1, 2, 3, 5, 12, 20} {
		shards := make([]*Batch, n)
		for i := range shards {
			shards[i] = &Batch{Scenario: full.Scenario, Shard: Shard{i, n}}
		}
		for task, r := range full.Runs {
			shards[task%n].Runs = append(shards[task%n].Runs, r)
		}
		// Through the file format, in reverse order.
		var back []*Batch
		for i := n - 1; i >= 0; i-- {
			var buf bytes.Buffer
			if err := shards[i].WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			b, err := ReadBatch(&buf)
			if err != nil {
				t.Fatal(err)
			}
			back = append(back, b)
		}
		m, err := Merge(back)
		if err != nil {
			t.Fatal(n, err)
		}
		if got, want := resultsJSON(t, m), resultsJSON(t, full); got != want {
			t.Fatalf("%d shards: merged results differ", n)
		}
	}
	half := func(i int) *Batch {
		b := &Batch{Scenario: full.Scenario, Shard: Shard{i, 2}}
		for task, r := range full.Runs {
			if task%2 == i {
				b.Runs = append(b.Runs, r)
			}
		}
		return b
	}
	other := half(1)
	other.Scenario.Fingerprint = "g"
	for name, shards := range map[string][]*Batch{
		"missing":   {half(0)},
		"twice":     {half(0), half(0)},
		"other":     {half(0), other},
		"count":     {half(0), {Scenario: full.Scenario, Shard: Shard{1, 3}}},
		"lost runs": {half(0), {Scenario: full.Scenario, Shard: Shard{1, 2}}},
	} {
		if _, err := Merge(shards); err == nil {
			t.Errorf("%s: merged", name)
		}
	}
}

func resultsJSON(t *testing.T, b *Batch) string {
	t.Helper()
	res, err := Summarize(b)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestSummary(t *testing.T) {
	res, _ := Summarize(fakeBatch(true))
	var buf bytes.Buffer
	if err := res.WriteSummary(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"fake: 3 variants × 4 replications, 1d after a 0h warm-up, common random numbers",
		"throughput (units/day)", "+1 ± 0 *", "on_time (fraction)", "oven 2/4, winding 2/4",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestPlusMinus(t *testing.T) {
	for _, tc := range []struct {
		m, c Num
		sign bool
		want string
	}{
		{41.234, 0.812, false, "41.23 ± 0.81"},
		{41.234, 12.5, false, "41 ± 12"},
		{0.91234, 0.0123, false, "0.912 ± 0.012"},
		{-3.21, 0.5, true, "-3.21 ± 0.50"},
		{3.21, 0.5, true, "+3.21 ± 0.50"},
		{Num(math.NaN()), 1, false, "n/a"},
		{5, Num(math.NaN()), false, "5"},
	} {
		if got := plusMinus(tc.m, tc.c, tc.sign); got != tc.want {
			t.Errorf("plusMinus(%v, %v) = %q, want %q", tc.m, tc.c, got, tc.want)
		}
	}
}

func TestNumJSON(t *testing.T) {
	in := []Num{1, 0.1, 1e300, Num(math.NaN()), Num(math.Inf(1)), -0.000123456789012345}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "[1,0.1,1e+300,null,null,-0.000123456789012345]" {
		t.Fatalf("%s", b)
	}
	var back []Num
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back[2] != 1e300 || !math.IsNaN(float64(back[3])) || back[5] != in[5] {
		t.Fatalf("%v", back)
	}
}

func TestEventLine(t *testing.T) {
	evs := []event.Event{
		{Time: 1736035200000000000, Kind: event.State, Source: event.Scenario, Asset: "qijiang/motor/winding/W2", Value: float64(event.Running)},
		{Time: 1, Kind: event.Moved, Asset: "a/buffer", Name: "a/W1", Ref: "G00001/P/1", Value: 3},
		{Time: 2, Kind: event.Alarm, Asset: "x", Name: "failure/wear", Ref: "machine \"failure\"\n\t\\ é \x01", Value: 700, Quality: event.Uncertain},
		{Time: 3, Kind: event.Measure, Asset: "x", Name: "power_kw", Value: 1.5e-7},
	}
	var buf bytes.Buffer
	w := NewEventWriter(&buf)
	for _, e := range evs {
		w.Emit(e)
	}
	if err := w.Flush(); err != nil || w.Count() != 4 {
		t.Fatal(err, w.Count())
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if lines[0] != `{"t":1736035200000000000,"kind":"state","asset":"qijiang/motor/winding/W2","value":4,"source":"scenario"}` {
		t.Fatalf("line %s", lines[0])
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("invalid JSON %s", l)
		}
		e, err := DecodeEvent([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		if e != evs[i] {
			t.Fatalf("round trip:\n%+v\n%+v", e, evs[i])
		}
	}
	// NaN becomes null, and null NaN.
	b := AppendEvent(nil, event.Event{Kind: event.Counter, Value: math.NaN()})
	if e, err := DecodeEvent(b); err != nil || !math.IsNaN(e.Value) {
		t.Fatalf("%s: %v %v", b, e, err)
	}
}
