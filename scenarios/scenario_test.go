package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"twin/plant"
	"twin/plant/yamldec"
	"twin/sim"
)

// plantDoc is a plant document shaped like the plant format: lists of
// things with ids, nested.
const plantDoc = `site:
  id: qijiang
  areas:
    - id: stator
      workcenters:
        - id: winding
          buffer: 10
          units:
            - id: W1
              power: {busy: 6kW, idle: 1kW}
            - id: W2
              power: {busy: 6kW, idle: 1kW}
        - id: oven
          buffer: 4
          units:
            - id: OV1
              power: &ovenpower {busy: 40kW}
    - id: assembly
      workcenters:
        - id: assembly
          buffer: 5
          calendar: two-shift
          units:
            - id: A1
              power: *ovenpower
calendars:
  - id: two-shift
    shifts:
      - {name: early, start: "06:00", end: "14:00"}
      - {name: late, start: "14:00", end: "22:00"}
energy:
  tariff:
    periods:
      - {name: peak, price: 1.2}
      - {name: valley, price: 0.3}
demand:
  generator:
    interarrival: exp(4h)
`

func parseDoc(t *testing.T, src string) *yaml.Node {
	t.Helper()
	doc, err := parseYAML("plant.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// get returns the scalar at path in doc, following the same rules as set.
func get(t *testing.T, doc *yaml.Node, path string) *yaml.Node {
	t.Helper()
	// Set a marker at path on a copy and find it: exercises the lookup
	// rules without a second implementation.
	segs, err := parsePath(path)
	if err != nil {
		t.Fatal(err)
	}
	c := copyNode(doc)
	marker := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "\x00marker"}
	if err := set(c, segs, marker, 0, 0); err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	// Walk both trees in step to find the original node at the marker's place.
	var found *yaml.Node
	var walk func(a, b *yaml.Node)
	walk = func(a, b *yaml.Node) {
		if found != nil || a == nil || b == nil {
			return
		}
		for i := range b.Content {
			if b.Content[i] == marker {
				if i < len(a.Content) {
					found = a.Content[i]
				} else {
					found = &yaml.Node{}
				}
				return
			}
			if i < len(a.Content) {
				walk(yamldec.Deref(a.Content[i]), yamldec.Deref(b.Content[i]))
			}
		}
	}
	walk(doc, c)
	return found
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: "workcenters.winding.buffer", want: []string{"workcenters", "winding", "buffer"}},
		{in: "units[W2.b].power.busy", want: []string{"units", "W2.b", "power", "busy"}},
		{in: "shifts[0][1]", want: []string{"shifts", "0", "1"}},
		{in: "a", want: []string{"a"}},
		{in: "", err: true},
		{in: "a..b", err: true},
		{in: "a.", err: true},
		{in: ".a", err: true},
		{in: "a[b", err: true},
		{in: "a[]", err: true},
		{in: "a]b", err: true},
		{in: "a[b]c", err: true},
	} {
		got, err := parsePath(tc.in)
		if (err != nil) != tc.err || !tc.err && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePath(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		name, path, value string
		check             string // path to read back; defaults to path
		want              string // value read back
		err               string // substring of the error
	}{
		{name: "by kind and id", path: "workcenters.winding.buffer", value: "30", want: "30"},
		{name: "nested id", path: "units.W2.power.busy", value: "8kW", want: "8kW"},
		{name: "full path", path: "site.areas.stator.workcenters.oven.buffer", value: "6", want: "6"},
		{name: "brackets", path: "workcenters[oven].units[OV1].power.busy", value: "35kW", want: "35kW"},
		{name: "list by name", path: "energy.tariff.periods.valley.price", value: "0.25", want: "0.25"},
		{name: "list by index", path: "calendars.two-shift.shifts.1.end", value: `"23:00"`, want: "23:00"},
		{name: "top-level key", path: "demand.generator.interarrival", value: "exp(3h)", want: "exp(3h)"},
		{name: "new key", path: "workcenters.oven.calendar", value: "night", want: "night"},
		{name: "whole list", path: "calendars.two-shift.shifts", value: "[{name: day, start: '08:00', end: '16:00'}]",
			check: "calendars.two-shift.shifts.day.start", want: "08:00"},
		{name: "whole element", path: "units.W1", value: "{id: W1, power: {busy: 1kW}}", check: "units.W1.power.busy", want: "1kW"},
		{name: "through an alias", path: "units.A1.power.busy", value: "5kW", want: "5kW"},
		{name: "no such id", path: "workcenters.windng.buffer", value: "1", err: `no workcenters "windng" in the plant`},
		{name: "no such kind", path: "machines.W1.buffer", value: "1", err: `no machines "W1"`},
		{name: "no such element", path: "calendars.two-shift.shifts.night.end", value: "1", err: `has no element "night" (have early, late)`},
		{name: "missing intermediate key", path: "units.W1.failures.wear.tbf", value: "1", err: `has no "failures"`},
		{name: "into a value", path: "workcenters.winding.buffer.size", value: "1", err: "is a value"},
		{name: "kind lookup of a parent", path: "areas.assembly.workcenters.assembly.buffer", value: "7", want: "7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := parseDoc(t, plantDoc)
			orig := copyNode(doc)
			segs, err := parsePath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			v := parseDoc(t, tc.value)
			err = set(doc, segs, yamldec.Root(v), 1, 1)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check := tc.check
			if check == "" {
				check = tc.path
			}
			if tc.want != "" {
				if got := get(t, doc, check); got == nil || got.Value != tc.want {
					t.Fatalf("%s = %v, want %q", check, got, tc.want)
				}
			}
			// The original document is unchanged by an override of a copy.
			if !reflect.DeepEqual(orig, copyNode(orig)) {
				t.Fatal("copy differs")
			}
		})
	}
}

