package plant

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"twin/sim"
)

// Keys lists the keys each kind of mapping in a plant file accepts: the
// decoder rejects any other, and the JSON Schema must list exactly these
// (a test checks). "time" mappings (per family) and "value_map",
// "per_shift", "mix", "metrics", "priority" take free keys and are not
// listed.
var Keys = map[string][]string{
	"plant":          {"version", "id", "name", "unit_name", "currency", "timezone", "start", "calendar", "families", "site", "parts", "products", "routings", "calendars", "pools", "energy", "demand", "layout", "tags"},
	"site":           {"id", "name", "at", "size", "areas"},
	"area":           {"id", "name", "at", "size", "lines"},
	"line":           {"id", "name", "at", "size", "workcenters"},
	"workcenter":     {"id", "name", "at", "size", "buffer", "buffer_at", "dispatch", "skill", "calendar", "setup", "batch", "unit_defaults", "units"},
	"unit_defaults":  {"power", "failures", "maintenance", "nameplate"},
	"unit":           {"id", "name", "at", "size", "power", "failures", "maintenance", "nameplate"},
	"power":          {"off", "idle", "setup", "busy", "down"},
	"failure":        {"name", "tbf", "basis", "ttr", "skill"},
	"maintenance":    {"name", "every", "basis", "duration", "skill"},
	"nameplate":      {"manufacturer", "model", "serial", "year"},
	"setup":          {"first", "default", "changes"},
	"change":         {"from", "to", "time"},
	"batch":          {"max", "min", "max_wait", "same_family"},
	"part":           {"id", "name", "purchased", "routing", "cost"},
	"product":        {"id", "name", "family", "bom", "routing"},
	"component":      {"part", "qty"},
	"routing":        {"id", "operations"},
	"operation":      {"id", "name", "at", "time", "alternatives", "consumes", "inspect"},
	"alternative":    {"at", "time"},
	"inspect":        {"yield", "scrap", "rework", "characteristics"},
	"rework":         {"at", "time"},
	"characteristic": {"name", "unit", "nominal", "lsl", "usl"},
	"calendar":       {"id", "always", "shifts", "holidays"},
	"shift":          {"name", "days", "start", "end", "breaks"},
	"pool":           {"id", "skill", "count", "per_shift", "calendar"},
	"energy":         {"tariff", "emission"},
	"tariff":         {"periods"},
	"period":         {"name", "price", "months", "hours"},
	"emission":       {"factor", "year", "source", "basis"},
	"demand":         {"dispatch", "priorities", "orders", "orders_file", "generator"},
	"order":          {"id", "customer", "product", "quantity", "release", "due", "priority"},
	"generator":      {"interarrival", "mix", "quantity", "due_in", "priority", "customers", "until"},
	"layout":         {"width", "height"},
	"tags":           {"opcua", "mqtt"},
	"opcua":          {"endpoint", "policy", "mode", "user", "password", "cert", "key", "interval", "auto", "nodes"},
	"node_tag":       {"node", "asset", "signal", "value_map"},
	"mqtt":           {"url", "client_id", "user", "password", "ca", "auto", "topics", "sparkplug"},
	"topic":          {"topic", "asset", "signal", "field", "value_map"},
	"sparkplug":      {"group", "host_id", "devices"},
	"device":         {"edge_node", "device", "asset", "metrics"},
}

// Load reads and decodes the plant file at path.
func Load(path string) (*Plant, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse decodes a plant from src; file names it in errors and is the base
// of relative paths (orders_file).
func Parse(file string, src []byte) (p *Plant, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, Errors{{File: file, Line: 1, Column: 1, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, errEOF) || err.Error() == "EOF" {
			return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty file: want a plant (id, site, routings, …)"}}
		}
		return nil, yamlError(file, err)
	}
	return Decode(file, &doc)
}

var errEOF = errors.New("EOF")

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: …") into a
// located one.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return Errors{{File: file, Line: line, Column: 1, Msg: "YAML syntax: " + msg}}
}

