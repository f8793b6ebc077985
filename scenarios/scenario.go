package scenarios

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"twin/plant"
	"twin/plant/model"
	"twin/plant/yamldec"
	"twin/sim"
)

// Scenario is a scenario file: a plant, the variants of it to compare,
// and how to run them. Parse reads one; Load also builds every variant's
// plant.
type Scenario struct {
	File        string // the file it was read from
	Name        string // names the output directory; the file's base name by default
	Description string
	PlantFile   string // the plant, relative to the working directory

	Horizon      sim.Time // statistics run this long after the warm-up
	Warmup       sim.Time
	Replications int    // runs per variant; 10 by default
	Seed         uint64 // base seed; 1 by default
	// CRN gives every variant the same seeds replication by replication
	// (common random numbers), so differences between variants are not
	// drowned in noise; true by default. False gives each variant
	// independent seeds.
	CRN bool

	Overrides []Override    // applied to every variant
	Variants  []*Variant    // the baseline, the listed variants, then the sweeps'
	Baseline  int           // index in Variants of the reference of differences
	Metrics   []string      // the KPIs to report, as patterns ("utilisation/*"); nil: all
	Events    *EventLogSpec // the run whose events to write, if any

	src, plantSrc []byte   // for the fingerprint
	plantAt       int      // the line of the plant key
	metricAt      [][2]int // line and column of each of Metrics
}

// Variant is one version of the plant.
type Variant struct {
	Name      string
	Sweep     string     // the sweep that generated it, if any
	Overrides []Override // on top of the scenario's
	Plant     *plant.Plant
}

// Override sets the value at Path in the plant document. Line and Column
// locate it in the scenario file.
type Override struct {
	Path         string
	Value        *yaml.Node // a node of the scenario document
	Line, Column int
	segs         []string
	field        string // where it is in the scenario, for errors
}

// ValueString returns the value as it would be written in YAML, on one
// line when short.
func (o Override) ValueString() string { return nodeString(o.Value) }

// EventLogSpec asks for the events of one run of one variant.
type EventLogSpec struct {
	Variant     string
	Replication int    // from 1
	File        string // relative to the output directory
}

// DefaultBaseline is the name of the implicit baseline variant.
const DefaultBaseline = "baseline"

// Limits that keep a mistaken file from asking for the impossible.
const (
	MaxVariants     = 10000
	MaxReplications = 1000000
)

// lineBase moves the lines of override values spliced into a plant
// document out of the plant file's range, so that an error the plant
// decoder reports on one of them can be traced back to the scenario file.
const lineBase = 1 << 24

