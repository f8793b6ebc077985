package openapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

type Audit struct {
	CreatedBy string `json:"created_by"`
	UpdatedBy string `json:"updated_by,omitempty"`
}

type Flags struct {
	Hot bool `json:"hot"` // reached through an embedded pointer: optional
}

type Customer struct {
	Name string `json:"name"`
}

type Dims struct{ W, H int }

type OrderLine struct {
	SKU  string  `json:"sku"`
	Qty  float64 `json:"qty"`
	Size struct {
		W int `json:"w"`
		H int `json:"h,omitempty"`
	} `json:"size"` // anonymous struct: inline
}

type Order struct {
	ID       string            `json:"id" doc:"the ERP's order number"`
	Status   string            `json:"status" enum:"planned,released,done"`
	Priority int               `json:"priority,omitempty" enum:"1, 2, 3"`
	Created  time.Time         `json:"created"`
	Released time.Time         `json:"released,omitzero"`
	Due      *time.Time        `json:"due,omitempty"`
	Lead     time.Duration     `json:"lead_ns"`
	Lines    []OrderLine       `json:"lines"`
	Tags     []string          `json:"tags,omitempty" enum:"a,b"`
	Meta     map[string]string `json:"meta,omitempty"`
	Extra    json.RawMessage   `json:"extra,omitempty"`
	Any      any               `json:"any,omitempty"`
	Blob     []byte            `json:"blob,omitempty"`
	Customer *Customer         `json:"customer,omitempty" doc:"who ordered"`
	Count    int64             `json:"count,string"`
	Audit
	*Flags
	Dims      `json:"dims"` // tagged embedded struct: a named member
	secret    string
	Skip      string `json:"-"`
	NoTagName string
}

// Node is recursive, directly and through a pointer.
type Node struct {
	Name     string `json:"name"`
	Children []Node `json:"children,omitempty"`
	Parent   *Node  `json:"parent,omitempty"`
}

type CreateOrder struct {
	Customer string    `json:"customer"`
	Product  string    `json:"product"`
	Quantity int       `json:"quantity"`
	Due      time.Time `json:"due"`
	Note     string    `json:"note,omitempty"`
}

type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func testRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/orders", Summary: "List orders", Tag: "orders",
			Roles:    []string{"viewer", "planner"},
			Params:   []Param{{Name: "status", In: "query"}, {Name: "limit", In: "query", Type: "integer"}},
			Response: Page[Order]{}},
		{Method: "POST", Path: "/api/v1/orders", Summary: "Create an order", Tag: "orders",
			Roles: []string{"planner"}, Request: CreateOrder{}, Response: Order{}, Status: 201},
		{Method: "GET", Path: "/api/v1/orders/{id}", Tag: "orders", Description: "One order.",
			Roles: []string{"viewer"}, Response: &Order{}},
		{Method: "DELETE", Path: "/api/v1/orders/{id}", Tag: "orders",
			Roles: []string{"admin"}, Status: 204, Errors: map[int]string{409: "The order has started."}},
		{Method: "GET", Path: "/api/v1/orders/{id}/lines/{line}", Tag: "orders",
			Roles:    []string{"viewer"},
			Params:   []Param{{Name: "line", In: "path", Description: "line number", Type: "integer"}},
			Response: OrderLine{}},
		{Method: "GET", Path: "/api/v1/orders.csv", Tag: "export", Roles: []string{"viewer"},
			Response: Raw{ContentType: "text/csv"}},
		{Method: "GET", Path: "/api/v1/chart.png", Tag: "export", Roles: []string{"viewer"},
			Response: Raw{ContentType: "image/png"}},
		{Method: "GET", Path: "/api/v1/bom/{item}/tree", Tag: "bom", Roles: []string{"viewer"},
			Response: []Node{}},
		{Method: "GET", Path: "/api/v1/pages", Roles: []string{"viewer"}, Response: Page[Node]{}},
		// Same words as the next route: operationIds must still differ.
		{Method: "GET", Path: "/api/v1/orders-x", Roles: []string{"viewer"}},
		{Method: "GET", Path: "/api/v1/orders_x", Roles: []string{"viewer"}},
		{Method: "GET", Path: "/healthz", Summary: "Liveness", Response: map[string]string{}},
	}
}

