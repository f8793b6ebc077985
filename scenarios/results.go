package scenarios

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"

	"twin/sim"
)

// File format names, written in the "format" field of each file.
const (
	ResultsFormat = "twin-scenario-results/1"
	ShardFormat   = "twin-scenario-shard/1"
)

// Num is a float64 that is written to JSON as null when it is not a
// number (NaN, ±Inf): the on-time rate of a run without orders, the CI of
// one replication.
type Num float64

// MarshalJSON writes the shortest decimal that reads back the same
// float64, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("want a number or null, got %s", b)
	}
	*n = Num(f)
	return nil
}

// Seed is a replication's master seed. JSON holds it as a string: a
// uint64 does not fit a JavaScript number.
type Seed uint64

func (s Seed) MarshalText() ([]byte, error) { return strconv.AppendUint(nil, uint64(s), 10), nil }

func (s *Seed) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 10, 64)
	*s = Seed(v)
	return err
}

// Header describes the batch a result comes from: enough to summarise
// its runs and to tell shards of different batches apart.
type Header struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	File         string          `json:"file"`
	Plant        string          `json:"plant"`
	Fingerprint  string          `json:"fingerprint"`
	HorizonHours float64         `json:"horizon_h"`
	WarmupHours  float64         `json:"warmup_h"`
	Replications int             `json:"replications"`
	Seed         uint64          `json:"seed,string"`
	CRN          bool            `json:"crn"`
	Baseline     string          `json:"baseline"`
	Metrics      []string        `json:"metrics,omitempty"`
	Events       *EventLogSpec   `json:"events,omitempty"`
	Variants     []VariantHeader `json:"variants,omitempty"`
}

// VariantHeader describes a variant.
type VariantHeader struct {
	Name      string         `json:"name"`
	Sweep     string         `json:"sweep,omitempty"`
	Overrides []OverrideText `json:"overrides,omitempty"`
}

// OverrideText is an override as text: the path and its value in YAML.
type OverrideText struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

func (s *Scenario) header() Header {
	h := Header{
		Name: s.Name, Description: s.Description, File: s.File, Plant: s.PlantFile,
		Fingerprint: s.Fingerprint(), HorizonHours: s.Horizon.Hours(), WarmupHours: s.Warmup.Hours(),
		Replications: s.Replications, Seed: s.Seed, CRN: s.CRN,
		Baseline: s.Variants[s.Baseline].Name, Metrics: s.Metrics, Events: s.Events,
	}
	for _, v := range s.Variants {
		vh := VariantHeader{Name: v.Name, Sweep: v.Sweep}
		for _, o := range v.Overrides {
			vh.Overrides = append(vh.Overrides, OverrideText{o.Path, o.ValueString()})
		}
		h.Variants = append(h.Variants, vh)
	}
	return h
}

// Batch is the raw outcome of the runs of one shard (or of all): what Run
// returns, what a shard file holds, and what Merge combines.
type Batch struct {
	Format   string      `json:"format"`
	Scenario Header      `json:"scenario"`
	Shard    Shard       `json:"shard"`
	Runs     []RunResult `json:"runs"` // by variant, then replication
}

// RunResult is the outcome of one replication of one variant.
type RunResult struct {
	Variant     int     `json:"variant"` // index in Scenario.Variants
	Replication int     `json:"replication"`
	Seed        uint64  `json:"seed,string"`
	Bottleneck  string  `json:"bottleneck"`
	Metrics     []Value `json:"metrics"`
}

// Value is one KPI of one run.
type Value struct {
	Name  string `json:"name"`
	Unit  string `json:"unit"`
	Value Num    `json:"value"`
}

// WriteJSON writes the batch as a shard file.
func (b *Batch) WriteJSON(w io.Writer) error {
	c := *b
	c.Format = ShardFormat
	return writeJSON(w, &c)
}

// ReadBatch reads a shard file written by Batch.WriteJSON.
func ReadBatch(r io.Reader) (*Batch, error) {
	var b Batch
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("read shard: %w", err)
	}
	if b.Format != ShardFormat {
		return nil, fmt.Errorf("read shard: format %q, want %q", b.Format, ShardFormat)
	}
	return &b, nil
}

// Merge combines the shards of one batch, in any order, into the batch an
// unsharded run gives. It fails unless the shards come from the same
// scenario and settings and cover every run exactly once.
func Merge(shards []*Batch) (*Batch, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("merge: no shards")
	}
	first := shards[0]
	n := max(first.Shard.Count, 1)
	seen := make([]bool, n)
	out := &Batch{Scenario: first.Scenario, Shard: Shard{0, 1}}
	for _, b := range shards {
		if !reflect.DeepEqual(b.Scenario, first.Scenario) {
			return nil, fmt.Errorf("merge: shard %s is of another batch (scenario %s, fingerprint %s; want %s, %s)",
				b.Shard, b.Scenario.Name, b.Scenario.Fingerprint, first.Scenario.Name, first.Scenario.Fingerprint)
		}
		if max(b.Shard.Count, 1) != n || b.Shard.Index < 0 || b.Shard.Index >= n {
			return nil, fmt.Errorf("merge: shard %s does not belong with shards of %d", b.Shard, n)
		}
		if seen[b.Shard.Index] {
			return nil, fmt.Errorf("merge: shard %s given twice", b.Shard)
		}
		seen[b.Shard.Index] = true
		out.Runs = append(out.Runs, b.Runs...)
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("merge: shard %d/%d missing", i, n)
		}
	}
	slices.SortFunc(out.Runs, func(a, b RunResult) int {
		return cmp.Or(cmp.Compare(a.Variant, b.Variant), cmp.Compare(a.Replication, b.Replication))
	})
	if err := out.check(); err != nil {
		return nil, err
	}
	return out, nil
}