// Decode builds a plant from a parsed YAML document. Every error found is
// reported, in line order, as Errors.
func Decode(file string, doc *yaml.Node) (*Plant, error) {
	d := &decoder{file: file, p: &Plant{File: file, Location: time.UTC}, seen: map[string]*yaml.Node{}}
	top := deref(doc)
	if top != nil && top.Kind == yaml.DocumentNode {
		if len(top.Content) == 0 {
			return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty file: want a plant (id, site, routings, …)"}}
		}
		top = deref(top.Content[0])
	}
	d.plant(top)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	return d.p, nil
}

type decoder struct {
	file string
	p    *Plant
	errs Errors
	seen map[string]*yaml.Node // ids of equipment nodes, for duplicates

	wcByID        map[string]*WorkCenter
	unitByID      map[string]*Unit
	calByID       map[string]*Calendar
	partByID      map[string]*Part
	prodByID      map[string]*Product
	routByID      map[string]*Routing
	families      map[string]bool
	skills        map[string]bool
	skillRef      []ref // skills named by work centres and failures
	timeRefs      []ref // products named in time mappings
	timeSites     []timeSite
	pendingRework []timeSite
	pending       []pendingConsume
	defCal        *yaml.Node
	defRule       Rule
	nodes         int
}

type ref struct {
	id    string
	node  *yaml.Node
	field string
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	if len(d.errs) >= 1000 {
		return
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
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
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// pairs returns a mapping's key/value pairs, merge keys (<<) resolved: the
// mapping's own keys win over merged ones.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	var own, merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if dk := deref(k); dk != nil && dk.Value == "<<" && dk.Tag == "!!merge" {
			vs := []*yaml.Node{v}
			if dv := deref(v); dv != nil && dv.Kind == yaml.SequenceNode {
				vs = dv.Content
			}
			for _, m := range vs {
				if m = deref(m); m != nil && m.Kind == yaml.MappingNode {
					merged = append(merged, pairs(m)...)
				}
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, v})
	}
	has := map[string]bool{}
	for _, kv := range own {
		has[deref(kv[0]).Value] = true
	}
	for _, kv := range merged {
		if k := deref(kv[0]).Value; !has[k] {
			has[k] = true
			own = append(own, kv)
		}
	}
	return own
}

// fields walks a mapping of the given kind (a key of Keys), reporting
// unknown and repeated keys; fn gets each known key's value.
func (d *decoder) fields(n *yaml.Node, kind, field string, fn func(key string, v *yaml.Node)) bool {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			d.errorf(n, field, "want a mapping (%s), got nothing", strings.Join(Keys[kind], ", "))
			return false
		}
		d.errorf(n, field, "want a mapping (%s), got %s", strings.Join(Keys[kind], ", "), kindName(n))
		return false
	}
	known := Keys[kind]
	seen := map[string]bool{}
	for _, kv := range pairs(n) {
		k := deref(kv[0])
		key := k.Value
		if seen[key] {
			d.errorf(k, join(field, key), "key %q appears twice", key)
			continue
		}
		seen[key] = true
		ok := false
		for _, x := range known {
			if x == key {
				ok = true
				break
			}
		}
		if !ok {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(k, join(field, key), "%s; known: %s", msg, strings.Join(known, ", "))
			continue
		}
		fn(key, kv[1])
	}
	return true
}

