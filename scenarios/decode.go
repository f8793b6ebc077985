package scenarios

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
	"twin/sim"
)

// Decoding a scenario file: every error located (file:line:col, field).

// decoder reads a scenario's node tree, collecting every error.
type decoder struct {
	yamldec.Decoder
}

// fields iterates over a mapping's keys, reporting unknown and repeated
// keys (fn returns false for a key it does not know) and merge keys (not
// taken here); nothing is an empty mapping.
func (d *decoder) fields(n *yaml.Node, field string, fn func(key string, k, v *yaml.Node) bool) {
	d.Fields(n, field, yamldec.Mapping{Optional: true}, fn)
}

func (d *decoder) integer(n *yaml.Node, field string, lo, hi int) int {
	return d.Int(n, field, "an integer", lo, hi)
}

func (d *decoder) duration(n *yaml.Node, field string) sim.Time {
	s, ok := d.Scalar(n, field, `a duration like "28d"`)
	if !ok {
		return 0
	}
	t, err := ParseDuration(s)
	if err != nil {
		d.Errorf(n, field, `want a duration like "28d" or "36h", got %q`, s)
	}
	return t
}

// overrides reads a mapping of override paths to values.
func (d *decoder) overrides(n *yaml.Node, field string) []Override {
	var out []Override
	d.fields(n, field, func(key string, k, v *yaml.Node) bool {
		f := yamldec.Join(field, key)
		segs, err := parsePath(key)
		if err != nil {
			d.Errorf(k, f, "%v", err)
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

// read is what the top level of a scenario file gave: the scenario, and
// the nodes its later checks refer to.
type read struct {
	s                                *Scenario
	top                              *yaml.Node
	plant, horizon, baseline, events *yaml.Node
	variants                         []*Variant
	variantNodes                     []*yaml.Node
	sweeps                           []sweep
}

// scenario decodes a scenario file's top level: each section by its own
// reader, then the variants they make.
func (d *decoder) scenario(top *yaml.Node) *Scenario {
	r := &read{s: &Scenario{Replications: 10, Seed: 1, CRN: true, File: d.File}, top: top}
	s := r.s
	if top == nil || top.Kind != yaml.MappingNode {
		d.Errorf(top, "", "want a scenario (a mapping with scenario, plant, horizon, variants…), got %s", yamldec.KindName(top))
		return s
	}
	d.fields(top, "", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "scenario":
			d.about(v, s)
		case "plant":
			r.plant = v
			if p := d.Str(v, key); p != "" {
				s.PlantFile = p
				if !filepath.IsAbs(p) {
					s.PlantFile = filepath.Join(filepath.Dir(d.File), p)
				}
			}
		case "horizon":
			r.horizon = v
			s.Horizon = d.duration(v, key)
			if s.Horizon <= 0 && len(d.Errs) == 0 {
				d.Errorf(v, key, "want a positive duration")
			}
		case "warmup":
			s.Warmup = d.duration(v, key)
		case "replications":
			s.Replications = d.integer(v, key, 1, MaxReplications)
		case "seed":
			s.Seed = d.seed(v, key)
		case "crn":
			s.CRN = d.Boolean(v, key)
		case "baseline":
			r.baseline = v
		case "overrides":
			s.Overrides = d.overrides(v, key)
		case "variants":
			d.variants(v, r)
		case "sweeps":
			d.sweeps(v, r)
		case "metrics":
			for i, mn := range d.List(v, key, true) {
				if m := d.Str(mn, fmt.Sprintf("metrics[%d]", i)); m != "" {
					s.Metrics = append(s.Metrics, m)
					s.metricAt = append(s.metricAt, [2]int{mn.Line, mn.Column})
				}
			}
		case "events":
			r.events = v
			s.Events = d.events(v)
		default:
			return false
		}
		return true
	})
	d.required(r)
	d.allVariants(r)
	return s
}

// about reads the scenario section: its name and description.
func (d *decoder) about(n *yaml.Node, s *Scenario) {
	d.fields(n, "scenario", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
			s.Name = d.Str(v, "scenario.name")
			if s.Name != "" && !safeName(s.Name) {
				d.Errorf(v, "scenario.name", "want a name of letters, digits, '.', '-' and '_' (it names the output directory), got %q", s.Name)
			}
		case "description":
			s.Description = d.Str(v, "scenario.description")
		default:
			return false
		}
		return true
	})
}

