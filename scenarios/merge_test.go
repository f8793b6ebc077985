package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"twin/plant/yamldec"
)

// TestSetMergesByID: a list of elements with ids set over a list merges
// into it by id; the elements not named keep every field.
func TestSetMergesByID(t *testing.T) {
	for _, tc := range []struct {
		name, path, value string
		want              map[string]string // path read back → value; "" the element is gone
		err               string
	}{
		{name: "add one", path: "workcenters.winding.units", value: "[{id: W3}]",
			want: map[string]string{"units.W1.power.busy": "6kW", "units.W2.power.idle": "1kW", "units.W3.id": "W3"}},
		{name: "change one keeps its other fields", path: "workcenters.winding.units", value: "[{id: W1, power: {busy: 9kW}}, {id: W2, at: [3, 4]}]",
			want: map[string]string{"units.W1.power.busy": "9kW", "units.W2.power.busy": "6kW", "units.W2.at.0": "3"}},
		{name: "remove one", path: "workcenters.winding.units", value: "[{id: W1, remove: true}]",
			want: map[string]string{"units.W1": "", "units.W2.power.busy": "6kW"}},
		{name: "add, change, remove", path: "workcenters.winding.units", value: "[{id: W1, remove: true}, {id: W2, power: {busy: 7kW}}, {id: W4, power: {busy: 5kW}}]",
			want: map[string]string{"units.W1": "", "units.W2.power.busy": "7kW", "units.W4.power.busy": "5kW", "units.OV1.power.busy": "40kW"}},
		{name: "replace", path: "workcenters.winding.units", value: "!replace [{id: W3}]",
			want: map[string]string{"units.W1": "", "units.W2": "", "units.W3.id": "W3"}},
		{name: "list without ids replaces", path: "calendars.two-shift.shifts", value: "[{name: day, start: '08:00', end: '16:00'}]",
			want: map[string]string{"calendars.two-shift.shifts.early": "", "calendars.two-shift.shifts.day.start": "08:00"}},
		{name: "through an alias, locally", path: "workcenters.assembly.units", value: "[{id: A1, power: {busy: 3kW}}]",
			want: map[string]string{"units.A1.power.busy": "3kW", "units.OV1.power.busy": "40kW"}},
		{name: "remove an unknown id", path: "workcenters.winding.units", value: "[{id: W9, remove: true}]",
			err: `has no element "W9" to remove (have W1, W2)`},
		{name: "some with ids", path: "workcenters.winding.units", value: "[{id: W3}, {at: [1, 1]}]",
			err: "1 of the 2 elements have an id"},
		{name: "remove not a boolean", path: "workcenters.winding.units", value: "[{id: W1, remove: yes please}]",
			err: "remove: want true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := parseDoc(t, plantDoc)
			segs, err := parsePath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			err = set(doc, segs, yamldec.Root(parseDoc(t, tc.value)), 1, 1)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tc.want {
				segs, _ := parsePath(path)
				c := copyNode(doc)
				err := set(c, segs, yamldec.Root(parseDoc(t, "x")), 1, 1)
				if want == "" {
					if err == nil {
						t.Errorf("%s is still there", path)
					}
					continue
				}
				if got := get(t, doc, path); got == nil || got.Value != want {
					t.Errorf("%s = %v, want %q", path, got, want)
				}
			}
		})
	}
}

// millPlant is a line whose two mills draw power and fail: an override
// that adds a third mill must keep the first two as they are.
const millPlant = `version: 1
id: mills
currency: CNY
timezone: UTC
calendar: always
calendars: [{id: always, always: true}]
site:
  id: s
  areas:
    - id: a
      lines:
        - id: l
          workcenters:
            - id: mill
              at: [5, 5]
              units:
                - id: M1
                  at: [4, 5]
                  power: {idle: 2kW, busy: 11kW, down: 0.5kW}
                  failures: [{name: spindle, tbf: exp(20h), ttr: exp(1h)}]
                - id: M2
                  at: [6, 5]
                  power: {idle: 2kW, busy: 11kW, down: 0.5kW}
                  failures: [{name: spindle, tbf: exp(20h), ttr: exp(1h)}]
routings:
  - id: r
    operations: [{id: mill, at: mill, time: exp(50min)}]
products:
  - {id: shaft, routing: r}
energy:
  tariff: {periods: [{name: flat, price: 0.7 CNY/kWh}]}
demand:
  generator: {interarrival: exp(30min), mix: {shaft: 1}, due_in: 1d}
layout: {width: 10, height: 10}
`

const millScenario = `plant: mills.yaml
horizon: 14d
warmup: 0
replications: 3
variants:
  - name: third-mill
    overrides:
      workcenters.mill.units: [{id: M3, at: [8, 5], power: {idle: 2kW, busy: 11kW, down: 0.5kW}}]
metrics: [throughput, energy_cost, "utilisation/*"]
`

// TestListOverrideKeepsUnits: adding a third mill by a list override
// keeps the others' power and failures, so energy cost grows with the
// work instead of collapsing (it fell from 537 to 96 CNY when the list
// replaced the units); and warmup: 0 is accepted.
func TestListOverrideKeepsUnits(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mills.yaml"), []byte(millPlant), 0o644); err != nil {
		t.Fatal(err)
	}
	sf := filepath.Join(dir, "third-mill.yaml")
	if err := os.WriteFile(sf, []byte(millScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(sf)
	if err != nil {
		t.Fatal(err)
	}
	if s.Warmup != 0 {
		t.Fatalf("warmup %v", s.Warmup)
	}
	v := s.Variants[1].Plant
	if len(v.Units) != 3 {
		t.Fatalf("%d mills, want 3", len(v.Units))
	}
	for _, u := range v.Units[:2] {
		if u.Power.Busy != 11 || len(u.Failures) != 1 {
			t.Errorf("%s lost its fields: power %+v, %d failures", u.ID(), u.Power, len(u.Failures))
		}
	}
	b, err := Run(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Summarize(b)
	if err != nil {
		t.Fatal(err)
	}
	base, more := r.Variants[0], r.Variants[1]
	bc, mc := base.Metric("energy_cost").Mean, more.Metric("energy_cost").Mean
	bt, mt := base.Metric("throughput").Mean, more.Metric("throughput").Mean
	t.Logf("two mills: %.1f/day, %.0f CNY; three: %.1f/day, %.0f CNY", bt, bc, mt, mc)
	// The same work on three machines: the busy energy is the same, the
	// third machine's idle power adds to it.
	if mc < bc {
		t.Errorf("energy cost fell from %.0f to %.0f CNY with a third mill", bc, mc)
	}
}

// TestUnknownMetric: a metric name that no variant reports is refused at
// its line, with the names there are.
func TestUnknownMetric(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mills.yaml"), []byte(millPlant), 0o644); err != nil {
		t.Fatal(err)
	}
	sf := filepath.Join(dir, "typo.yaml")
	src := strings.Replace(millScenario, `"utilisation/*"`, `utilization/mill`, 1)
	if err := os.WriteFile(sf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(sf)
	if err == nil {
		t.Fatal("a misspelt metric was accepted")
	}
	for _, want := range []string{"typo.yaml:9:", "metrics[2]", `no metric "utilization/mill"`, "energy_cost", "utilisation/{mill, s/a/l/mill/M1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
