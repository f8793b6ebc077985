package plant

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
	"twin/sim"
)

// Keys lists the keys each kind of mapping in a plant file accepts: the
// decoder rejects any other, and the JSON Schema must list exactly these
// (a test checks). "time" mappings (per family) and "value_map",
// "per_shift", "mix", "metrics", "priority" take free keys and are not
// listed.
var Keys = map[string][]string{
	"plant":          {"version", "id", "name", "unit_name", "currency", "timezone", "start", "locale", "downtime_reasons", "scrap_reasons", "calendar", "families", "site", "parts", "products", "routings", "calendars", "pools", "energy", "demand", "layout", "tags"},
	"site":           {"id", "name", "at", "size", "areas"},
	"area":           {"id", "name", "at", "size", "lines"},
	"line":           {"id", "name", "at", "size", "workcenters", "saturate"},
	"workcenter":     {"id", "name", "at", "size", "buffer", "buffer_at", "blocking", "dispatch", "skill", "calendar", "setup", "batch", "unit_defaults", "units"},
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
	"operation":      {"id", "name", "at", "time", "alternatives", "consumes", "inspect", "instructions", "scrap_reasons"},
	"stop_reason":    {"code", "zh", "en", "loss"},
	"scrap_reason":   {"code", "zh", "en"},
	"instructions":   {"zh", "en"},
	"alternative":    {"at", "time"},
	"inspect":        {"yield", "scrap", "rework", "max_rework", "past_max", "characteristics"},
	"rework":         {"at", "time", "back_to"},
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
	doc, err := yamldec.Parse(file, src, "YAML syntax: ")
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty file: want a plant (id, site, routings, …)"}}
	}
	return Decode(file, doc)
}

// Decode builds a plant from a parsed YAML document. Every error found is
// reported, in line order, as Errors.
func Decode(file string, doc *yaml.Node) (*Plant, error) {
	d := &decoder{Decoder: yamldec.Decoder{File: file}, p: &Plant{File: file, Location: time.UTC}, seen: map[string]*yaml.Node{}}
	top := yamldec.Deref(doc)
	if top != nil && top.Kind == yaml.DocumentNode {
		if len(top.Content) == 0 {
			return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "empty file: want a plant (id, site, routings, …)"}}
		}
		top = yamldec.Deref(top.Content[0])
	}
	d.plant(top)
	if len(d.Errs) > 0 {
		d.Errs.Sort()
		return nil, d.Errs
	}
	return d.p, nil
}

// decoder reads a plant document (yamldec's reading of values, the
// plant's meaning of them), collecting every error.
type decoder struct {
	yamldec.Decoder
	p    *Plant
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
	saturate      []saturateRef
	timeSites     []timeSite
	pendingRework []timeSite
	pending       []pendingConsume
	scrapRefs     []ref // scrap reasons named by operations
	defCal        *yaml.Node
	defRule       Rule
	nodes         int
}

type ref struct {
	id    string
	node  *yaml.Node
	field string
}

// fields walks a mapping of the given kind (a key of Keys), reporting
// unknown and repeated keys; fn gets each known key's value. Merge keys
// (<<) are resolved: the mapping's own keys win.
func (d *decoder) fields(n *yaml.Node, kind, field string, fn func(key string, v *yaml.Node)) bool {
	keys := Keys[kind]
	if keys == nil {
		keys = []string{}
	}
	return d.Fields(n, field, yamldec.Mapping{Keys: keys, Merge: true}, func(key string, _, v *yaml.Node) bool {
		fn(key, v)
		return true
	})
}

func (d *decoder) id(n *yaml.Node, field string) string {
	s, ok := d.Scalar(n, field, "an id")
	if !ok {
		return ""
	}
	if s == "" || strings.ContainsAny(s, "/ \t\n\r\"[]") {
		d.Errorf(n, field, "want an id without spaces, slashes, quotes or brackets, got %q", s)
		return ""
	}
	return s
}

func (d *decoder) duration(n *yaml.Node, field string) time.Duration {
	s, ok := d.Scalar(n, field, "a duration like 90s or 1.5h")
	if !ok {
		return 0
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.Errorf(n, field, "%v", err)
	}
	return v
}

func (d *decoder) dist(n *yaml.Node, field string, kind distKind) sim.Dist {
	want := "a duration like 90s or a distribution like exp(5min)"
	if kind == numbers {
		want = "a number or a distribution like tri(5, 20, 60)"
	}
	s, ok := d.Scalar(n, field, want)
	if !ok {
		return nil
	}
	v, err := parseDist(s, kind)
	if err != nil {
		d.Errorf(n, field, "%v", err)
		return nil
	}
	return v
}

func (d *decoder) power(n *yaml.Node, field string) float64 {
	s, ok := d.Scalar(n, field, "a power like 4.5kW")
	if !ok {
		return 0
	}
	v, err := ParsePower(s)
	if err != nil {
		d.Errorf(n, field, "%v", err)
	}
	return v
}

func (d *decoder) fraction(n *yaml.Node, field string) float64 {
	s, ok := d.Scalar(n, field, "a fraction like 0.96 or 96%")
	if !ok {
		return 0
	}
	v, err := parseFraction(s)
	if err != nil {
		d.Errorf(n, field, "%v", err)
	}
	return v
}

func (d *decoder) point(n *yaml.Node, field string) Point {
	dn := yamldec.Deref(n)
	if dn == nil || dn.Kind != yaml.SequenceNode || len(dn.Content) != 2 {
		d.Errorf(n, field, "want a position [x, y] in metres, got %s", yamldec.KindName(n))
		return Point{}
	}
	return Point{d.Number(dn.Content[0], field+"[0]"), d.Number(dn.Content[1], field+"[1]")}
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
