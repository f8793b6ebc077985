// Package openapi builds an OpenAPI 3.0.3 document from a route table, so
// that the document a server publishes is derived from the same table that
// registers its handlers and cannot drift from the code.
//
// Schemas are derived by reflection from the Go types the handlers decode
// and encode, following encoding/json's rules (json tags, omitempty,
// embedded structs). Two optional struct tags add documentation:
//
//	Status string `json:"status" doc:"lifecycle state" enum:"planned,released"`
//
// Mistakes in the route table (a duplicate method and path, a declared path
// parameter missing from the pattern, an unknown parameter type) are
// programming errors and make Document panic, just as http.ServeMux panics
// on conflicting registrations.
package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Version is the OpenAPI version of the documents built here.
const Version = "3.0.3"

// Param is a query or path parameter of a route.
type Param struct {
	Name        string
	In          string // "query" or "path"
	Description string
	Type        string // "string" (default), "integer", "number" or "boolean"
	Required    bool   // always true for path parameters
}

// Route is one operation: a method and a path pattern with what it takes
// and returns.
type Route struct {
	// Method is the HTTP method ("GET", "POST", ...); Path is the
	// http.ServeMux pattern's path, e.g. "/api/v1/orders/{id}".
	Method, Path string
	Summary      string
	Description  string
	Tag          string
	// Roles that may call the route; empty means public (no token).
	// They are emitted as "x-roles" and appended to the description.
	Roles []string
	// Params are the route's query and path parameters. Path parameters
	// of the pattern that are not listed are added as required strings.
	Params []Param
	// Request is nil or a value of the JSON request body's type.
	Request any
	// Response is nil (no body), a value of the JSON response body's type,
	// or a Raw for a non-JSON body.
	Response any
	// Status is the success status; 0 means 200.
	Status int
}

// Raw is a Response for a body that is not JSON, such as a CSV file or an
// image.
type Raw struct{ ContentType string }

// Info is the document's info object.
type Info struct{ Title, Version, Description string }

const (
	schemaPrefix = "#/components/schemas/"
	errorSchema  = "Error"
	securityName = "bearer"
	publicRoles  = "public (no token)"
)

// errorMarker reserves the name of the shared Error schema, so that a Go
// type named Error gets another name.
type errorMarker struct{}

