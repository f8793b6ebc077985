package plant

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite plant.schema.json from the spec in schema_test.go")

// spec gives the type of every key the decoder accepts (Keys), from which
// plant.schema.json is generated. Types: the scalar kinds below, "list:K"
// (a list of K mappings), "K" (a mapping of kind K), "map:T" (free keys of
// type T).
var spec = map[string]map[string]string{
	"plant":          {"version": "integer", "id": "id", "name": "string", "unit_name": "string", "currency": "currency", "timezone": "string", "start": "datetime", "locale": "locale", "downtime_reasons": "list:stop_reason", "scrap_reasons": "list:scrap_reason", "calendar": "id", "families": "strings", "site": "site", "parts": "list:part", "products": "list:product", "routings": "list:routing", "calendars": "list:calendar", "pools": "list:pool", "energy": "energy", "demand": "demand", "layout": "layout", "tags": "tags"},
	"site":           {"id": "id", "name": "string", "at": "point", "size": "point", "areas": "list:area"},
	"area":           {"id": "id", "name": "string", "at": "point", "size": "point", "lines": "list:line"},
	"line":           {"id": "id", "name": "string", "at": "point", "size": "point", "workcenters": "list:workcenter", "saturate": "id"},
	"workcenter":     {"id": "id", "name": "string", "at": "point", "size": "point", "buffer": "integer", "buffer_at": "point", "blocking": "blocking", "dispatch": "rule", "skill": "string", "calendar": "id", "setup": "setup", "batch": "batch", "unit_defaults": "unit_defaults", "units": "list:unit"},
	"unit_defaults":  {"power": "power", "failures": "list:failure", "maintenance": "list:maintenance", "nameplate": "nameplate"},
	"unit":           {"id": "id", "name": "string", "at": "point", "size": "point", "power": "power", "failures": "list:failure", "maintenance": "list:maintenance", "nameplate": "nameplate"},
	"power":          {"off": "kw", "idle": "kw", "setup": "kw", "busy": "kw", "down": "kw"},
	"failure":        {"name": "string", "tbf": "dist", "basis": "basis", "ttr": "dist", "skill": "string"},
	"maintenance":    {"name": "string", "every": "duration", "basis": "basis", "duration": "dist", "skill": "string"},
	"nameplate":      {"manufacturer": "string", "model": "string", "serial": "string", "year": "integer"},
	"setup":          {"first": "dist", "default": "dist", "changes": "list:change"},
	"change":         {"from": "string", "to": "string", "time": "dist"},
	"batch":          {"max": "integer", "min": "integer", "max_wait": "duration", "same_family": "boolean"},
	"part":           {"id": "id", "name": "string", "purchased": "boolean", "routing": "id", "cost": "money"},
	"product":        {"id": "id", "name": "string", "family": "string", "bom": "list:component", "routing": "id"},
	"component":      {"part": "id", "qty": "integer"},
	"routing":        {"id": "id", "operations": "list:operation"},
	"operation":      {"id": "id", "name": "string", "at": "id", "time": "times", "alternatives": "list:alternative", "consumes": "list:component", "inspect": "inspect", "instructions": "instructions", "scrap_reasons": "codes"},
	"stop_reason":    {"code": "code", "zh": "string", "en": "string", "loss": "loss"},
	"scrap_reason":   {"code": "code", "zh": "string", "en": "string"},
	"instructions":   {"zh": "string", "en": "string"},
	"alternative":    {"at": "id", "time": "times"},
	"inspect":        {"yield": "fraction", "scrap": "fraction", "rework": "rework", "max_rework": "integer", "past_max": "past_max", "characteristics": "list:characteristic"},
	"rework":         {"at": "id", "time": "times", "back_to": "id"},
	"characteristic": {"name": "string", "unit": "string", "nominal": "number", "lsl": "number", "usl": "number"},
	"calendar":       {"id": "id", "always": "boolean", "shifts": "list:shift", "holidays": "strings"},
	"shift":          {"name": "string", "days": "string", "start": "tod", "end": "tod", "breaks": "strings"},
	"pool":           {"id": "id", "skill": "string", "count": "integer", "per_shift": "map:integer", "calendar": "id"},
	"energy":         {"tariff": "tariff", "emission": "emission"},
	"tariff":         {"periods": "list:period"},
	"period":         {"name": "string", "price": "price", "months": "integers", "hours": "strings"},
	"emission":       {"factor": "emission_factor", "year": "integer", "source": "string", "basis": "string"},
	"demand":         {"dispatch": "rule", "priorities": "strings", "orders": "list:order", "orders_file": "string", "generator": "generator"},
	"order":          {"id": "id", "customer": "string", "product": "id", "quantity": "integer", "release": "datetime", "due": "datetime", "priority": "scalar"},
	"generator":      {"interarrival": "dist", "mix": "map:number", "quantity": "ndist", "due_in": "dist", "priority": "map:number", "customers": "strings", "until": "datetime"},
	"layout":         {"width": "number", "height": "number"},
	"tags":           {"opcua": "list:opcua", "mqtt": "list:mqtt"},
	"opcua":          {"endpoint": "string", "policy": "string", "mode": "string", "user": "string", "password": "string", "cert": "string", "key": "string", "interval": "duration", "auto": "string", "nodes": "list:node_tag"},
	"node_tag":       {"node": "string", "asset": "string", "signal": "signal", "value_map": "map:scalar"},
	"mqtt":           {"url": "string", "client_id": "string", "user": "string", "password": "string", "ca": "string", "auto": "string", "topics": "list:topic", "sparkplug": "sparkplug"},
	"topic":          {"topic": "string", "asset": "string", "signal": "signal", "field": "string", "value_map": "map:scalar"},
	"sparkplug":      {"group": "string", "host_id": "string", "devices": "list:device"},
	"device":         {"edge_node": "string", "device": "string", "asset": "string", "metrics": "map:signal"},
}

