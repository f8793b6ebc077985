package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"twin/twin/mes"
)

// TestLongStringsRefused: a 1,000,000-character customer name (the old
// code stored it), a long
// item of a list and a long value of a map are refused with a 400 that
// names the field, and nothing is stored.
func TestLongStringsRefused(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	due := r.now().Add(24 * time.Hour)
	long := strings.Repeat("x", 1_000_000) // within the 1 MiB of a body
	var e apiError
	if code := r.do("planner", "POST", "/orders", mes.NewOrder{ID: "PO-1", Customer: long, Product: "YE3-100L-4", Quantity: 2, Due: due}, &e); code != 400 || e.Field != "customer" {
		t.Fatalf("a 1,000,000-character customer: %d %+v, want 400 naming customer", code, e)
	}
	if code := r.do("planner", "GET", "/orders/PO-1", nil, nil); code != 404 {
		t.Fatalf("the refused order: GET answers %d, want 404", code)
	}
	// at the limit it is taken
	r.must("planner", "POST", "/orders", mes.NewOrder{ID: "PO-2", Customer: strings.Repeat("长", 200), Product: "YE3-100L-4", Quantity: 2, Due: due}, nil, 201)

	e = apiError{}
	if code := r.do("admin", "POST", "/users", mes.NewUser{Name: "li", Roles: []string{strings.Repeat("x", 21)}, Password: "blue motor on line two"}, &e); code != 400 || e.Field != "roles[0]" {
		t.Fatalf("a long role: %d %+v, want 400 naming roles[0]", code, e)
	}
	e = apiError{}
	ok := "W1"
	if code := r.do("maintenance", "PATCH", "/equipment/"+ok, mes.EquipmentChange{Specs: map[string]string{"voltage": strings.Repeat("v", 1001)}}, &e); code != 400 || e.Field != "specs.voltage" {
		t.Fatalf("a long spec: %d %+v, want 400 naming specs.voltage", code, e)
	}
}

// TestMaxLengthDocumented: every string of every request body has a
// maxlen tag (the decoder's bound), and the OpenAPI document gives it as
// maxLength.
func TestMaxLengthDocumented(t *testing.T) {
	r := newRig(t, t.TempDir())
	resp, err := http.Get(r.srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, where string) {
		for ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty == reflect.TypeOf(time.Time{}) {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if f.Anonymous && name == "" {
				walk(f.Type, where)
				continue
			}
			inner := f.Type
			for inner.Kind() == reflect.Pointer || inner.Kind() == reflect.Slice || inner.Kind() == reflect.Map {
				inner = inner.Elem()
			}
			if inner.Kind() != reflect.String {
				walk(inner, where+"."+name)
				continue
			}
			tag := f.Tag.Get("maxlen")
			if tag == "" {
				t.Errorf("%s: %s.%s (%s) has no maxlen tag", where, ty.Name(), f.Name, name)
				continue
			}
			p := doc.Components.Schemas[ty.Name()].Properties[name]
			s, _ := json.Marshal(p)
			if !strings.Contains(string(s), `"maxLength":`+tag) {
				t.Errorf("%s: the document's %s.%s is %s, want maxLength %s", where, ty.Name(), name, s, tag)
			}
		}
	}
	for _, rt := range routes() {
		if rt.Request != nil {
			walk(reflect.TypeOf(rt.Request), rt.Method+" "+rt.Path)
		}
	}
}
