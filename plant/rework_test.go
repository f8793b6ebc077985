package plant

import (
	"errors"
	"strings"
	"testing"
)

// loopBase is a routing of three operations whose last one is an
// inspection.
const loopBase = `id: t
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
            - {id: n, units: [{id: N1}]}
routings:
  - id: r
    operations:
      - {id: wind, at: m, time: 1h}
      - {id: cure, at: n, time: 1h}
      - {id: test, at: m, time: 1h, inspect: {yield: 90%, rework: {back_to: wind}, max_rework: 2, past_max: concession}}
products:
  - {id: p, routing: r}
`

// TestReworkLoop: rework loops back to an earlier operation (or this
// one), with a limit and what happens past it; mistakes are located.
func TestReworkLoop(t *testing.T) {
	p, err := Parse("p.yaml", []byte(loopBase))
	if err != nil {
		t.Fatal(err)
	}
	in := p.Routings[0].Ops[2].Inspect
	if in.BackTo != p.Routings[0].Ops[0] || in.Rework != nil || in.MaxRework != 2 || in.PastMax != Concession || !in.Reworks() {
		t.Fatalf("inspection %+v", in)
	}
	p, err = Parse("p.yaml", []byte(strings.Replace(loopBase, "back_to: wind}, max_rework: 2, past_max: concession", "back_to: test}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if in := p.Routings[0].Ops[2].Inspect; in.BackTo != p.Routings[0].Ops[2] || in.MaxRework != 0 || in.PastMax != Scrapped {
		t.Fatalf("back to itself: %+v", in)
	}
	for _, c := range []struct{ name, old, new, field, msg string }{
		{"unknown operation", "back_to: wind", "back_to: wound", "routings.r.operations.test.inspect.rework.back_to", `no operation "wound" at or before test in routing r (have wind, cure, test)`},
		{"a later operation", "- {id: wind, at: m, time: 1h}", "- {id: wind, at: m, time: 1h, inspect: {yield: 90%, rework: {back_to: cure}}}", "routings.r.operations.wind.inspect.rework.back_to", `no operation "cure" at or before wind`},
		{"both", "rework: {back_to: wind}", "rework: {back_to: wind, at: n, time: 1h}", "routings.r.operations.test.inspect.rework", "not both"},
		{"past_max alone", "max_rework: 2, ", "", "routings.r.operations.test.inspect.past_max", "give max_rework too"},
		{"max without rework", "rework: {back_to: wind}, ", "", "routings.r.operations.test.inspect.max_rework", "no rework to limit"},
		{"bad past_max", "past_max: concession", "past_max: sell", "routings.r.operations.test.inspect.past_max", `want scrap or concession, got "sell"`},
		{"bad max_rework", "max_rework: 2", "max_rework: twice", "routings.r.operations.test.inspect.max_rework", "want a whole number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(loopBase, c.old, c.new, 1)
			if src == loopBase {
				t.Fatalf("%q not in the plant", c.old)
			}
			_, err := Parse("p.yaml", []byte(src))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("want Errors, got %v", err)
			}
			for _, e := range es {
				if e.Field == c.field && strings.Contains(e.Msg, c.msg) && e.Line > 0 {
					return
				}
			}
			t.Errorf("got %v\nwant %s: …%s…", err, c.field, c.msg)
		})
	}
}