const durPat = `^(0|([0-9]+(\.[0-9]+)?(e[0-9]+)?\s*(ns|us|µs|ms|s|sec|m|min|h|d|w))|([0-9]+(\.[0-9]+)?(h|m|s|ms))+)$`

// scalarSchema is the JSON Schema of each scalar type.
func scalarSchema(t string) map[string]any {
	str := func(pat, desc string) map[string]any {
		return map[string]any{"type": "string", "pattern": pat, "description": desc}
	}
	switch t {
	case "string":
		return map[string]any{"type": "string"}
	case "scalar":
		return map[string]any{"type": []string{"string", "number", "integer", "boolean"}}
	case "id":
		return str(`^[^/\s"\[\]]+$`, "an id: no spaces, slashes, quotes or brackets")
	case "integer":
		return map[string]any{"type": "integer"}
	case "integers":
		return map[string]any{"type": "array", "items": map[string]any{"type": "integer"}}
	case "number":
		return map[string]any{"type": "number"}
	case "boolean":
		return map[string]any{"type": "boolean"}
	case "strings":
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}
	case "currency":
		return str(`^[A-Z]{3}$`, "ISO 4217 currency code")
	case "datetime":
		return str(`^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?.*)?$`, "a date and time, 2026-03-02T08:00")
	case "tod":
		return str(`^\d{1,2}:\d{2}(:\d{2})?$`, "a time of day, 08:00")
	case "point":
		return map[string]any{"type": "array", "items": map[string]any{"type": "number"}, "minItems": 2, "maxItems": 2, "description": "[x, y] in metres"}
	case "duration":
		return str(durPat, "a duration with a unit: 90s, 2.5min, 1.5h, 2d")
	case "dist":
		return map[string]any{"type": "string", "description": "a duration (90s) or a distribution: exp(5min), norm(10min, 1min), lognorm(m, sd), tri(min, mode, max), uniform(a, b), weibull(shape, scale), gamma(shape, scale), erlang(k, mean), empirical(…), discrete(v: w, …)", "anyOf": []any{map[string]any{"pattern": durPat}, map[string]any{"pattern": `^[a-z]+\(.*\)$`}}}
	case "ndist":
		return map[string]any{"type": []string{"string", "number"}, "description": "a number or a distribution of numbers: tri(5, 20, 60)"}
	case "times":
		return map[string]any{"oneOf": []any{scalarSchema("dist"), map[string]any{"type": "object", "additionalProperties": scalarSchema("dist"), "description": "time per product family (and default)"}}}
	case "kw":
		return map[string]any{"type": []string{"string", "integer"}, "pattern": `^(0|[0-9.]+\s*(W|kW|MW))$`, "description": "a power: 4.5kW, 800W"}
	case "money":
		return str(`^[0-9.]+\s*[A-Z]{3}$`, "an amount: 180 CNY")
	case "price":
		return str(`^[0-9.]+\s*[A-Z]{3}/(kWh|MWh)$`, "an energy price: 0.65 CNY/kWh")
	case "emission_factor":
		return str(`^[0-9.]+\s*(kg|kgCO2|kgCO2e|t|tCO2|tCO2e|g|gCO2|gCO2e)/(kWh|MWh)$`, "kg CO2 per kWh: 0.5366 kg/kWh")
	case "fraction":
		return map[string]any{"type": []string{"number", "string"}, "pattern": `^[0-9.]+%$`, "description": "0.96 or 96%"}
	case "rule":
		return map[string]any{"enum": []string{"fifo", "edd", "spt", "priority", "cr", "setup"}}
	case "basis":
		return map[string]any{"enum": []string{"operating", "calendar"}}
	case "blocking":
		return map[string]any{"enum": []string{"after", "before"}}
	case "past_max":
		return map[string]any{"enum": []string{"scrap", "concession"}}
	case "locale":
		return map[string]any{"enum": []string{"zh-CN", "en"}}
	case "code":
		return str(`^[a-z][a-z0-9_]{0,31}$`, "a code in snake_case: no_operator")
	case "codes":
		return map[string]any{"type": "array", "items": scalarSchema("code")}
	case "loss":
		return map[string]any{"enum": []string{"availability", "setup", "planned"}}
	case "signal":
		return map[string]any{"enum": []string{"state", "good", "reject", "power_kw", "energy_kwh", "order"}}
	}
	return nil
}

