package yamldec

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	doc, err := Parse("f.yaml", []byte(src), "YAML syntax: ")
	if err != nil {
		t.Fatal(err)
	}
	return Root(doc)
}

func TestFields(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		m         Mapping
		want      []string // errors, in order
		keys      string   // keys fn saw
	}{
		{"known", "{idle: 1, busy: 2}", Mapping{Keys: []string{"idle", "busy"}}, nil, "idle busy"},
		{"unknown, suggested", "{idle: 1, bussy: 2}", Mapping{Keys: []string{"idle", "busy"}},
			[]string{`f.yaml:1:11: p.bussy: unknown key "bussy" (did you mean "busy"?); known: idle, busy`}, "idle"},
		{"twice", "{idle: 1, idle: 2}", Mapping{Keys: []string{"idle"}},
			[]string{`f.yaml:1:11: p.idle: key "idle" appears twice`}, "idle"},
		{"merge", "{<<: {idle: 1, busy: 3}, busy: 2}", Mapping{Keys: []string{"idle", "busy"}, Merge: true}, nil, "busy idle"},
		{"merge refused", "{<<: {idle: 1}}", Mapping{}, []string{"f.yaml:1:2: p: merge keys (<<) are not supported here"}, ""},
		{"callback unknown", "{a: 1, b: 2}", Mapping{}, []string{"f.yaml:1:8: p.b: unknown key"}, "a b"},
		{"callback repeated", "{a: 1, a: 2}", Mapping{}, []string{"f.yaml:1:8: p.a: repeated key"}, "a"},
		{"not a mapping", "[1]", Mapping{Keys: []string{"a"}}, []string{"f.yaml:1:1: p: want a mapping (a), got a list"}, ""},
		{"null", "~", Mapping{Keys: []string{"a"}}, []string{"f.yaml:1:1: p: want a mapping (a), got nothing"}, ""},
		{"null optional", "~", Mapping{Optional: true}, nil, ""},
		{"plain key", "{[x]: 1}", Mapping{}, []string{"f.yaml:1:2: p: want a plain key, got a list"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Decoder{File: "f.yaml"}
			var seen []string
			d.Fields(parse(t, tc.src), "p", tc.m, func(key string, k, v *yaml.Node) bool {
				seen = append(seen, key)
				return tc.m.Keys != nil || key == "a"
			})
			var got []string
			for _, e := range d.Errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") || strings.Join(seen, " ") != tc.keys {
				t.Errorf("errors %q, keys %q; want %q, %q", got, seen, tc.want, tc.keys)
			}
		})
	}
}

func TestScalars(t *testing.T) {
	d := &Decoder{File: "f.yaml"}
	n := parse(t, "{i: 1_000, big: 99, f: 2.5, b: yes, s: [x, y], one: z, bad: maybe, nan: .nan}")
	get := func(k string) *yaml.Node { v, _ := MapGet(n, k); return v }
	if v := d.Int(get("i"), "i", "a whole number", 0, 5000); v != 1000 {
		t.Errorf("Int = %d", v)
	}
	if v := d.Number(get("f"), "f"); v != 2.5 {
		t.Errorf("Number = %g", v)
	}
	if !d.Boolean(get("b"), "b") {
		t.Error("Boolean(yes) = false")
	}
	if s, _ := d.Strs(get("s"), "s"); strings.Join(s, ",") != "x,y" {
		t.Errorf("Strs = %q", s)
	}
	if s, _ := d.Strs(get("one"), "one"); strings.Join(s, ",") != "z" {
		t.Errorf("Strs(one) = %q", s)
	}
	if len(d.Errs) != 0 {
		t.Fatal(d.Errs)
	}
	d.Int(get("big"), "big", "an integer", 1, 10)
	d.Boolean(get("bad"), "bad")
	d.Number(get("nan"), "nan")
	d.List(get("b"), "b", true)
	want := []string{
		`f.yaml:1:17: big: want an integer from 1 to 10, got "99"`,
		`f.yaml:1:61: bad: want true or false, got "maybe"`,
		`f.yaml:1:73: nan: want a number, got ".nan"`,
		`f.yaml:1:32: b: want a list, got "yes"`,
	}
	for i, e := range d.Errs {
		if i >= len(want) || e.Error() != want[i] {
			t.Errorf("error %d: %v; want %q", i, e, want)
		}
	}
}

func TestParse(t *testing.T) {
	_, err := Parse("f.yaml", []byte("a: 1\nb: [\n"), "YAML syntax: ")
	if err == nil || !strings.HasPrefix(err.Error(), "f.yaml:2:1: YAML syntax: ") {
		t.Fatalf("syntax error: %v", err)
	}
	if doc, err := Parse("f.yaml", nil, ""); doc != nil || err != nil {
		t.Fatalf("empty: %v, %v", doc, err)
	}
}

// FuzzDecode: any input walked as mappings of mappings reads without a
// panic, and every error is located.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"{a: 1}", "<<: {a: 1}\nb: [1, 2]", "a: &x {b: *x}", "- 1\n- {a: ~}", "a: 1\na: 2", "*x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		doc, err := Parse("f.yaml", src, "")
		if err != nil || doc == nil {
			return
		}
		d := &Decoder{File: "f.yaml"}
		var walk func(n *yaml.Node, field string, depth int)
		walk = func(n *yaml.Node, field string, depth int) {
			if depth > 20 {
				return
			}
			switch Deref(n).Kind {
			case yaml.MappingNode:
				d.Fields(n, field, Mapping{Keys: []string{"a", "b"}, Merge: depth%2 == 0}, func(key string, k, v *yaml.Node) bool {
					walk(v, Join(field, key), depth+1)
					return true
				})
			case yaml.SequenceNode:
				for i, e := range d.List(n, field, false) {
					walk(e, Join(field, IDOf(e, i)), depth+1)
				}
			default:
				d.Str(n, field)
				d.Number(n, field)
			}
		}
		walk(Root(doc), "", 0)
		for _, e := range d.Errs {
			if e.File != "f.yaml" || e.Line < 1 {
				t.Fatalf("unlocated error %v", e)
			}
		}
	})
}