// Document returns the OpenAPI 3.0.3 document for routes as a value that
// encoding/json can marshal. Paths and operations follow the order-free
// structure of OpenAPI; the top-level tags are sorted by name.
func Document(info Info, routes []Route) map[string]any {
	b := newBuilder(map[string]any{})
	b.schemas[errorSchema] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"error": map[string]any{"type": "string", "description": "what went wrong"},
			"field": map[string]any{"type": "string", "description": "the request field at fault, if one is"},
		},
		"required": []string{"error"},
	}
	b.owner[errorSchema] = reflect.TypeFor[errorMarker]()

	paths := map[string]any{}
	opIDs := map[string]bool{}
	tagSet := map[string]bool{}
	for _, r := range routes {
		method := strings.ToUpper(strings.TrimSpace(r.Method))
		if method == "" {
			method = http.MethodGet
		}
		if !validMethods[method] {
			panic(fmt.Sprintf("openapi: route %s %s: method not supported by OpenAPI", r.Method, r.Path))
		}
		path, pathParams := parsePath(r.Path)
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		key := strings.ToLower(method)
		if _, dup := item[key]; dup {
			panic(fmt.Sprintf("openapi: duplicate route %s %s", method, r.Path))
		}
		item[key] = b.operation(r, method, path, pathParams, opIDs)
		if r.Tag != "" {
			tagSet[r.Tag] = true
		}
	}

	doc := map[string]any{
		"openapi": Version,
		"info":    infoObject(info),
		"paths":   paths,
		"components": map[string]any{
			"schemas": b.schemas,
			"securitySchemes": map[string]any{
				securityName: map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
	if len(tagSet) > 0 {
		names := make([]string, 0, len(tagSet))
		for t := range tagSet {
			names = append(names, t)
		}
		sort.Strings(names)
		tags := make([]any, len(names))
		for i, n := range names {
			tags[i] = map[string]any{"name": n}
		}
		doc["tags"] = tags
	}
	return doc
}

func infoObject(info Info) map[string]any {
	o := map[string]any{"title": info.Title, "version": info.Version}
	if info.Description != "" {
		o["description"] = info.Description
	}
	return o
}

var validMethods = map[string]bool{
	http.MethodGet: true, http.MethodPut: true, http.MethodPost: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodHead: true,
	http.MethodPatch: true, http.MethodTrace: true,
}

var wildcard = regexp.MustCompile(`\{([^{}]*)\}`)

// parsePath turns a ServeMux pattern's path into an OpenAPI path and the
// names of its wildcards in order: "{name...}" becomes "{name}" and the
// end anchor "{$}" is dropped.
func parsePath(p string) (string, []string) {
	var names []string
	out := wildcard.ReplaceAllStringFunc(p, func(m string) string {
		name := strings.TrimSuffix(m[1:len(m)-1], "...")
		if name == "$" {
			return ""
		}
		names = append(names, name)
		return "{" + name + "}"
	})
	if out == "" {
		out = "/"
	}
	return out, names
}

// operationID is the method in lower case followed by the path's words
// capitalised: GET /api/v1/orders/{id} → getApiV1OrdersId.
func operationID(method, path string) string {
	var sb strings.Builder
	sb.WriteString(strings.ToLower(method))
	words := strings.FieldsFunc(path, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		sb.WriteRune(unicode.ToUpper(r))
		sb.WriteString(w[n:])
	}
	return sb.String()
}

func (b *builder) operation(r Route, method, path string, pathParams []string, opIDs map[string]bool) map[string]any {
	where := method + " " + r.Path
	op := map[string]any{}

	id := operationID(method, path)
	for i := 2; opIDs[id]; i++ {
		id = operationID(method, path) + strconv.Itoa(i)
	}
	opIDs[id] = true
	op["operationId"] = id

	if r.Summary != "" {
		op["summary"] = r.Summary
	}
	if r.Tag != "" {
		op["tags"] = []string{r.Tag}
	}
	public := len(r.Roles) == 0
	roles := append([]string{}, r.Roles...)
	op["x-roles"] = roles
	rolesLine := "Roles: " + publicRoles + "."
	if !public {
		rolesLine = "Roles: " + strings.Join(roles, ", ") + "."
		op["security"] = []any{map[string]any{securityName: []string{}}}
	}
	if d := strings.TrimSpace(r.Description); d != "" {
		op["description"] = d + "\n\n" + rolesLine
	} else {
		op["description"] = rolesLine
	}

	params, hasQuery := parameters(where, r.Params, pathParams)
	if len(params) > 0 {
		op["parameters"] = params
	}

	if r.Request != nil {
		t := reflect.TypeOf(r.Request)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		op["requestBody"] = map[string]any{
			"required": true,
			"content": map[string]any{
				"application/json": map[string]any{"schema": b.schema(t)},
			},
		}
	}

	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 599 {
		panic(fmt.Sprintf("openapi: route %s: bad status %d", where, status))
	}
	success := map[string]any{"description": statusText(status)}
	if content := b.responseContent(where, status, r.Response); content != nil {
		success["content"] = content
	}
	responses := map[string]any{strconv.Itoa(status): success}
	addError := func(code int, desc string) {
		k := strconv.Itoa(code)
		if _, ok := responses[k]; ok {
			return
		}
		responses[k] = map[string]any{
			"description": desc,
			"content": map[string]any{
				"application/json": map[string]any{
					"schema": map[string]any{"$ref": schemaPrefix + errorSchema},
				},
			},
		}
	}
	if r.Request != nil || hasQuery {
		addError(http.StatusBadRequest, "The request is invalid.")
	}
	if !public {
		addError(http.StatusUnauthorized, "The bearer token is missing or invalid.")
		addError(http.StatusForbidden, "The token's roles do not allow this operation.")
	}
	addError(http.StatusNotFound, "Not found.")
	op["responses"] = responses
	return op
}

func statusText(code int) string {
	if s := http.StatusText(code); s != "" {
		return s
	}
	return "Status " + strconv.Itoa(code)
}

// parameters returns the parameter objects of a route: its path parameters
// in pattern order (declared or not), then its other parameters in
// declaration order; and whether it has query parameters.
func parameters(where string, declared []Param, pathParams []string) ([]any, bool) {
	inPath := map[string]bool{}
	for _, n := range pathParams {
		inPath[n] = true
	}
	byName := map[string]Param{}
	seen := map[string]bool{}
	var rest []Param
	hasQuery := false
	for _, p := range declared {
		in := strings.ToLower(p.In)
		if in == "" {
			in = "query"
		}
		switch in {
		case "path":
			if !inPath[p.Name] {
				panic(fmt.Sprintf("openapi: route %s: path parameter %q is not in the pattern", where, p.Name))
			}
			byName[p.Name] = p
		case "query":
			hasQuery = true
			rest = append(rest, p)
		case "header", "cookie":
			rest = append(rest, p)
		default:
			panic(fmt.Sprintf("openapi: route %s: parameter %q: bad In %q", where, p.Name, p.In))
		}
		if seen[in+" "+p.Name] {
			panic(fmt.Sprintf("openapi: route %s: duplicate %s parameter %q", where, in, p.Name))
		}
		seen[in+" "+p.Name] = true
	}
	var out []any
	for _, n := range pathParams {
		p, ok := byName[n]
		if !ok {
			p = Param{Name: n}
		}
		p.In, p.Required = "path", true
		out = append(out, paramObject(where, p))
	}
	for _, p := range rest {
		if p.In == "" {
			p.In = "query"
		}
		out = append(out, paramObject(where, p))
	}
	return out, hasQuery
}

func paramObject(where string, p Param) map[string]any {
	typ := p.Type
	if typ == "" {
		typ = "string"
	}
	switch typ {
	case "string", "integer", "number", "boolean":
	default:
		panic(fmt.Sprintf("openapi: route %s: parameter %q: bad type %q", where, p.Name, p.Type))
	}
	o := map[string]any{
		"name":     p.Name,
		"in":       strings.ToLower(p.In),
		"required": p.Required,
		"schema":   map[string]any{"type": typ},
	}
	if p.Description != "" {
		o["description"] = p.Description
	}
	return o
}

func (b *builder) responseContent(where string, status int, resp any) map[string]any {
	if resp == nil {
		return nil
	}
	if status == http.StatusNoContent || status == http.StatusNotModified || status < 200 {
		panic(fmt.Sprintf("openapi: route %s: status %d cannot have a body", where, status))
	}
	var raw *Raw
	switch v := resp.(type) {
	case Raw:
		raw = &v
	case *Raw:
		raw = v
	}
	if raw != nil {
		ct := raw.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		s := map[string]any{"type": "string", "format": "binary"}
		if strings.HasPrefix(ct, "text/") {
			s = map[string]any{"type": "string"}
		}
		return map[string]any{ct: map[string]any{"schema": s}}
	}
	t := reflect.TypeOf(resp)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return map[string]any{"application/json": map[string]any{"schema": b.schema(t)}}
}

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
		if f.doc != "" {
			if _, ok := s["$ref"]; ok {
				s = map[string]any{"allOf": []any{s}}
			}
			s["description"] = f.doc
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