func typeSchema(t string) map[string]any {
	switch {
	case strings.HasPrefix(t, "list:"):
		return map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/" + t[5:]}}
	case strings.HasPrefix(t, "map:"):
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t[4:])}
	case spec[t] != nil:
		return map[string]any{"$ref": "#/$defs/" + t}
	}
	if s := scalarSchema(t); s != nil {
		return s
	}
	panic("schema: unknown type " + t)
}

func buildSchema() []byte {
	defs := map[string]any{}
	for kind, keys := range spec {
		props := map[string]any{}
		for k, t := range keys {
			props[k] = typeSchema(t)
		}
		defs[kind] = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	}
	s := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://github.com/twin/plant/plant.schema.json",
		"title":       "twin plant file",
		"description": "A discrete-manufacturing plant for twin (see plant/FORMAT.md).",
		"$ref":        "#/$defs/plant",
		"$defs":       defs,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// TestSchemaDrift: the schema lists exactly the keys the decoder accepts,
// and the committed plant.schema.json is the one generated from spec.
func TestSchemaDrift(t *testing.T) {
	for kind, keys := range Keys {
		sk := spec[kind]
		if sk == nil {
			t.Errorf("the schema has no %s", kind)
			continue
		}
		for _, k := range keys {
			if _, ok := sk[k]; !ok {
				t.Errorf("%s.%s: accepted by the decoder, missing from the schema", kind, k)
			}
		}
		for k := range sk {
			found := false
			for _, x := range keys {
				found = found || x == k
			}
			if !found {
				t.Errorf("%s.%s: in the schema, rejected by the decoder", kind, k)
			}
		}
	}
	for kind := range spec {
		if Keys[kind] == nil {
			t.Errorf("schema kind %s unknown to the decoder", kind)
		}
	}
	want := buildSchema()
	if *update {
		if err := os.WriteFile("plant.schema.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("plant.schema.json")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("plant.schema.json is stale (%v): go test ./plant -run TestSchemaDrift -update", err)
	}
}

// TestPlantsMatchSchema validates every test plant against the schema with
// a small validator (the subset of JSON Schema the schema uses).
func TestPlantsMatchSchema(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(buildSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../testdata/plants/*.yaml")
	for _, f := range files {
		src, _ := os.ReadFile(f)
		var doc any
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatal(err)
		}
		v := &validator{root: schema}
		v.check(schema, normalise(doc), "")
		for _, e := range v.errs {
			t.Errorf("%s: %s", f, e)
		}
	}
	// and the validator can fail
	v := &validator{root: schema}
	v.check(schema, normalise(map[string]any{"id": "x", "site": map[string]any{"id": "s", "colour": "red"}, "layout": map[string]any{"width": "wide"}}), "")
	if len(v.errs) != 2 {
		t.Errorf("validator found %v, want 2 errors", v.errs)
	}
}

// normalise turns yaml.v3's map[string]any and merge keys into plain JSON
// values (merge keys resolved by yaml.v3 already).
func normalise(x any) any {
	switch v := x.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = normalise(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalise(e)
		}
		return out
	case int:
		return float64(v)
	}
	return x
}

type validator struct {
	root map[string]any
	errs []string
}

func (v *validator) check(s map[string]any, x any, at string) {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		v.check(v.root["$defs"].(map[string]any)[name].(map[string]any), x, at)
		return
	}
	fail := func(f string, args ...any) { v.errs = append(v.errs, at+": "+fmt.Sprintf(f, args...)) }
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, o := range one {
			sub := &validator{root: v.root}
			sub.check(o.(map[string]any), x, at)
			if len(sub.errs) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of oneOf", n)
		}
		return
	}
	if en, ok := s["enum"].([]any); ok {
		for _, e := range en {
			if e == x {
				return
			}
		}
		fail("%v not in %v", x, en)
		return
	}
	if t, ok := s["type"]; ok {
		types := []string{}
		switch tt := t.(type) {
		case string:
			types = append(types, tt)
		case []any:
			for _, e := range tt {
				types = append(types, e.(string))
			}
		}
		if !hasType(types, x) {
			fail("want %v, got %T %v", types, x, x)
			return
		}
	}
	switch xv := x.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(xv) {
			fail("%q does not match %s", xv, p)
		}
		if alts, ok := s["anyOf"].([]any); ok {
			m := false
			for _, a := range alts {
				if p, ok := a.(map[string]any)["pattern"].(string); ok && regexp.MustCompile(p).MatchString(xv) {
					m = true
				}
			}
			if !m {
				fail("%q matches none of anyOf", xv)
			}
		}
	case []any:
		if it, ok := s["items"].(map[string]any); ok {
			for i, e := range xv {
				v.check(it, e, fmt.Sprintf("%s[%d]", at, i))
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(xv))
		for k := range xv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := props[k]; ok {
				v.check(p.(map[string]any), xv[k], at+"."+k)
			} else if ap, ok := s["additionalProperties"]; ok {
				if ap == false {
					fail("unknown key %q", k)
				} else if m, ok := ap.(map[string]any); ok {
					v.check(m, xv[k], at+"."+k)
				}
			}
		}
	}
}

func hasType(types []string, x any) bool {
	for _, t := range types {
		switch x.(type) {
		case string:
			if t == "string" {
				return true
			}
		case float64:
			f := x.(float64)
			if t == "number" || t == "integer" && f == float64(int64(f)) {
				return true
			}
		case bool:
			if t == "boolean" {
				return true
			}
		case []any:
			if t == "array" {
				return true
			}
		case map[string]any:
			if t == "object" {
				return true
			}
		}
	}
	return false
}