// roundTrip builds the document and returns it as encoding/json reads it
// back, which is what a client sees.
func roundTrip(t *testing.T, routes []Route) map[string]any {
	t.Helper()
	doc := Document(Info{Title: "MES", Version: "1"}, routes)
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

// get follows a path of keys and indices through decoded JSON.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for i, k := range path {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %v", path, path[:i])
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("%v: no %q at %v", path, k, path[:i])
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no index %d at %v", path, k, path[:i])
			}
			v = a[k]
		}
	}
	return v
}

func has(v any, path ...string) bool {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

func strs(t *testing.T, v any) []string {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("%v is not an array", v)
	}
	var out []string
	for _, x := range a {
		out = append(out, x.(string))
	}
	return out
}

func TestDocumentHeader(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	if get(t, doc, "info", "title") != "MES" || get(t, doc, "info", "version") != "1" {
		t.Errorf("info = %v", doc["info"])
	}
	bearer := get(t, doc, "components", "securitySchemes", "bearer")
	if !reflect.DeepEqual(bearer, map[string]any{"type": "http", "scheme": "bearer"}) {
		t.Errorf("bearer = %v", bearer)
	}
	errSchema := get(t, doc, "components", "schemas", "Error")
	if !reflect.DeepEqual(strs(t, get(t, errSchema, "required")), []string{"error"}) {
		t.Errorf("Error.required = %v", get(t, errSchema, "required"))
	}
	for _, p := range []string{"error", "field"} {
		if get(t, errSchema, "properties", p, "type") != "string" {
			t.Errorf("Error.%s is not a string", p)
		}
	}
	var tags []string
	for _, tg := range get(t, doc, "tags").([]any) {
		tags = append(tags, tg.(map[string]any)["name"].(string))
	}
	if !reflect.DeepEqual(tags, []string{"bom", "export", "orders"}) {
		t.Errorf("tags = %v", tags)
	}
}

func TestEveryRouteAppears(t *testing.T) {
	routes := testRoutes()
	doc := roundTrip(t, routes)
	paths := get(t, doc, "paths").(map[string]any)
	n := 0
	for _, item := range paths {
		n += len(item.(map[string]any))
	}
	if n != len(routes) {
		t.Errorf("%d operations, want %d", n, len(routes))
	}
	for _, r := range routes {
		op, ok := get(t, paths, r.Path).(map[string]any)[strings.ToLower(r.Method)].(map[string]any)
		if !ok {
			t.Errorf("%s %s missing", r.Method, r.Path)
			continue
		}
		if r.Summary != "" && op["summary"] != r.Summary {
			t.Errorf("%s %s: summary %v", r.Method, r.Path, op["summary"])
		}
		if r.Tag != "" && !reflect.DeepEqual(op["tags"], []any{r.Tag}) {
			t.Errorf("%s %s: tags %v", r.Method, r.Path, op["tags"])
		}
		status := "200"
		switch r.Status {
		case 201:
			status = "201"
		case 204:
			status = "204"
		}
		resp := get(t, op, "responses", status)
		if (r.Response != nil) != has(resp, "content") {
			t.Errorf("%s %s: response %v for %T", r.Method, r.Path, resp, r.Response)
		}
	}
}