func (d *decoder) seed(n *yaml.Node, field string) uint64 {
	str, ok := d.Scalar(n, field, "an integer")
	if !ok {
		return 0
	}
	u, err := strconv.ParseUint(strings.ReplaceAll(str, "_", ""), 0, 64)
	if err != nil {
		d.Errorf(n, field, "want a non-negative integer, got %q", str)
	}
	return u
}

// variants reads the variants section.
func (d *decoder) variants(n *yaml.Node, r *read) {
	for i, vn := range d.List(n, "variants", true) {
		f := fmt.Sprintf("variants[%d]", i)
		vr := &Variant{}
		d.fields(vn, f, func(key string, k, v *yaml.Node) bool {
			switch key {
			case "name":
				vr.Name = d.Str(v, f+".name")
			case "description":
				d.Str(v, f+".description")
			case "overrides":
				vr.Overrides = d.overrides(v, f+".overrides")
			default:
				return false
			}
			return true
		})
		if vr.Name == "" && yamldec.Deref(vn) != nil && yamldec.Deref(vn).Kind == yaml.MappingNode {
			d.Errorf(vn, f, "want a name")
		}
		r.variants = append(r.variants, vr)
		r.variantNodes = append(r.variantNodes, vn)
	}
}

// sweeps reads the sweeps section.
func (d *decoder) sweeps(n *yaml.Node, r *read) {
	for i, sn := range d.List(n, "sweeps", true) {
		f := fmt.Sprintf("sweeps[%d]", i)
		sw := sweep{node: sn}
		d.fields(sn, f, func(key string, k, v *yaml.Node) bool {
			switch key {
			case "name":
				sw.name = d.Str(v, f+".name")
			case "values":
				sw.paths = d.overrides(v, f+".values")
				for _, o := range sw.paths {
					vals := yamldec.Deref(o.Value)
					if vals == nil || vals.Kind != yaml.SequenceNode || len(vals.Content) == 0 {
						d.Errorf(o.Value, o.field, "want a list of values to sweep, got %s", yamldec.KindName(o.Value))
						vals = &yaml.Node{}
					}
					sw.lists = append(sw.lists, vals.Content)
				}
			default:
				return false
			}
			return true
		})
		if len(sw.paths) == 0 && yamldec.Deref(sn) != nil && yamldec.Deref(sn).Kind == yaml.MappingNode {
			d.Errorf(sn, f, "want values: a mapping of paths to lists of values")
		}
		r.sweeps = append(r.sweeps, sw)
	}
}

// events reads the events section: the run whose event log to write.
func (d *decoder) events(n *yaml.Node) *EventLogSpec {
	ev := &EventLogSpec{Replication: 1, File: "events.jsonl"}
	d.fields(n, "events", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "variant":
			ev.Variant = d.Str(v, "events.variant")
		case "replication":
			ev.Replication = d.integer(v, "events.replication", 1, MaxReplications)
		case "file":
			ev.File = d.Str(v, "events.file")
			if f := ev.File; f != "" && (filepath.IsAbs(f) || strings.HasPrefix(filepath.Clean(f), "..")) {
				d.Errorf(v, "events.file", "want a file name inside the output directory, got %q", f)
			}
		default:
			return false
		}
		return true
	})
	return ev
}

// required checks the keys a scenario must have, and names it after its
// file when it has no name.
func (d *decoder) required(r *read) {
	s := r.s
	if s.Name == "" {
		base := filepath.Base(d.File)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
		if !safeName(s.Name) {
			d.Errorf(r.top, "scenario.name", "want a name (the file name %q cannot name the output directory)", base)
		}
	}
	if r.plant == nil {
		d.Errorf(r.top, "plant", "want the plant file (plant: ../testdata/plants/motor.yaml)")
	} else {
		s.plantAt = r.plant.Line
	}
	if r.horizon == nil {
		d.Errorf(r.top, "horizon", `want the length of the statistics window (horizon: 28d)`)
	}
}

