package plant

import (
	"errors"
	"strings"
	"testing"
)

// TestSaturateAndBlocking: a line's saturate names a product whose
// routing starts on the line; blocking is after or before; mistakes are
// located.
func TestSaturateAndBlocking(t *testing.T) {
	src := strings.NewReplacer("        - id: l\n", "        - id: l\n          saturate: p\n",
		"{id: n, units: [{id: N1}]}", "{id: n, buffer: 2, blocking: before, units: [{id: N1}]}").Replace(loopBase)
	p, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var line *Node
	for _, n := range p.Nodes {
		if n.Level == LineLevel {
			line = n
		}
	}
	if line.Saturate == nil || line.Saturate.ID != "p" || p.WorkCenters[1].Blocking != BeforeService || p.WorkCenters[0].Blocking != AfterService {
		t.Fatalf("saturate %v, blocking %v %v", line.Saturate, p.WorkCenters[0].Blocking, p.WorkCenters[1].Blocking)
	}
	for _, c := range []struct{ name, old, new, field, msg string }{
		{"unknown product", "saturate: p", "saturate: q", "lines.l.saturate", `no product "q"`},
		{"bad blocking", "blocking: before", "blocking: early", "workcenters.n.blocking", `want after (`},
		{"not on the line", "saturate: p\n", "saturate: p\n        - id: l2\n          workcenters: [{id: o, units: [{id: O1}]}]\n", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := strings.Replace(src, c.old, c.new, 1)
			if c.field == "" { // move saturate to the other line
				s = strings.Replace(strings.Replace(s, "          saturate: p\n", "", 1), "- id: l2\n", "- id: l2\n          saturate: p\n", 1)
				c.field, c.msg = "lines.l2.saturate", "does not start on line l2"
			}
			_, err := Parse("p.yaml", []byte(s))
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