// check verifies the batch holds every run exactly once, in order.
func (b *Batch) check() error {
	h := &b.Scenario
	if len(b.Runs) != len(h.Variants)*h.Replications {
		return fmt.Errorf("scenarios: %d runs, want %d variants × %d replications", len(b.Runs), len(h.Variants), h.Replications)
	}
	for i, r := range b.Runs {
		if r.Variant != i/h.Replications || r.Replication != i%h.Replications+1 {
			return fmt.Errorf("scenarios: run %d is variant %d replication %d, want %d, %d", i, r.Variant, r.Replication, i/h.Replications, i%h.Replications+1)
		}
	}
	return nil
}

// Results summarise a batch: per variant, every KPI's mean and 95%
// confidence interval over the replications, and its difference from the
// baseline.
type Results struct {
	Format   string          `json:"format"`
	Scenario Header          `json:"scenario"`
	Variants []VariantResult `json:"variants"`
	// Warnings note what may be a mistake: a metrics pattern that matches
	// nothing.
	Warnings []string `json:"warnings,omitempty"`
}

// VariantResult is the summary of one variant.
type VariantResult struct {
	VariantHeader
	Baseline     bool         `json:"baseline,omitempty"`
	Replications int          `json:"replications"`
	Seeds        []Seed       `json:"seeds"`      // by replication
	Bottleneck   []Count      `json:"bottleneck"` // most frequent first
	Metrics      []MetricStat `json:"metrics"`
}

// Count is how many replications had a work centre as their bottleneck.
type Count struct {
	WorkCenter string `json:"workcenter"`
	Runs       int    `json:"runs"`
}

// MetricStat summarises one KPI of a variant over its replications.
// Replications where the KPI is not a number (no orders completed: no
// on-time rate) are left out of N and the statistics.
type MetricStat struct {
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	N      int    `json:"n"`
	Mean   Num    `json:"mean"`
	CI95   Num    `json:"ci95"` // half-width of the 95% CI of the mean (Student's t)
	Std    Num    `json:"std"`
	Min    Num    `json:"min"`
	Max    Num    `json:"max"`
	Diff   *Diff  `json:"diff,omitempty"` // from the baseline; absent for the baseline itself
	Values []Num  `json:"values"`         // by replication
}

// Diff is the difference of a KPI from the baseline (variant − baseline).
// With common random numbers it is paired: the mean and CI of the
// replication-by-replication differences. Without, it is Welch's
// difference of two independent means.
type Diff struct {
	Mean   Num  `json:"mean"`
	CI95   Num  `json:"ci95"`
	N      int  `json:"n"`
	Paired bool `json:"paired"`
}

// Significant reports whether the 95% CI of the difference excludes 0.
func (d *Diff) Significant() bool {
	return d != nil && !math.IsNaN(float64(d.CI95)) && math.Abs(float64(d.Mean)) > float64(d.CI95)
}

// Summarize computes the results of a complete batch (unsharded, or
// merged). The results depend only on the batch.
func Summarize(b *Batch) (*Results, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	h := b.Scenario
	res := &Results{Format: ResultsFormat, Scenario: h}
	res.Scenario.Variants = nil
	R := h.Replications
	base := -1
	for i, v := range h.Variants {
		if v.Name == h.Baseline {
			base = i
		}
	}
	for i, vh := range h.Variants {
		vr := summarizeVariant(vh, b.Runs[i*R:(i+1)*R])
		vr.Baseline = i == base
		res.Variants = append(res.Variants, vr)
	}
	if base >= 0 {
		res.diffFromBaseline(base, h.CRN)
	}
	for _, p := range h.Metrics {
		if !res.hasMetric(p) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("metrics: %q matches no KPI", p))
		}
	}
	return res, nil
}