func TestSetAmbiguous(t *testing.T) {
	doc := parseDoc(t, "a: {units: [{id: X}]}\nb: {units: [{id: X}]}\n")
	segs, _ := parsePath("units.X.power")
	err := set(doc, segs, &yaml.Node{Kind: yaml.ScalarNode, Value: "1"}, 1, 1)
	if err == nil || !strings.Contains(err.Error(), `2 lists of units hold "X"; write the full path`) {
		t.Fatalf("error %v", err)
	}
	segs, _ = parsePath("a.units.X.power")
	if err := set(doc, segs, &yaml.Node{Kind: yaml.ScalarNode, Value: "1"}, 1, 1); err != nil {
		t.Fatal(err)
	}
}

func TestSetAliasIsLocal(t *testing.T) {
	doc := parseDoc(t, plantDoc)
	segs, _ := parsePath("units.A1.power.busy")
	if err := set(doc, segs, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "5kW"}, 1, 1); err != nil {
		t.Fatal(err)
	}
	if got := get(t, doc, "units.OV1.power.busy"); got.Value != "40kW" {
		t.Fatalf("the anchor changed with its alias: OV1 busy = %s", got.Value)
	}
}

func TestCopyLeavesOriginal(t *testing.T) {
	doc := parseDoc(t, plantDoc)
	before, _ := yaml.Marshal(doc)
	c := copyNode(doc)
	segs, _ := parsePath("workcenters.winding.buffer")
	if err := set(c, segs, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "99"}, 1, 1); err != nil {
		t.Fatal(err)
	}
	after, _ := yaml.Marshal(doc)
	if string(before) != string(after) {
		t.Fatal("set on a copy changed the original")
	}
}

const scenarioSrc = `scenario:
  name: test
  description: a test
plant: ../testdata/plants/motor.yaml
horizon: 28d
warmup: 7d
replications: 5
seed: 42
overrides:
  demand.generator.interarrival: exp(3h)
variants:
  - name: third-winder
    overrides:
      workcenters.winding.units: [{id: W1}, {id: W2}, {id: W3}]
  - name: bigger-buffer
    overrides:
      workcenters.winding.buffer: 30
sweeps:
  - name: buffers
    values:
      workcenters.winding.buffer: [10, 20]
      workcenters.oven.buffer: [2, 4, 8]
metrics: [throughput, "utilisation/*"]
events: {variant: bigger-buffer, replication: 2, file: ev.jsonl}
`