// allVariants makes the scenario's variants: the implicit baseline, the
// listed ones, the sweeps'; and checks their names, the baseline and the
// event log's run.
func (d *decoder) allVariants(r *read) {
	s, top := r.s, r.top
	// where holds the node each comes from, for errors.
	baseline := ""
	if r.baseline != nil {
		baseline = d.Str(r.baseline, "baseline")
	}
	var where []*yaml.Node
	if baseline == "" {
		s.Variants = append(s.Variants, &Variant{Name: DefaultBaseline})
		where = append(where, top)
	}
	s.Variants = append(s.Variants, r.variants...)
	where = append(where, r.variantNodes...)
	for i, sw := range r.sweeps {
		if sw.name == "" {
			sw.name = fmt.Sprintf("sweep%d", i+1)
		}
		vs, err := expandSweep(sw, len(r.sweeps) > 1, MaxVariants-len(s.Variants))
		if err != nil {
			d.Errorf(sw.node, fmt.Sprintf("sweeps[%d]", i), "%v", err)
			continue
		}
		s.Variants = append(s.Variants, vs...)
		for range vs {
			where = append(where, sw.node)
		}
	}
	if len(s.Variants) > MaxVariants {
		d.Errorf(top, "variants", "%d variants; at most %d", len(s.Variants), MaxVariants)
	}
	seen := d.variantNames(s, where, baseline)
	if baseline != "" {
		if i, ok := seen[baseline]; ok {
			s.Baseline = i
		} else {
			d.Errorf(r.baseline, "baseline", "no variant named %q", baseline)
		}
	}
	if len(s.Variants) == 0 {
		d.Errorf(top, "variants", "no variants to run")
		return
	}
	if s.Events != nil {
		if s.Events.Variant == "" {
			s.Events.Variant = s.Variants[s.Baseline].Name
		} else if _, ok := seen[s.Events.Variant]; !ok {
			d.Errorf(r.events, "events.variant", "no variant named %q", s.Events.Variant)
		}
		if s.Events.Replication > s.Replications {
			d.Errorf(r.events, "events.replication", "replication %d of %d", s.Events.Replication, s.Replications)
		}
	}
}

// variantNames checks that the variants' names are apart and returns
// each name's index.
func (d *decoder) variantNames(s *Scenario, where []*yaml.Node, baseline string) map[string]int {
	seen := map[string]int{}
	for i, v := range s.Variants {
		if v.Name == "" {
			continue
		}
		if strings.IndexFunc(v.Name, unicode.IsControl) >= 0 {
			d.Errorf(where[i], "variants", "variant name %q has control characters", v.Name)
		}
		if j, dup := seen[v.Name]; dup {
			switch {
			case v.Name == DefaultBaseline && j == 0 && baseline == "":
				d.Errorf(where[i], "variants", "a variant is named %q, the implicit baseline's name; name it otherwise, or make it the reference with baseline: %s", v.Name, v.Name)
			case v.Sweep != "":
				d.Errorf(where[i], "sweeps", "sweep %s makes a variant named %q, like another one; name the sweeps apart", v.Sweep, v.Name)
			default:
				d.Errorf(where[i], "variants", "two variants are named %q", v.Name)
			}
			continue
		}
		seen[v.Name] = i
	}
	return seen
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
			text := yamldec.Deref(val).Value
			if yamldec.Deref(val).Kind != yaml.ScalarNode || text == "" || len(text) > 24 || strings.ContainsAny(text, ",=\n") {
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
// "1d12h" or "90m"; or a bare 0, as in a plant file.
func ParseDuration(s string) (sim.Time, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil // a bare zero needs no unit (plant/FORMAT.md)
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
	n = yamldec.Deref(n)
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