// Load reads the scenario file at path and the plant it names, and builds
// every variant's plant. Errors carry the file, line and column they come
// from (*plant.FieldError, in a plant.Errors list).
func Load(path string) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(path, src)
	if err != nil {
		return nil, err
	}
	psrc, err := os.ReadFile(s.PlantFile)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("no plant file %s (a relative path is taken from the scenario file's folder): give the plant's path from there", s.PlantFile)
		}
		return nil, plant.Errors{{File: s.File, Line: s.plantLine(), Column: 1, Field: "plant", Msg: msg}}
	}
	doc, err := parseYAML(s.PlantFile, psrc)
	if err != nil {
		return nil, err
	}
	s.plantSrc = psrc
	if err := s.Resolve(doc); err != nil {
		return nil, err
	}
	if err := s.checkMetrics(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkMetrics refuses a metric pattern that names nothing any variant
// reports (a misspelt "utilization/oven"), listing the names there are.
func (s *Scenario) checkMetrics() error {
	if len(s.Metrics) == 0 {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, v := range s.Variants {
		if v.Plant == nil {
			continue
		}
		for _, n := range model.MetricNames(v.Plant) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	var errs plant.Errors
	for i, p := range s.Metrics {
		ok := false
		for _, n := range names {
			if wildcard(p, n) {
				ok = true
				break
			}
		}
		if !ok {
			line, col := 1, 1
			if i < len(s.metricAt) {
				line, col = s.metricAt[i][0], s.metricAt[i][1]
			}
			errs = append(errs, &plant.FieldError{File: s.File, Line: line, Column: col, Field: fmt.Sprintf("metrics[%d]", i),
				Msg: fmt.Sprintf("no metric %q; want one of %s (* is a wildcard)", p, metricList(names))})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// metricList names the plant-wide metrics one by one and the per-band,
// per-work-centre and per-machine ones by their prefix and what follows
// it: "utilisation/<work centre: stamping, winding, …>".
func metricList(names []string) string {
	var plain []string
	type group struct {
		prefix string
		rest   []string
	}
	var groups []*group
	byPrefix := map[string]*group{}
	for _, n := range names {
		i := strings.IndexByte(n, '/')
		if i < 0 {
			plain = append(plain, n)
			continue
		}
		g := byPrefix[n[:i+1]]
		if g == nil {
			g = &group{prefix: n[:i+1]}
			byPrefix[g.prefix] = g
			groups = append(groups, g)
		}
		g.rest = append(g.rest, n[i+1:])
	}
	out := strings.Join(plain, ", ")
	for _, g := range groups {
		rest := g.rest
		if len(rest) > 6 {
			rest = append(rest[:6:6], "…")
		}
		out += ", " + g.prefix + "{" + strings.Join(rest, ", ") + "}"
	}
	return out
}

func (s *Scenario) plantLine() int {
	if s.plantAt > 0 {
		return s.plantAt
	}
	return 1
}

// Fingerprint identifies the scenario's content, the plant's and the
// settings that shape its runs: shards of one batch must agree on it.
func (s *Scenario) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d\x00%d\x00", len(s.src), s.src, len(s.plantSrc), s.plantSrc)
	fmt.Fprintf(h, "%d %d %d %d %t", s.Horizon, s.Warmup, s.Replications, s.Seed, s.CRN)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Resolve builds every variant's plant from the plant document doc (as
// parsed from s.PlantFile, which it leaves unchanged): the overrides are
// applied to a copy and the copy decoded. An override that addresses
// nothing, or a value the plant rejects, is reported at its line in the
// scenario file.
func (s *Scenario) Resolve(doc *yaml.Node) error {
	var errs errorSet
	for _, v := range s.Variants {
		v.Plant = nil
		d := copyNode(doc)
		ok := true
		for _, o := range append(append([]Override(nil), s.Overrides...), v.Overrides...) {
			val, err := expand(o.Value, lineBase)
			if err == nil {
				err = set(d, o.segs, val, o.Line+lineBase, o.Column)
			}
			if err != nil {
				errs.add(v.Name, &plant.FieldError{File: s.File, Line: o.Line, Column: o.Column, Field: o.field, Msg: err.Error()})
				ok = false
			}
		}
		if !ok {
			continue
		}
		p, err := decodePlant(s.PlantFile, d)
		if err != nil {
			errs.addPlant(v.Name, s.File, err)
			continue
		}
		v.Plant = p
	}
	return errs.err(len(s.Variants))
}

// decodePlant calls plant.Decode, turning a panic into an error: input
// never panics, whatever a scenario does to a plant.
func decodePlant(file string, doc *yaml.Node) (p *plant.Plant, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("plant decoder panicked: %v", r)
		}
	}()
	return plant.Decode(file, doc)
}

// errorSet collects the errors of every variant, reporting an error that
// several variants share once.
type errorSet struct {
	list     []*plant.FieldError
	variants [][]string
	other    []error
}

func (es *errorSet) add(variant string, e *plant.FieldError) {
	for i, f := range es.list {
		if *f == *e {
			es.variants[i] = append(es.variants[i], variant)
			return
		}
	}
	es.list = append(es.list, e)
	es.variants = append(es.variants, []string{variant})
}

// addPlant adds the errors plant.Decode reported for a variant, moving
// those on override values back to the scenario file.
func (es *errorSet) addPlant(variant, scenarioFile string, err error) {
	var list plant.Errors
	var fe *plant.FieldError
	switch {
	case errors.As(err, &list):
	case errors.As(err, &fe):
		list = plant.Errors{fe}
	default:
		es.other = append(es.other, fmt.Errorf("variant %s: %w", variant, err))
		return
	}
	for _, e := range list {
		c := *e
		if c.Line >= lineBase {
			c.File, c.Line = scenarioFile, c.Line-lineBase
		}
		es.add(variant, &c)
	}
}

func (es *errorSet) err(nVariants int) error {
	if len(es.list) == 0 && len(es.other) == 0 {
		return nil
	}
	var out plant.Errors
	for i, e := range es.list {
		c := *e
		if nVariants > 1 {
			vs := es.variants[i]
			if len(vs) == nVariants {
				c.Msg += " (every variant)"
			} else {
				if len(vs) > 4 {
					vs = append(vs[:4:4], fmt.Sprintf("%d more", len(es.variants[i])-4))
				}
				c.Msg += " (variant " + strings.Join(vs, ", ") + ")"
			}
		}
		out = append(out, &c)
	}
	if len(es.other) > 0 {
		return errors.Join(append([]error{out}, es.other...)...)
	}
	return out
}

// parseYAML parses one YAML document into a node tree. Errors name the
// file and line.
func parseYAML(file string, src []byte) (*yaml.Node, error) {
	doc, err := yamldec.Parse(file, src, "")
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, plant.Errors{{File: file, Line: 1, Column: 1, Msg: "empty document"}}
	}
	return doc, nil
}

// Parse reads a scenario from src; file names it in errors and is the base
// of the plant's relative path. It checks the file alone: the plant is
// neither read nor changed (see Load and Resolve).
func Parse(file string, src []byte) (*Scenario, error) {
	doc, err := parseYAML(file, src)
	if err != nil {
		return nil, err
	}
	d := &decoder{Decoder: yamldec.Decoder{File: file}}
	s := d.scenario(yamldec.Root(doc))
	if len(d.Errs) > 0 {
		return nil, d.Errs
	}
	s.src = bytes.Clone(src)
	return s, nil
}

// IsScenario reports whether src looks like a scenario file rather than a
// plant: a YAML mapping with a top-level "scenario" key, or a "plant" key
// holding a file name.
func IsScenario(src []byte) bool {
	doc, err := parseYAML("", src)
	if err != nil {
		return false
	}
	top := yamldec.Root(doc)
	if v, _ := yamldec.MapGet(top, "scenario"); v != nil {
		return true
	}
	v, _ := yamldec.MapGet(top, "plant")
	return v != nil && yamldec.Deref(v).Kind == yaml.ScalarNode
}