func TestPathParams(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	params := get(t, doc, "paths", "/api/v1/orders/{id}/lines/{line}", "get", "parameters").([]any)
	want := []map[string]any{
		{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}},
		{"name": "line", "in": "path", "required": true, "schema": map[string]any{"type": "integer"}, "description": "line number"},
	}
	if len(params) != len(want) {
		t.Fatalf("parameters = %v", params)
	}
	for i := range want {
		if !reflect.DeepEqual(params[i], any(want[i])) {
			t.Errorf("parameter %d = %v, want %v", i, params[i], want[i])
		}
	}
	params = get(t, doc, "paths", "/api/v1/bom/{item}/tree", "get", "parameters").([]any)
	if len(params) != 1 || get(t, params, 0, "name") != "item" || get(t, params, 0, "in") != "path" {
		t.Errorf("bom parameters = %v", params)
	}
	q := get(t, doc, "paths", "/api/v1/orders", "get", "parameters").([]any)
	if len(q) != 2 || get(t, q, 1, "name") != "limit" || get(t, q, 1, "in") != "query" ||
		get(t, q, 1, "required") != false || get(t, q, 1, "schema", "type") != "integer" {
		t.Errorf("list parameters = %v", q)
	}

	// ServeMux-only syntax becomes plain OpenAPI.
	doc = roundTrip(t, []Route{
		{Method: "GET", Path: "/files/{path...}"},
		{Method: "GET", Path: "/{$}"},
	})
	if !has(doc["paths"], "/files/{path}", "get") || !has(doc["paths"], "/", "get") {
		t.Errorf("paths = %v", doc["paths"])
	}
	if get(t, doc, "paths", "/files/{path}", "get", "parameters", 0, "name") != "path" {
		t.Errorf("rest wildcard not a parameter")
	}
}

func TestRolesAndSecurity(t *testing.T) {
	routes := testRoutes()
	doc := roundTrip(t, routes)
	for _, r := range routes {
		op := get(t, doc, "paths", r.Path, strings.ToLower(r.Method))
		roles := strs(t, get(t, op, "x-roles"))
		if !slices.Equal(roles, r.Roles) {
			t.Errorf("%s %s: x-roles %v, want %v", r.Method, r.Path, roles, r.Roles)
		}
		desc := get(t, op, "description").(string)
		_, secured := op.(map[string]any)["security"]
		_, has401 := get(t, op, "responses").(map[string]any)["401"]
		_, has403 := get(t, op, "responses").(map[string]any)["403"]
		if len(r.Roles) == 0 {
			if !strings.HasSuffix(desc, "Roles: public (no token).") || secured || has401 || has403 {
				t.Errorf("public %s %s: description %q, security %v, 401 %v, 403 %v", r.Method, r.Path, desc, secured, has401, has403)
			}
			continue
		}
		if want := "Roles: " + strings.Join(r.Roles, ", ") + "."; !strings.HasSuffix(desc, want) {
			t.Errorf("%s %s: description %q lacks %q", r.Method, r.Path, desc, want)
		}
		if r.Description != "" && !strings.HasPrefix(desc, r.Description) {
			t.Errorf("%s %s: description %q lost the route's", r.Method, r.Path, desc)
		}
		if !reflect.DeepEqual(get(t, op, "security"), []any{map[string]any{"bearer": []any{}}}) {
			t.Errorf("%s %s: security %v", r.Method, r.Path, get(t, op, "security"))
		}
		if !has401 || !has403 {
			t.Errorf("%s %s: no 401/403", r.Method, r.Path)
		}
	}
}

func TestErrorResponses(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	for _, c := range []struct {
		path, method string
		want         []string
	}{
		{"/api/v1/orders", "get", []string{"200", "400", "401", "403", "404"}},
		{"/api/v1/orders", "post", []string{"201", "400", "401", "403", "404"}},
		{"/api/v1/orders/{id}", "get", []string{"200", "401", "403", "404"}},
		{"/api/v1/orders/{id}", "delete", []string{"204", "401", "403", "404", "409"}},
		{"/healthz", "get", []string{"200", "404"}},
	} {
		resps := get(t, doc, "paths", c.path, c.method, "responses").(map[string]any)
		var got []string
		for k := range resps {
			got = append(got, k)
		}
		sort.Strings(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s: responses %v, want %v", c.method, c.path, got, c.want)
		}
		for _, code := range got[1:] {
			if ref := get(t, resps, code, "content", "application/json", "schema", "$ref"); ref != "#/components/schemas/Error" {
				t.Errorf("%s %s %s: schema %v", c.method, c.path, code, ref)
			}
		}
	}
	if d := get(t, doc, "paths", "/api/v1/orders/{id}", "delete", "responses", "409", "description"); d != "The order has started." {
		t.Errorf("a route's own 409: %v", d)
	}
	req := get(t, doc, "paths", "/api/v1/orders", "post", "requestBody")
	if get(t, req, "required") != true || get(t, req, "content", "application/json", "schema", "$ref") != "#/components/schemas/CreateOrder" {
		t.Errorf("requestBody = %v", req)
	}
}

