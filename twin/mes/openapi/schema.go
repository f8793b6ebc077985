package openapi

// Schemas: the JSON schema of a Go type, by reflection.

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Schema returns the JSON schema (the OpenAPI 3.0 subset) of values of type
// t as encoding/json writes them. Named struct types are put in
// components["schemas"] under their names and referred to by
// {"$ref": "#/components/schemas/Name"}, which also makes recursive types
// finite. components must not be nil; components["schemas"] is created if
// it is missing.
//
// Within one call, distinct types with the same name get distinct schema
// names (Name, then PkgName, then Name2, ...). A name already present in
// components["schemas"] before the call is taken to be the schema of the
// first type of that name met, so calling Schema repeatedly with the same
// components accumulates the schemas of one set of types.
//
// Schema panics if components is nil or a field's enum tag does not parse
// as values of the field's type.
func Schema(t reflect.Type, components map[string]any) map[string]any {
	if components == nil {
		panic("openapi.Schema: nil components")
	}
	schemas, ok := components["schemas"].(map[string]any)
	if !ok {
		if components["schemas"] != nil {
			panic(fmt.Sprintf("openapi.Schema: components[\"schemas\"] is a %T, not a map[string]any", components["schemas"]))
		}
		schemas = map[string]any{}
		components["schemas"] = schemas
	}
	b := newBuilder(schemas)
	for name := range schemas {
		b.owner[name] = nil // adoptable by the first type of that name
	}
	return b.schema(t)
}

type builder struct {
	times   string // the description of every date-time (Info.Times)
	schemas map[string]any
	names   map[reflect.Type]string // schema name of each named struct type met
	owner   map[string]reflect.Type // type of each schema name; nil: unknown
}

func newBuilder(schemas map[string]any) *builder {
	return &builder{schemas: schemas, names: map[reflect.Type]string{}, owner: map[string]reflect.Type{}}
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	durationType      = reflect.TypeFor[time.Duration]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface))
}

// schema returns a fresh schema map for t, which the caller may modify.
func (b *builder) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		if b.times != "" {
			return map[string]any{"type": "string", "format": "date-time", "description": b.times}
		}
		return map[string]any{"type": "string", "format": "date-time"}
	case durationType:
		return map[string]any{"type": "integer", "format": "int64", "description": "nanoseconds"}
	case rawMessageType:
		return map[string]any{}
	}
	if t.Kind() == reflect.Pointer {
		return nullable(b.schema(t.Elem()))
	}
	if implements(t, jsonMarshalerType) {
		return map[string]any{} // its own encoding: unknown shape
	}
	if implements(t, textMarshalerType) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer", "format": "int32", "minimum": 0}
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "format": "int64", "minimum": 0}
	case reflect.Float32:
		return map[string]any{"type": "number", "format": "float"}
	case reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice:
		e := t.Elem()
		if e.Kind() == reflect.Uint8 && !implements(e, jsonMarshalerType) && !implements(e, textMarshalerType) {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": b.schema(e)}
	case reflect.Array:
		return map[string]any{"type": "array", "items": b.schema(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		k := t.Key()
		switch k.Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !implements(k, textMarshalerType) {
				return map[string]any{"type": "object"}
			}
		}
		return map[string]any{"type": "object", "additionalProperties": b.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return b.structSchema(t)
		}
		return b.ref(t)
	default: // interface: anything; chan, func, complex: not encodable
		return map[string]any{}
	}
}

func nullable(s map[string]any) map[string]any {
	if _, ok := s["$ref"]; ok {
		return map[string]any{"allOf": []any{s}, "nullable": true}
	}
	s["nullable"] = true
	if e, ok := s["enum"].([]any); ok && !slices.Contains(e, nil) {
		s["enum"] = append(e, nil)
	}
	return s
}

// ref returns a reference to the schema of the named struct type t,
// building that schema first if needed.
func (b *builder) ref(t reflect.Type) map[string]any {
	name, ok := b.names[t]
	if !ok {
		base := schemaName(t)
		name = base
		for i := 1; ; i++ {
			owner, taken := b.owner[name]
			if !taken {
				break
			}
			if owner == nil { // pre-existing schema: adopt it
				b.names[t], b.owner[name] = name, t
				return map[string]any{"$ref": schemaPrefix + name}
			}
			switch i {
			case 1:
				name = pkgName(t) + base
			default:
				name = base + strconv.Itoa(i)
			}
		}
		b.names[t], b.owner[name] = name, t
		b.schemas[name] = map[string]any{} // placeholder while recursing
		b.schemas[name] = b.structSchema(t)
	}
	return map[string]any{"$ref": schemaPrefix + name}
}

var (
	pkgQualifier = regexp.MustCompile(`(?:[A-Za-z0-9_.\-~]+/)*[A-Za-z0-9_\-~]+\.`)
	nonName      = regexp.MustCompile(`[^A-Za-z0-9]+`)
)

// schemaName is t's name made a valid component name: a generic type's
// package paths are dropped, so Page[twin/mes.Order] becomes Page_Order.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if !strings.Contains(n, "[") {
		return n
	}
	n = pkgQualifier.ReplaceAllString(n, "")
	n = strings.ReplaceAll(n, "[]", "Slice")
	n = strings.Trim(nonName.ReplaceAllString(n, "_"), "_")
	return n
}

func pkgName(t reflect.Type) string {
	p := t.PkgPath()
	p = p[strings.LastIndex(p, "/")+1:]
	p = nonName.ReplaceAllString(p, "")
	if p == "" {
		return "X"
	}
	r, n := utf8.DecodeRuneInString(p)
	return string(unicode.ToUpper(r)) + p[n:]
}

