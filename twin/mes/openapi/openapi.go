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
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
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
	// Errors documents the error responses particular to the route (such
	// as 409 and what it means there), by status code, beside the 400,
	// 401, 403 and 404 every route gets.
	Errors map[int]string
}

// Raw is a Response for a body that is not JSON, such as a CSV file or an
// image.
type Raw struct{ ContentType string }

// Info is the document's info object. Times, when set, says what a
// date-time means (such as the zone of a time written without an offset);
// it describes every date-time schema of the document.
type Info struct{ Title, Version, Description, Times string }

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
	b.times = info.Times
	b.schemas[errorSchema] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"error":      map[string]any{"type": "string", "description": "what went wrong"},
			"field":      map[string]any{"type": "string", "description": "the request field at fault, if one is"},
			"code":       map[string]any{"type": "string", "description": "a stable code for errors a client acts on (e.g. out_of_sequence)"},
			"request_id": map[string]any{"type": "string", "description": "an internal error's name in the server's log (500: what went wrong is there, not in the answer)"},
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
	codes := make([]int, 0, len(r.Errors))
	for code := range r.Errors {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	for _, code := range codes {
		if code < 400 || code > 599 {
			panic(fmt.Sprintf("openapi: route %s: error status %d", where, code))
		}
		addError(code, r.Errors[code])
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