func TestRawResponses(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	csv := get(t, doc, "paths", "/api/v1/orders.csv", "get", "responses", "200", "content")
	if !reflect.DeepEqual(csv, map[string]any{"text/csv": map[string]any{"schema": map[string]any{"type": "string"}}}) {
		t.Errorf("csv content = %v", csv)
	}
	png := get(t, doc, "paths", "/api/v1/chart.png", "get", "responses", "200", "content")
	if !reflect.DeepEqual(png, map[string]any{"image/png": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}) {
		t.Errorf("png content = %v", png)
	}
	tree := get(t, doc, "paths", "/api/v1/bom/{item}/tree", "get", "responses", "200", "content", "application/json", "schema")
	if get(t, tree, "type") != "array" || get(t, tree, "items", "$ref") != "#/components/schemas/Node" {
		t.Errorf("tree schema = %v", tree)
	}
	health := get(t, doc, "paths", "/healthz", "get", "responses", "200", "content", "application/json", "schema")
	if !reflect.DeepEqual(health, map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}) {
		t.Errorf("healthz schema = %v", health)
	}
	// A pointer response is the object, not a nullable one.
	one := get(t, doc, "paths", "/api/v1/orders/{id}", "get", "responses", "200", "content", "application/json", "schema")
	if !reflect.DeepEqual(one, map[string]any{"$ref": "#/components/schemas/Order"}) {
		t.Errorf("order schema = %v", one)
	}
}