// suggest returns the known key nearest to key, if it is near.
func suggest(key string, known []string) string {
	best, bd := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bd {
			best, bd = k, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// scalar returns a scalar's text, or reports what was expected.
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

func (d *decoder) id(n *yaml.Node, field string) string {
	s, ok := d.scalar(n, field, "an id")
	if !ok {
		return ""
	}
	if s == "" || strings.ContainsAny(s, "/ \t\n\r\"[]") {
		d.errorf(n, field, "want an id without spaces, slashes, quotes or brackets, got %q", s)
		return ""
	}
	return s
}

func (d *decoder) integer(n *yaml.Node, field string, lo, hi int) int {
	s, ok := d.scalar(n, field, "a whole number")
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || v < lo || v > hi {
		d.errorf(n, field, "want a whole number from %d to %d, got %q", lo, hi, s)
		return 0
	}
	return v
}

func (d *decoder) number(n *yaml.Node, field string) float64 {
	s, ok := d.scalar(n, field, "a number")
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || v != v || v > 1e300 || v < -1e300 {
		d.errorf(n, field, "want a number, got %q", s)
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

func (d *decoder) duration(n *yaml.Node, field string) time.Duration {
	s, ok := d.scalar(n, field, "a duration like 90s or 1.5h")
	if !ok {
		return 0
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.errorf(n, field, "%v", err)
	}
	return v
}

func (d *decoder) dist(n *yaml.Node, field string, kind distKind) sim.Dist {
	want := "a duration like 90s or a distribution like exp(5min)"
	if kind == numbers {
		want = "a number or a distribution like tri(5, 20, 60)"
	}
	s, ok := d.scalar(n, field, want)
	if !ok {
		return nil
	}
	v, err := parseDist(s, kind)
	if err != nil {
		d.errorf(n, field, "%v", err)
		return nil
	}
	return v
}

func (d *decoder) power(n *yaml.Node, field string) float64 {
	s, ok := d.scalar(n, field, "a power like 4.5kW")
	if !ok {
		return 0
	}
	v, err := ParsePower(s)
	if err != nil {
		d.errorf(n, field, "%v", err)
	}
	return v
}

func (d *decoder) fraction(n *yaml.Node, field string) float64 {
	s, ok := d.scalar(n, field, "a fraction like 0.96 or 96%")
	if !ok {
		return 0
	}
	v, err := parseFraction(s)
	if err != nil {
		d.errorf(n, field, "%v", err)
	}
	return v
}

func (d *decoder) list(n *yaml.Node, field string) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "want a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

// strings reads a list of strings, or one string as a list of one.
func (d *decoder) strs(n *yaml.Node, field string) ([]string, []*yaml.Node) {
	dn := deref(n)
	if dn != nil && dn.Kind == yaml.ScalarNode && dn.Tag != "!!null" {
		return []string{dn.Value}, []*yaml.Node{dn}
	}
	var out []string
	var nodes []*yaml.Node
	for i, e := range d.list(n, field) {
		if s, ok := d.scalar(e, fmt.Sprintf("%s[%d]", field, i), "a string"); ok {
			out = append(out, s)
			nodes = append(nodes, deref(e))
		}
	}
	return out, nodes
}

func (d *decoder) point(n *yaml.Node, field string) Point {
	dn := deref(n)
	if dn == nil || dn.Kind != yaml.SequenceNode || len(dn.Content) != 2 {
		d.errorf(n, field, "want a position [x, y] in metres, got %s", kindName(n))
		return Point{}
	}
	return Point{d.number(dn.Content[0], field+"[0]"), d.number(dn.Content[1], field+"[1]")}
}

// idOf returns the id of a list element (a mapping with an id key), for
// field paths.
func idOf(n *yaml.Node, i int) string {
	n = deref(n)
	if n != nil && n.Kind == yaml.MappingNode {
		for _, kv := range pairs(n) {
			k, v := deref(kv[0]), deref(kv[1])
			if (k.Value == "id" || k.Value == "name") && v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
				return v.Value
			}
		}
	}
	return strconv.Itoa(i)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// known lists the ids of a map for "no X (known: …)" messages.
func known[V any](m map[string]V) string {
	ks := sortedKeys(m)
	if len(ks) > 12 {
		ks = append(ks[:12:12], "…")
	}
	if len(ks) == 0 {
		return "none defined"
	}
	return "known: " + strings.Join(ks, ", ")
}