func TestParse(t *testing.T) {
	s, err := Parse("scenarios/test.yaml", []byte(scenarioSrc))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "test" || s.Description != "a test" || s.PlantFile != "testdata/plants/motor.yaml" ||
		s.Horizon != 28*sim.Day || s.Warmup != 7*sim.Day || s.Replications != 5 || s.Seed != 42 || !s.CRN {
		t.Fatalf("parsed %+v", s)
	}
	var names []string
	for _, v := range s.Variants {
		names = append(names, v.Name)
	}
	want := []string{"baseline", "third-winder", "bigger-buffer",
		"winding.buffer=10,oven.buffer=2", "winding.buffer=10,oven.buffer=4", "winding.buffer=10,oven.buffer=8",
		"winding.buffer=20,oven.buffer=2", "winding.buffer=20,oven.buffer=4", "winding.buffer=20,oven.buffer=8"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("variants %q\nwant %q", names, want)
	}
	if s.Baseline != 0 || len(s.Overrides) != 1 || s.Overrides[0].Line != 10 || s.Overrides[0].Column != 3 {
		t.Fatalf("baseline %d, overrides %+v", s.Baseline, s.Overrides)
	}
	sw := s.Variants[7]
	if sw.Sweep != "buffers" || len(sw.Overrides) != 2 || sw.Overrides[0].ValueString() != "20" || sw.Overrides[1].ValueString() != "4" {
		t.Fatalf("sweep variant %+v", sw)
	}
	if got := s.Variants[1].Overrides[0].ValueString(); got != "[{id: W1}, {id: W2}, {id: W3}]" {
		t.Fatalf("value string %q", got)
	}
	if s.Events == nil || *s.Events != (EventLogSpec{Variant: "bigger-buffer", Replication: 2, File: "ev.jsonl"}) {
		t.Fatalf("events %+v", s.Events)
	}
	if task, ok := s.EventRun(Shard{}); !ok || task != 2*5+1 {
		t.Fatalf("event run %d %v", task, ok)
	}
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse("dir/my-study.yaml", []byte("plant: /p.yaml\nhorizon: 1d\nbaseline: fast\nvariants: [{name: fast, overrides: {a: 1}}, {name: slow}]\ncrn: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "my-study" || s.PlantFile != "/p.yaml" || s.Replications != 10 || s.Seed != 1 || s.CRN ||
		len(s.Variants) != 2 || s.Baseline != 0 || s.Variants[1].Name != "slow" {
		t.Fatalf("parsed %+v", s)
	}
}

func TestSweepNames(t *testing.T) {
	src := `plant: p.yaml
horizon: 1d
sweeps:
  - name: rules
    values: {workcenters.winding.dispatch: [fifo, edd]}
  - values:
      workcenters.winding.units: [[{id: W1}], [{id: W1}, {id: W2}]]
      demand.generator.interarrival: [exp(3h)]
`
	s, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range s.Variants[1:] {
		names = append(names, v.Name)
	}
	want := []string{"rules:dispatch=fifo", "rules:dispatch=edd", "sweep2:units=#1,interarrival=exp(3h)", "sweep2:units=#2,interarrival=exp(3h)"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // "line:col: field: message substring"
	}{
		{"syntax", "plant: [\n", []string{"1:1: : did not find expected node content"}},
		{"not a mapping", "- a\n", []string{"1:1: : want a scenario"}},
		{"missing", "seed: 1\n", []string{"1:1: plant: want the plant file", "1:1: horizon: want the length"}},
		{"unknown key", "plant: p\nhorizon: 1d\nhorizn: 2d\n", []string{"3:1: horizn: unknown key"}},
		{"repeated key", "plant: p\nhorizon: 1d\nhorizon: 2d\n", []string{"3:1: horizon: repeated key"}},
		{"bad duration", "plant: p\nhorizon: 4 weeks\n", []string{`2:10: horizon: want a duration like "28d" or "36h", got "4 weeks"`}},
		{"bad replications", "plant: p\nhorizon: 1d\nreplications: 0\n", []string{"3:15: replications: want an integer from 1 to"}},
		{"bad seed", "plant: p\nhorizon: 1d\nseed: -1\n", []string{"3:7: seed: want a non-negative integer"}},
		{"bad crn", "plant: p\nhorizon: 1d\ncrn: maybe\n", []string{"3:6: crn: want true or false"}},
		{"bad path", "plant: p\nhorizon: 1d\noverrides:\n  a..b: 1\n", []string{"4:3: overrides.a..b: path \"a..b\": empty segment"}},
		{"variant without name", "plant: p\nhorizon: 1d\nvariants:\n  - overrides: {a: 1}\n", []string{"4:5: variants[0]: want a name"}},
		{"duplicate variant", "plant: p\nhorizon: 1d\nvariants:\n  - name: a\n  - name: a\n", []string{"5:5: variants: two variants are named \"a\""}},
		{"named baseline", "plant: p\nhorizon: 1d\nvariants:\n  - name: baseline\n", []string{"4:5: variants: a variant is named \"baseline\""}},
		{"unknown baseline", "plant: p\nhorizon: 1d\nbaseline: x\n", []string{"3:11: baseline: no variant named \"x\""}},
		{"sweep not a list", "plant: p\nhorizon: 1d\nsweeps:\n  - values: {a: 1}\n", []string{"4:17: sweeps[0].values.a: want a list of values"}},
		{"sweep too big", "plant: p\nhorizon: 1d\nsweeps:\n  - values: {a: [1,2,3,4,5,6,7,8,9,10], b: [1,2,3,4,5,6,7,8,9,10], c: [1,2,3,4,5,6,7,8,9,10], d: [1,2,3,4,5,6,7,8,9,10], e: [1,2]}\n",
			[]string{"4:5: sweeps[0]: the sweep makes more than 10000 variants"}},
		{"events of unknown variant", "plant: p\nhorizon: 1d\nevents: {variant: x}\n", []string{`3:9: events.variant: no variant named "x"`}},
		{"events replication", "plant: p\nhorizon: 1d\nreplications: 2\nevents: {replication: 3}\n", []string{"4:9: events.replication: replication 3 of 2"}},
		{"events outside", "plant: p\nhorizon: 1d\nevents: {file: ../x}\n", []string{"3:16: events.file: want a file name inside"}},
		{"bad name", "scenario: {name: a/b}\nplant: p\nhorizon: 1d\n", []string{"1:18: scenario.name: want a name of letters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.src))
			var list plant.Errors
			if !errors.As(err, &list) {
				t.Fatalf("error %v (%T), want plant.Errors", err, err)
			}
			var got []string
			for _, e := range list {
				if e.File != "s.yaml" {
					t.Errorf("error in file %q", e.File)
				}
				got = append(got, fmt.Sprintf("%d:%d: %s: %s", e.Line, e.Column, e.Field, e.Msg))
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("want an error %q; got\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]sim.Time{
		"28d": 28 * sim.Day, "1w": sim.Week, "1d12h": 36 * sim.Hour, "90m": 90 * sim.Minute,
		"1.5h": 90 * sim.Minute, "10s": 10 * sim.Second, "250ms": 250 * sim.Millisecond,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "1", "1y", "1 d", "-1d", "1e9999d", "9999999999w"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestIsScenario(t *testing.T) {
	if !IsScenario([]byte(scenarioSrc)) || !IsScenario([]byte("plant: x.yaml\n")) {
		t.Fatal("scenario not recognised")
	}
	if IsScenario([]byte(plantDoc)) || IsScenario([]byte("plant: {id: x}\n")) || IsScenario([]byte("[")) {
		t.Fatal("plant taken for a scenario")
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"throughput", "throughput", true},
		{"throughput", "throughputs", false},
		{"utilisation/*", "utilisation/qijiang/motor/winding/W1", true},
		{"utilisation/*", "oee/winding", false},
		{"*/winding", "queue/winding", true},
		{"energy*", "energy", true},
		{"e*y*t", "energy_cost", true},
		{"e*y*t", "energy_costs", false},
		{"*", "", true},
		{"", "x", false},
	} {
		if got := wildcard(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}