func TestOrderSchema(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	order := get(t, doc, "components", "schemas", "Order")
	required := strs(t, get(t, order, "required"))
	wantRequired := []string{"id", "status", "created", "lead_ns", "lines", "count", "created_by", "dims", "NoTagName"}
	if !slices.Equal(required, wantRequired) {
		t.Errorf("required = %v, want %v", required, wantRequired)
	}
	props := get(t, order, "properties").(map[string]any)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	wantNames := []string{"NoTagName", "any", "blob", "count", "created", "created_by", "customer", "dims", "due",
		"extra", "hot", "id", "lead_ns", "lines", "meta", "priority", "released", "status", "tags", "updated_by"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("properties = %v, want %v", names, wantNames)
	}
	for name, want := range map[string]any{
		"id":       map[string]any{"type": "string", "description": "the ERP's order number"},
		"status":   map[string]any{"type": "string", "enum": []any{"planned", "released", "done"}},
		"priority": map[string]any{"type": "integer", "format": "int64", "enum": []any{1.0, 2.0, 3.0}},
		"created":  map[string]any{"type": "string", "format": "date-time"},
		"due":      map[string]any{"type": "string", "format": "date-time", "nullable": true},
		"lead_ns":  map[string]any{"type": "integer", "format": "int64", "description": "nanoseconds"},
		"lines":    map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/OrderLine"}},
		"tags":     map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []any{"a", "b"}}},
		"meta":     map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		"extra":    map[string]any{},
		"any":      map[string]any{},
		"blob":     map[string]any{"type": "string", "format": "byte"},
		"customer": map[string]any{"allOf": []any{map[string]any{"$ref": "#/components/schemas/Customer"}}, "nullable": true, "description": "who ordered"},
		"count":    map[string]any{"type": "string"},
		"hot":      map[string]any{"type": "boolean"},
		"dims":     map[string]any{"$ref": "#/components/schemas/Dims"},
	} {
		if got := props[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	line := get(t, doc, "components", "schemas", "OrderLine")
	size := get(t, line, "properties", "size")
	if get(t, size, "type") != "object" || !slices.Equal(strs(t, get(t, size, "required")), []string{"w"}) {
		t.Errorf("inline size = %v", size)
	}
	create := get(t, doc, "components", "schemas", "CreateOrder")
	if got := strs(t, get(t, create, "required")); !slices.Equal(got, []string{"customer", "product", "quantity", "due"}) {
		t.Errorf("CreateOrder.required = %v", got)
	}
}

func TestRecursiveAndGeneric(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	node := get(t, doc, "components", "schemas", "Node")
	if get(t, node, "properties", "children", "items", "$ref") != "#/components/schemas/Node" {
		t.Errorf("children = %v", get(t, node, "properties", "children"))
	}
	if get(t, node, "properties", "parent", "allOf", 0, "$ref") != "#/components/schemas/Node" ||
		get(t, node, "properties", "parent", "nullable") != true {
		t.Errorf("parent = %v", get(t, node, "properties", "parent"))
	}
	for name, item := range map[string]string{"Page_Order": "Order", "Page_Node": "Node"} {
		if get(t, doc, "components", "schemas", name, "properties", "items", "items", "$ref") != "#/components/schemas/"+item {
			t.Errorf("%s = %v", name, get(t, doc, "components", "schemas", name))
		}
	}
}

// walkRefs calls fn with every "$ref" value in v and where it is.
func walkRefs(v any, at string, fn func(ref, at string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "$ref" {
				fn(x.(string), at)
				continue
			}
			walkRefs(x, at+"/"+k, fn)
		}
	case []any:
		for _, x := range v {
			walkRefs(x, at+"/[]", fn)
		}
	}
}

func TestRefsResolve(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	n := 0
	walkRefs(doc, "", func(ref, at string) {
		n++
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok {
			t.Errorf("%s: foreign $ref %q", at, ref)
			return
		}
		s, ok := get(t, doc, "components", "schemas").(map[string]any)[name].(map[string]any)
		if !ok || s["type"] != "object" {
			t.Errorf("%s: $ref %q does not resolve to an object schema", at, ref)
		}
	})
	if n < 20 {
		t.Errorf("only %d $refs found", n)
	}
	// Only types that were met are in the components.
	var names []string
	for k := range get(t, doc, "components", "schemas").(map[string]any) {
		names = append(names, k)
	}
	sort.Strings(names)
	want := []string{"CreateOrder", "Customer", "Dims", "Error", "Node", "Order", "OrderLine", "Page_Node", "Page_Order"}
	if !slices.Equal(names, want) {
		t.Errorf("schemas = %v, want %v", names, want)
	}
}

func TestOperationIDs(t *testing.T) {
	doc := roundTrip(t, testRoutes())
	seen := map[string]string{}
	for path, item := range get(t, doc, "paths").(map[string]any) {
		for method, op := range item.(map[string]any) {
			id, _ := op.(map[string]any)["operationId"].(string)
			if id == "" {
				t.Errorf("%s %s: no operationId", method, path)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("operationId %q of %s %s and %s", id, method, path, prev)
			}
			seen[id] = method + " " + path
		}
	}
	for id, where := range map[string]string{
		"getApiV1OrdersId":          "get /api/v1/orders/{id}",
		"deleteApiV1OrdersId":       "delete /api/v1/orders/{id}",
		"getApiV1OrdersIdLinesLine": "get /api/v1/orders/{id}/lines/{line}",
		"getHealthz":                "get /healthz",
		"getApiV1OrdersX":           "get /api/v1/orders-x",
		"getApiV1OrdersX2":          "get /api/v1/orders_x",
	} {
		if seen[id] != where {
			t.Errorf("operationId %q is %q, want %q", id, seen[id], where)
		}
	}
}