// summarizeVariant is the result of one variant's replications, runs: their
// seeds, how often each work centre was the bottleneck, and each metric's
// values (NaN where a run lacks it) and summary, in the order the runs
// first name them.
func summarizeVariant(vh VariantHeader, runs []RunResult) VariantResult {
	vr := VariantResult{VariantHeader: vh, Replications: len(runs)}
	counts := map[string]int{}
	idx := map[string]int{}
	for _, r := range runs {
		vr.Seeds = append(vr.Seeds, Seed(r.Seed))
		if r.Bottleneck != "" {
			counts[r.Bottleneck]++
		}
		for _, m := range r.Metrics {
			if _, ok := idx[m.Name]; !ok {
				idx[m.Name] = len(vr.Metrics)
				vr.Metrics = append(vr.Metrics, MetricStat{Name: m.Name, Unit: m.Unit})
			}
		}
	}
	for w, c := range counts {
		vr.Bottleneck = append(vr.Bottleneck, Count{w, c})
	}
	slices.SortFunc(vr.Bottleneck, func(a, b Count) int {
		return cmp.Or(-cmp.Compare(a.Runs, b.Runs), cmp.Compare(a.WorkCenter, b.WorkCenter))
	})
	for k := range vr.Metrics {
		vr.Metrics[k].Values = make([]Num, len(runs))
		for r := range vr.Metrics[k].Values {
			vr.Metrics[k].Values[r] = Num(math.NaN())
		}
	}
	for r, run := range runs {
		for _, m := range run.Metrics {
			vr.Metrics[idx[m.Name]].Values[r] = m.Value
		}
	}
	for k := range vr.Metrics {
		vr.Metrics[k].summarise()
	}
	return vr
}

// diffFromBaseline sets every other variant's metrics' difference from
// the baseline variant's (paired runs under common random numbers).
func (res *Results) diffFromBaseline(base int, crn bool) {
	bv := &res.Variants[base]
	byName := map[string]*MetricStat{}
	for k := range bv.Metrics {
		byName[bv.Metrics[k].Name] = &bv.Metrics[k]
	}
	for i := range res.Variants {
		if i == base {
			continue
		}
		for k := range res.Variants[i].Metrics {
			m := &res.Variants[i].Metrics[k]
			if bm := byName[m.Name]; bm != nil {
				m.Diff = diff(m.Values, bm.Values, crn)
			}
		}
	}
}

// hasMetric reports whether pattern p of the scenario's metrics matches a
// metric of any variant.
func (res *Results) hasMetric(p string) bool {
	for _, v := range res.Variants {
		for _, m := range v.Metrics {
			if wildcard(p, m.Name) {
				return true
			}
		}
	}
	return false
}

func (m *MetricStat) summarise() {
	var t sim.Tally
	for _, v := range m.Values {
		if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
			t.Add(float64(v))
		}
	}
	m.N = int(t.N())
	m.Mean, m.CI95, m.Std, m.Min, m.Max = Num(t.Mean()), Num(t.CI(0.95)), Num(t.Std()), Num(t.Min()), Num(t.Max())
}

// diff returns the difference of x from base.
func diff(x, base []Num, paired bool) *Diff {
	ok := func(v Num) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	if paired && len(x) == len(base) {
		var t sim.Tally
		for r := range x {
			if ok(x[r]) && ok(base[r]) {
				t.Add(float64(x[r] - base[r]))
			}
		}
		return &Diff{Mean: Num(t.Mean()), CI95: Num(t.CI(0.95)), N: int(t.N()), Paired: true}
	}
	var a, b sim.Tally
	for _, v := range x {
		if ok(v) {
			a.Add(float64(v))
		}
	}
	for _, v := range base {
		if ok(v) {
			b.Add(float64(v))
		}
	}
	d := &Diff{Mean: Num(a.Mean() - b.Mean()), CI95: Num(math.NaN()), N: int(min(a.N(), b.N()))}
	if a.N() >= 2 && b.N() >= 2 {
		va, vb := a.Var()/float64(a.N()), b.Var()/float64(b.N())
		se := math.Sqrt(va + vb)
		if se == 0 {
			d.CI95 = 0
		} else {
			// Welch–Satterthwaite degrees of freedom, rounded down.
			df := (va + vb) * (va + vb) / (va*va/float64(a.N()-1) + vb*vb/float64(b.N()-1))
			d.CI95 = Num(sim.StudentT(0.95, max(int64(df), 1)) * se)
		}
	}
	return d
}

// Metric returns the statistics of the KPI named name, or nil.
func (v *VariantResult) Metric(name string) *MetricStat {
	for k := range v.Metrics {
		if v.Metrics[k].Name == name {
			return &v.Metrics[k]
		}
	}
	return nil
}

// WriteJSON writes the results as indented JSON (results.json).
func (r *Results) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// ReadResults reads results.json.
func ReadResults(rd io.Reader) (*Results, error) {
	var r Results
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	if r.Format != ResultsFormat {
		return nil, fmt.Errorf("read results: format %q, want %q", r.Format, ResultsFormat)
	}
	return &r, nil
}

func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// CSVHeader is the first row of results.csv.
var CSVHeader = []string{"variant", "sweep", "metric", "unit", "n", "mean", "ci95", "std", "min", "max", "diff", "diff_ci95"}

// WriteCSV writes one row per variant and KPI (results.csv). Numbers that
// are not numbers are empty cells.
func (r *Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(v Num) string {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	for _, v := range r.Variants {
		for _, m := range v.Metrics {
			d, dci := "", ""
			if m.Diff != nil {
				d, dci = f(m.Diff.Mean), f(m.Diff.CI95)
			}
			row := []string{v.Name, v.Sweep, m.Name, m.Unit, strconv.Itoa(m.N), f(m.Mean), f(m.CI95), f(m.Std), f(m.Min), f(m.Max), d, dci}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
