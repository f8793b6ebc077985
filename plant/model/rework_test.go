package model

import (
	"math"
	"strings"
	"testing"

	"twin/plant"
	"twin/sim"
)

// capPlant: make, then test with a yield of 50%; a failed part is made
// again (back_to) at most twice, then the third failure decides.
const capPlant = `id: cap
calendars: [{id: always, always: true}]
calendar: always
site:
  id: s
  areas:
    - id: a
      lines:
        - id: l
          workcenters:
            - {id: m, units: [{id: M1}]}
            - {id: t, units: [{id: T1}]}
routings:
  - id: r
    operations:
      - {id: make, at: m, time: exp(20min)}
      - {id: test, at: t, time: exp(10min), inspect: {yield: 50%, rework: {back_to: make}, max_rework: 2, past_max: PAST}}
products:
  - {id: p, routing: r}
demand:
  generator: {interarrival: exp(2h), mix: {p: 1}, due_in: 1d}
`

// TestReworkLimit: with a yield of 50% and two loops back allowed, one
// unit in 2³ = 8 fails three times: it is scrapped, or passed on a
// concession; and a unit is inspected 1 + ½ + ¼ = 1.75 times.
func TestReworkLimit(t *testing.T) {
	for _, past := range []string{"scrap", "concession"} {
		p, err := plant.Parse("cap.yaml", []byte(strings.Replace(capPlant, "PAST", past, 1)))
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(p, Options{Seed: 1, Warmup: 10 * sim.Day, Horizon: 2000 * sim.Day})
		if err != nil {
			t.Fatal(err)
		}
		r := m.Run()
		units := float64(r.Produced + r.Scrapped)
		if past == "concession" {
			units = float64(r.Produced)
		}
		beyond := float64(r.Scrapped) / units
		if past == "concession" {
			beyond = float64(r.Concessions) / units
			if r.Scrapped != 0 {
				t.Errorf("concession: %d scrapped", r.Scrapped)
			}
		} else if r.Concessions != 0 {
			t.Errorf("scrap: %d concessions", r.Concessions)
		}
		perUnit := float64(r.Inspections) / units
		// binomial: sd of the share √(p(1−p)/n)
		sd := math.Sqrt(0.125 * 0.875 / units)
		t.Logf("%s: %.0f units, %.4f past the limit (want 0.125 ± %.4f), %.4f inspections per unit (want 1.75)", past, units, beyond, 3*sd, perUnit)
		if math.Abs(beyond-0.125) > 3*sd {
			t.Errorf("%s: %.4f of units past the limit, want 0.125 ± %.4f", past, beyond, 3*sd)
		}
		if math.Abs(perUnit-1.75) > 0.03 {
			t.Errorf("%s: %.4f inspections per unit, want 1.75", past, perUnit)
		}
	}
}