func TestSameNameDifferentTypes(t *testing.T) {
	type Customer struct {
		Local string `json:"local"`
	}
	type Both struct {
		A Customer      `json:"a"`
		B outerCustomer `json:"b"`
	}
	components := map[string]any{}
	s := Schema(reflect.TypeFor[Both](), components)
	schemas := components["schemas"].(map[string]any)
	both := schemas["Both"].(map[string]any)["properties"].(map[string]any)
	ra := both["a"].(map[string]any)["$ref"]
	rb := both["b"].(map[string]any)["$ref"]
	if ra == rb || ra == nil || rb == nil {
		t.Fatalf("refs %v and %v", ra, rb)
	}
	// The second type met gets its package's name as a prefix.
	refs := []any{ra, rb}
	if !slices.Contains(refs, "#/components/schemas/Customer") || !slices.Contains(refs, "#/components/schemas/OpenapiCustomer") {
		t.Errorf("refs %v", refs)
	}
	if s["$ref"] != "#/components/schemas/Both" {
		t.Errorf("Schema = %v", s)
	}
	// A later call with the same components reuses the schemas.
	Schema(reflect.TypeFor[Both](), components)
	if len(schemas) != 3 {
		t.Errorf("schemas = %v", schemas)
	}
}

type outerCustomer = Customer

func TestEmbeddingConflicts(t *testing.T) {
	type A struct {
		X string
		Y string
	}
	type B struct {
		X string
		Y string `json:"Y"`
	}
	type C struct {
		A
		B
		Z string
	}
	components := map[string]any{}
	Schema(reflect.TypeFor[C](), components)
	props := components["schemas"].(map[string]any)["C"].(map[string]any)["properties"].(map[string]any)
	// X is ambiguous (dropped, like encoding/json); Y is tagged only in B.
	if _, ok := props["X"]; ok {
		t.Errorf("ambiguous X kept: %v", props)
	}
	if len(props) != 2 || props["Y"] == nil || props["Z"] == nil {
		t.Errorf("properties = %v", props)
	}
}

func TestPanics(t *testing.T) {
	for name, routes := range map[string][]Route{
		"duplicate":          {{Method: "GET", Path: "/a"}, {Method: "get", Path: "/a"}},
		"path param missing": {{Method: "GET", Path: "/a/{id}", Params: []Param{{Name: "idx", In: "path"}}}},
		"bad param type":     {{Method: "GET", Path: "/a", Params: []Param{{Name: "q", In: "query", Type: "date"}}}},
		"bad method":         {{Method: "CONNECT", Path: "/a"}},
		"bad enum": {{Method: "GET", Path: "/a", Response: struct {
			N int `enum:"1,x"`
		}{}}},
		"body on 204": {{Method: "DELETE", Path: "/a", Status: 204, Response: Order{}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			Document(Info{}, routes)
		}()
	}
}

// TestMatchesEncodingJSON checks the schemas' property names against the
// keys encoding/json writes for fully populated values.
func TestMatchesEncodingJSON(t *testing.T) {
	now := time.Now()
	order := Order{Due: &now, Tags: []string{"a"}, Meta: map[string]string{"k": "v"}, Extra: json.RawMessage(`1`),
		Any: 1, Blob: []byte{1}, Customer: &Customer{}, Priority: 1, Released: now, Flags: &Flags{},
		Audit: Audit{UpdatedBy: "u"}}
	for _, v := range []any{order, OrderLine{}, Node{Children: []Node{{}}, Parent: &Node{}}} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		components := map[string]any{}
		Schema(reflect.TypeOf(v), components)
		name := reflect.TypeOf(v).Name()
		props := components["schemas"].(map[string]any)[name].(map[string]any)["properties"].(map[string]any)
		var got, want []string
		for k := range props {
			got = append(got, k)
		}
		for k := range m {
			want = append(want, k)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: properties %v, encoding/json keys %v", name, got, want)
		}
	}
}