// field is a JSON object member of a struct type.
type field struct {
	name     string
	typ      reflect.Type
	tagged   bool // named by its json tag
	optional bool // omitempty, omitzero, or inside an embedded pointer
	quoted   bool // ",string" option
	depth    int
	doc      string
	enum     string
	maxlen   int // the maxlen tag: the longest string (of the field, its items, its map's values)
}

func (b *builder) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, f := range jsonFields(t) {
		var s map[string]any
		if f.quoted && quotable(f.typ) {
			s = map[string]any{"type": "string"}
			if f.typ.Kind() == reflect.Pointer {
				s["nullable"] = true
			}
		} else {
			s = b.schema(f.typ)
		}
		if f.enum != "" {
			s = withEnum(t, f, s)
		}
		if f.maxlen > 0 {
			withMaxLength(s, f.maxlen)
		}
		if f.doc != "" {
			if _, ok := s["$ref"]; ok {
				s = map[string]any{"allOf": []any{s}}
			}
			if d, ok := s["description"].(string); ok && d != "" && f.typ == timeType && b.times != "" {
				s["description"] = f.doc + ". " + d
			} else {
				s["description"] = f.doc
			}
		}
		props[f.name] = s
		if !f.optional {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// withMaxLength puts maxLength n on the strings of s: s itself, the items
// of an array, the values of a map.
func withMaxLength(s map[string]any, n int) {
	switch s["type"] {
	case "string":
		s["maxLength"] = n
	case "array":
		if it, ok := s["items"].(map[string]any); ok {
			withMaxLength(it, n)
		}
	case "object":
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			withMaxLength(ap, n)
		}
	}
}

// quotable reports whether the ",string" json option applies to t.
func quotable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// withEnum puts the enum tag's values on s, or on its items if s is an
// array.
func withEnum(st reflect.Type, f field, s map[string]any) map[string]any {
	target := s
	if s["type"] == "array" {
		target, _ = s["items"].(map[string]any)
	}
	if target == nil || target["$ref"] != nil || target["allOf"] != nil || target["type"] == nil || target["type"] == "object" || target["type"] == "array" {
		panic(fmt.Sprintf("openapi: %s.%s: enum tag on a field that is not of a scalar type", st, f.name))
	}
	var vals []any
	for _, v := range strings.Split(f.enum, ",") {
		v = strings.TrimSpace(v)
		var (
			x   any
			err error
		)
		switch target["type"] {
		case "integer":
			x, err = strconv.ParseInt(v, 10, 64)
		case "number":
			x, err = strconv.ParseFloat(v, 64)
		case "boolean":
			x, err = strconv.ParseBool(v)
		default:
			x = v
		}
		if err != nil {
			panic(fmt.Sprintf("openapi: %s.%s: enum value %q: %v", st, f.name, v, err))
		}
		vals = append(vals, x)
	}
	if target["nullable"] == true {
		vals = append(vals, nil) // OpenAPI 3.0.3: null must be listed too
	}
	target["enum"] = vals
	return s
}

// jsonFields returns the fields encoding/json writes for struct type t, in
// order, with embedded structs flattened and name conflicts resolved as
// encoding/json resolves them.
func jsonFields(t reflect.Type) []field {
	var all []field
	collectFields(t, 0, false, map[reflect.Type]bool{t: true}, &all)

	byName := map[string][]int{}
	for i, f := range all {
		byName[f.name] = append(byName[f.name], i)
	}
	keep := make([]bool, len(all))
	for _, idx := range byName {
		minDepth := all[idx[0]].depth
		for _, i := range idx {
			minDepth = min(minDepth, all[i].depth)
		}
		var shallow, tagged []int
		for _, i := range idx {
			if all[i].depth == minDepth {
				shallow = append(shallow, i)
				if all[i].tagged {
					tagged = append(tagged, i)
				}
			}
		}
		switch {
		case len(shallow) == 1:
			keep[shallow[0]] = true
		case len(tagged) == 1:
			keep[tagged[0]] = true
		} // otherwise ambiguous: encoding/json drops them all
	}
	var out []field
	for i, f := range all {
		if keep[i] {
			out = append(out, f)
		}
	}
	return out
}

func collectFields(t reflect.Type, depth int, viaPtr bool, visiting map[reflect.Type]bool, out *[]field) {
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if !sf.IsExported() && et.Kind() != reflect.Struct {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !validTagName(name) {
			name = ""
		}
		if name == "" && sf.Anonymous {
			et, ptr := sf.Type, false
			if et.Kind() == reflect.Pointer {
				et, ptr = et.Elem(), true
			}
			if et.Kind() == reflect.Struct {
				if !visiting[et] {
					visiting[et] = true
					collectFields(et, depth+1, viaPtr || ptr, visiting, out)
					delete(visiting, et)
				}
				continue
			}
		}
		f := field{
			name:   name,
			typ:    sf.Type,
			tagged: name != "",
			depth:  depth,
			doc:    sf.Tag.Get("doc"),
			enum:   sf.Tag.Get("enum"),
		}
		if n, err := strconv.Atoi(sf.Tag.Get("maxlen")); err == nil && n > 0 {
			f.maxlen = n
		}
		if f.name == "" {
			f.name = sf.Name
		}
		f.optional = viaPtr
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty", "omitzero":
				f.optional = true
			case "string":
				f.quoted = true
			}
		}
		*out = append(*out, f)
	}
}

// validTagName mirrors encoding/json's check of a json tag's name.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
