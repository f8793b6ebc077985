package scenarios

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"twin/plant"
	"twin/sim"
)

// Decoding a scenario file: every error located (file:line:col, field).

// decoder reads a scenario's node tree, collecting every error.
type decoder struct {
	file string
	errs plant.Errors
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	d.errs = append(d.errs, &plant.FieldError{File: d.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// fields iterates over a mapping's keys, reporting unknown and repeated
// keys; fn returns false for a key it does not know.
func (d *decoder) fields(n *yaml.Node, field string, fn func(key string, k, v *yaml.Node) bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		d.errorf(n, field, "want a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			d.errorf(k, field, "want a plain key, got %s", kindName(k))
			continue
		}
		if k.Value == "<<" {
			d.errorf(k, field, "merge keys (<<) are not supported here")
			continue
		}
		if seen[k.Value] {
			d.errorf(k, join(field, k.Value), "repeated key")
			continue
		}
		seen[k.Value] = true
		if !fn(k.Value, k, v) {
			d.errorf(k, join(field, k.Value), "unknown key")
		}
	}
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func kindName(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

func (d *decoder) scalar(n *yaml.Node, field, want string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, field, "want %s, got %s", want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml.Node, field string) string {
	s, _ := d.scalar(n, field, "a string")
	return s
}

func (d *decoder) integer(n *yaml.Node, field string, lo, hi int) int {
	s, ok := d.scalar(n, field, "an integer")
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || v < lo || v > hi {
		d.errorf(n, field, "want an integer from %d to %d, got %q", lo, hi, s)
		return 0
	}
	return v
}

func (d *decoder) boolean(n *yaml.Node, field string) bool {
	s, ok := d.scalar(n, field, "true or false")
	if !ok {
		return false
	}
	switch s {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	d.errorf(n, field, "want true or false, got %q", s)
	return false
}

func (d *decoder) duration(n *yaml.Node, field string) sim.Time {
	s, ok := d.scalar(n, field, `a duration like "28d"`)
	if !ok {
		return 0
	}
	t, err := ParseDuration(s)
	if err != nil {
		d.errorf(n, field, `want a duration like "28d" or "36h", got %q`, s)
	}
	return t
}

func (d *decoder) list(n *yaml.Node, field string) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		d.errorf(n, field, "want a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

// overrides reads a mapping of override paths to values.
func (d *decoder) overrides(n *yaml.Node, field string) []Override {
	var out []Override
	d.fields(n, field, func(key string, k, v *yaml.Node) bool {
		f := join(field, key)
		segs, err := parsePath(key)
		if err != nil {
			d.errorf(k, f, "%v", err)
			return true
		}
		out = append(out, Override{Path: key, Value: v, Line: k.Line, Column: k.Column, segs: segs, field: f})
		return true
	})
	return out
}

type sweep struct {
	name  string
	paths []Override // Value of each: the list of values
	lists [][]*yaml.Node
	node  *yaml.Node
}

func (d *decoder) scenario(top *yaml.Node) *Scenario {
	s := &Scenario{Replications: 10, Seed: 1, CRN: true}
	s.File = d.file
	var plantNode, horizonNode, baselineNode, eventsNode *yaml.Node
	var variants []*Variant
	var variantNodes []*yaml.Node
	var sweeps []sweep
	if top == nil || top.Kind != yaml.MappingNode {
		d.errorf(top, "", "want a scenario (a mapping with scenario, plant, horizon, variants…), got %s", kindName(top))
		return s
	}
	d.fields(top, "", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "scenario":
			d.fields(v, key, func(key string, k, v *yaml.Node) bool {
				switch key {
				case "name":
					s.Name = d.str(v, "scenario.name")
					if s.Name != "" && !safeName(s.Name) {
						d.errorf(v, "scenario.name", "want a name of letters, digits, '.', '-' and '_' (it names the output directory), got %q", s.Name)
					}
				case "description":
					s.Description = d.str(v, "scenario.description")
				default:
					return false
				}
				return true
			})
		case "plant":
			plantNode = v
			if p := d.str(v, key); p != "" {
				s.PlantFile = p
				if !filepath.IsAbs(p) {
					s.PlantFile = filepath.Join(filepath.Dir(d.file), p)
				}
			}
		case "horizon":
			horizonNode = v
			s.Horizon = d.duration(v, key)
			if s.Horizon <= 0 && len(d.errs) == 0 {
				d.errorf(v, key, "want a positive duration")
			}
		case "warmup":
			s.Warmup = d.duration(v, key)
		case "replications":
			s.Replications = d.integer(v, key, 1, MaxReplications)
		case "seed":
			if str, ok := d.scalar(v, key, "an integer"); ok {
				u, err := strconv.ParseUint(strings.ReplaceAll(str, "_", ""), 0, 64)
				if err != nil {
					d.errorf(v, key, "want a non-negative integer, got %q", str)
				}
				s.Seed = u
			}
		case "crn":
			s.CRN = d.boolean(v, key)
		case "baseline":
			baselineNode = v
		case "overrides":
			s.Overrides = d.overrides(v, key)
		case "variants":
			for i, vn := range d.list(v, key) {
				f := fmt.Sprintf("variants[%d]", i)
				vr := &Variant{}
				d.fields(vn, f, func(key string, k, v *yaml.Node) bool {
					switch key {
					case "name":
						vr.Name = d.str(v, f+".name")
					case "description":
						d.str(v, f+".description")
					case "overrides":
						vr.Overrides = d.overrides(v, f+".overrides")
					default:
						return false
					}
					return true
				})
				if vr.Name == "" && deref(vn) != nil && deref(vn).Kind == yaml.MappingNode {
					d.errorf(vn, f, "want a name")
				}
				variants = append(variants, vr)
				variantNodes = append(variantNodes, vn)
			}
		case "sweeps":
			for i, sn := range d.list(v, key) {
				f := fmt.Sprintf("sweeps[%d]", i)
				sw := sweep{node: sn}
				d.fields(sn, f, func(key string, k, v *yaml.Node) bool {
					switch key {
					case "name":
						sw.name = d.str(v, f+".name")
					case "values":
						sw.paths = d.overrides(v, f+".values")
						for _, o := range sw.paths {
							vals := deref(o.Value)
							if vals == nil || vals.Kind != yaml.SequenceNode || len(vals.Content) == 0 {
								d.errorf(o.Value, o.field, "want a list of values to sweep, got %s", kindName(o.Value))
								vals = &yaml.Node{}
							}
							sw.lists = append(sw.lists, vals.Content)
						}
					default:
						return false
					}
					return true
				})
				if len(sw.paths) == 0 && deref(sn) != nil && deref(sn).Kind == yaml.MappingNode {
					d.errorf(sn, f, "want values: a mapping of paths to lists of values")
				}
				sweeps = append(sweeps, sw)
			}
		case "metrics":
			for i, mn := range d.list(v, key) {
				if m := d.str(mn, fmt.Sprintf("metrics[%d]", i)); m != "" {
					s.Metrics = append(s.Metrics, m)
				}
			}
		case "events":
			eventsNode = v
			s.Events = &EventLogSpec{Replication: 1, File: "events.jsonl"}
			d.fields(v, key, func(key string, k, v *yaml.Node) bool {
				switch key {
				case "variant":
					s.Events.Variant = d.str(v, "events.variant")
				case "replication":
					s.Events.Replication = d.integer(v, "events.replication", 1, MaxReplications)
				case "file":
					s.Events.File = d.str(v, "events.file")
					if f := s.Events.File; f != "" && (filepath.IsAbs(f) || strings.HasPrefix(filepath.Clean(f), "..")) {
						d.errorf(v, "events.file", "want a file name inside the output directory, got %q", f)
					}
				default:
					return false
				}
				return true
			})
		default:
			return false
		}
		return true
	})
	if s.Name == "" {
		base := filepath.Base(d.file)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
		if !safeName(s.Name) {
			d.errorf(top, "scenario.name", "want a name (the file name %q cannot name the output directory)", base)
		}
	}
	if plantNode == nil {
		d.errorf(top, "plant", "want the plant file (plant: ../testdata/plants/motor.yaml)")
	} else {
		s.plantAt = plantNode.Line
	}
	if horizonNode == nil {
		d.errorf(top, "horizon", `want the length of the statistics window (horizon: 28d)`)
	}

	// The variants: the implicit baseline, the listed ones, the sweeps'.
	// where holds the node each comes from, for errors.
	baseline := ""
	if baselineNode != nil {
		baseline = d.str(baselineNode, "baseline")
	}
	var where []*yaml.Node
	if baseline == "" {
		s.Variants = append(s.Variants, &Variant{Name: DefaultBaseline})
		where = append(where, top)
	}
	s.Variants = append(s.Variants, variants...)
	where = append(where, variantNodes...)
	for i, sw := range sweeps {
		if sw.name == "" {
			sw.name = fmt.Sprintf("sweep%d", i+1)
		}
		vs, err := expandSweep(sw, len(sweeps) > 1, MaxVariants-len(s.Variants))
		if err != nil {
			d.errorf(sw.node, fmt.Sprintf("sweeps[%d]", i), "%v", err)
			continue
		}
		s.Variants = append(s.Variants, vs...)
		for range vs {
			where = append(where, sw.node)
		}
	}
	if len(s.Variants) > MaxVariants {
		d.errorf(top, "variants", "%d variants; at most %d", len(s.Variants), MaxVariants)
	}
	seen := map[string]int{}
	for i, v := range s.Variants {
		if v.Name == "" {
			continue
		}
		if strings.IndexFunc(v.Name, unicode.IsControl) >= 0 {
			d.errorf(where[i], "variants", "variant name %q has control characters", v.Name)
		}
		if j, dup := seen[v.Name]; dup {
			switch {
			case v.Name == DefaultBaseline && j == 0 && baseline == "":
				d.errorf(where[i], "variants", "a variant is named %q, the implicit baseline's name; name it otherwise, or make it the reference with baseline: %s", v.Name, v.Name)
			case v.Sweep != "":
				d.errorf(where[i], "sweeps", "sweep %s makes a variant named %q, like another one; name the sweeps apart", v.Sweep, v.Name)
			default:
				d.errorf(where[i], "variants", "two variants are named %q", v.Name)
			}
			continue
		}
		seen[v.Name] = i
	}
	if baseline != "" {
		if i, ok := seen[baseline]; ok {
			s.Baseline = i
		} else {
			d.errorf(baselineNode, "baseline", "no variant named %q", baseline)
		}
	}
	if len(s.Variants) == 0 {
		d.errorf(top, "variants", "no variants to run")
		return s
	}
	if s.Events != nil {
		if s.Events.Variant == "" {
			s.Events.Variant = s.Variants[s.Baseline].Name
		} else if _, ok := seen[s.Events.Variant]; !ok {
			d.errorf(eventsNode, "events.variant", "no variant named %q", s.Events.Variant)
		}
		if s.Events.Replication > s.Replications {
			d.errorf(eventsNode, "events.replication", "replication %d of %d", s.Events.Replication, s.Replications)
		}
	}
	return s
}

// expandSweep makes the variants of a sweep: the cartesian product of its
// value lists, the first path varying slowest. Each is named by its
// values ("buffer=20,units=3"), each path by its shortest tail that tells
// it from the sweep's other paths; with prefix, the name starts with the
// sweep's ("buffers:buffer=20").
func expandSweep(sw sweep, prefix bool, room int) ([]*Variant, error) {
	n := 1
	for _, l := range sw.lists {
		if len(l) == 0 {
			return nil, nil // reported already
		}
		if n > room/len(l) {
			return nil, fmt.Errorf("the sweep makes more than %d variants", MaxVariants)
		}
		n *= len(l)
	}
	labels := shortLabels(sw.paths)
	out := make([]*Variant, 0, n)
	idx := make([]int, len(sw.lists))
	for range n {
		v := &Variant{Sweep: sw.name}
		var name []string
		for p, i := range idx {
			val := sw.lists[p][i]
			o := sw.paths[p]
			o.Value = val
			o.Line, o.Column = val.Line, val.Column
			v.Overrides = append(v.Overrides, o)
			text := deref(val).Value
			if deref(val).Kind != yaml.ScalarNode || text == "" || len(text) > 24 || strings.ContainsAny(text, ",=\n") {
				text = "#" + strconv.Itoa(i+1)
			}
			name = append(name, labels[p]+"="+text)
		}
		v.Name = strings.Join(name, ",")
		if prefix {
			v.Name = sw.name + ":" + v.Name
		}
		out = append(out, v)
		for p := len(idx) - 1; p >= 0; p-- {
			idx[p]++
			if idx[p] < len(sw.lists[p]) {
				break
			}
			idx[p] = 0
		}
	}
	return out, nil
}

// shortLabels names each override path by its shortest tail of segments
// that no other path shares.
func shortLabels(os []Override) []string {
	out := make([]string, len(os))
	for i, o := range os {
		for k := 1; k <= len(o.segs); k++ {
			tail := strings.Join(o.segs[len(o.segs)-k:], ".")
			unique := true
			for j, p := range os {
				if j != i && (len(p.segs) >= k && strings.Join(p.segs[len(p.segs)-k:], ".") == tail) {
					unique = false
					break
				}
			}
			out[i] = tail
			if unique {
				break
			}
		}
	}
	return out
}

func safeName(s string) bool {
	if s == "" || s[0] == '.' || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ParseDuration parses a duration of simulated time: a sequence of
// numbers with units ms, s, m, h, d (24 h) and w (7 d), such as "28d",
// "1d12h" or "90m".
func ParseDuration(s string) (sim.Time, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("bad duration %q", orig)
		}
		v, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", orig)
		}
		s = s[i:]
		j := 0
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z') {
			j++
		}
		var unit sim.Time
		switch s[:j] {
		case "ms":
			unit = sim.Millisecond
		case "s":
			unit = sim.Second
		case "m", "min":
			unit = sim.Minute
		case "h":
			unit = sim.Hour
		case "d":
			unit = sim.Day
		case "w":
			unit = sim.Week
		default:
			return 0, fmt.Errorf("bad duration %q: want a unit (ms, s, m, h, d, w)", orig)
		}
		s = s[j:]
		total += v * float64(unit)
	}
	if total >= float64(math.MaxInt64)/4 {
		return 0, fmt.Errorf("duration %q too long", orig)
	}
	return sim.Time(math.Round(total)), nil
}

// nodeString renders a node as YAML on one line where it fits.
func nodeString(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	c, err := expand(n, 0)
	if err != nil {
		return "…"
	}
	c.Style = yaml.FlowStyle
	var clear func(*yaml.Node)
	clear = func(n *yaml.Node) {
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
		for _, k := range n.Content {
			clear(k)
		}
	}
	clear(c)
	b, err := yaml.Marshal(c)
	if err != nil {
		return "…"
	}
	return strings.TrimSpace(string(b))
}
