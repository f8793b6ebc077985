package scenarios

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"twin/plant"
)

// FuzzScenario feeds the scenario parser arbitrary files and applies what
// it accepts to a real plant: nothing may panic, and every error must be
// located in the scenario or the plant file.
func FuzzScenario(f *testing.F) {
	f.Add([]byte(scenarioSrc))
	examples, _ := filepath.Glob("*.yaml")
	for _, e := range examples {
		if b, err := os.ReadFile(e); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"plant: p.yaml\nhorizon: 1d\n",
		"plant: p.yaml\nhorizon: 1d\noverrides: {workcenters.winding.buffer: 3}\n",
		"plant: p.yaml\nhorizon: 1d\nvariants: [{name: a, overrides: {units[W1].power: &x {busy: 1}, units.W2.power: *x}}]\n",
		"plant: p.yaml\nhorizon: 1d\nsweeps: [{values: {a.b: [1, 2], c: [[x], {y: z}]}}]\n",
		"a: &a [*a]\n",
		"plant: p.yaml\nhorizon: 1d\nwarmup: 0\noverrides: {workcenters.winding.units: [{id: W1, remove: true}, {id: W3}, {id: W2, power: {busy: 1kW}}]}\n",
		"plant: p.yaml\nhorizon: 1d\noverrides: {workcenters.winding.units: !replace [{id: W9}]}\nmetrics: [utilization/oven]\n",
		"plant: p\nhorizon: 1d\noverrides: {x: &a [*a, *a]}\n",
		"scenario: {name: x}\nplant: p\nhorizon: 1d\nbaseline: v\nvariants: [{name: v}]\nevents: {replication: 1}\n",
	} {
		f.Add([]byte(s))
	}
	plantFile, plantSrc := fuzzPlant()
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("f.yaml", src)
		if err != nil {
			checkLocated(t, err, "f.yaml", "")
			return
		}
		if _, err := json.Marshal(s.header()); err != nil {
			t.Fatalf("header: %v", err)
		}
		if len(s.Variants) > 32 {
			return // the cost is in the copies; 32 exercise the same code
		}
		doc, err := parseYAML(plantFile, plantSrc)
		if err != nil {
			t.Fatal(err)
		}
		s.PlantFile = plantFile
		if err := s.Resolve(doc); err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("%v", err)
			}
			checkLocated(t, err, "f.yaml", plantFile)
		}
	})
}

// fuzzPlant returns the plant the fuzz target changes: the smallest real
// test plant when there is one, else a document shaped like one.
func fuzzPlant() (string, []byte) {
	for _, p := range []string{"../testdata/plants/one-station.yaml", "../testdata/plants/tandem.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			return p, b
		}
	}
	return "plant.yaml", []byte(plantDoc)
}

// checkLocated fails unless every error of err is a *plant.FieldError in
// one of the files with a plausible position.
func checkLocated(t *testing.T, err error, files ...string) {
	t.Helper()
	var list plant.Errors
	if !errors.As(err, &list) {
		var fe *plant.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("unlocated error %T: %v", err, err)
		}
		list = plant.Errors{fe}
	}
	for _, e := range list {
		ok := false
		for _, f := range files {
			ok = ok || f != "" && e.File == f
		}
		if !ok || e.Line < 1 || e.Line >= lineBase || e.Msg == "" {
			t.Fatalf("badly located error %+v", e)
		}
	}
}
