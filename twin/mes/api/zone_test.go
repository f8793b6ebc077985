package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"twin/twin/mes/openapi"

	"twin/twin/mes"
)

// fill returns a value of type t with every field set: times at instant,
// raw JSON an object holding that instant in UTC, one element in every
// slice and map, pointers allocated. What a response could carry, every
// field of it.
func fill(t reflect.Type, instant time.Time, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	if depth > 8 {
		return v
	}
	switch {
	case t == timeType:
		v.Set(reflect.ValueOf(instant))
		return v
	case t == rawType:
		v.Set(reflect.ValueOf(json.RawMessage(`{"at":"` + instant.UTC().Format(time.RFC3339Nano) + `","note":"x"}`)))
		return v
	}
	switch t.Kind() {
	case reflect.Pointer:
		v.Set(fill(t.Elem(), instant, depth+1).Addr())
	case reflect.Struct:
		for i := range t.NumField() {
			if f := v.Field(i); f.CanSet() {
				f.Set(fill(t.Field(i).Type, instant, depth+1))
			}
		}
	case reflect.Slice:
		v.Set(reflect.Append(reflect.MakeSlice(t, 0, 1), fill(t.Elem(), instant, depth+1)))
	case reflect.Map:
		v.Set(reflect.MakeMap(t))
		k := reflect.New(t.Key()).Elem()
		if k.Kind() == reflect.String {
			k.SetString("k")
		}
		v.SetMapIndex(k, fill(t.Elem(), instant, depth+1))
	case reflect.String:
		v.SetString("s")
	}
	return v
}

// schemaTimes walks a JSON value along its OpenAPI schema and calls fn
// with the path and value of every date-time in it.
func schemaTimes(t *testing.T, doc map[string]any, schema map[string]any, v any, path string, fn func(path string, s any)) {
	t.Helper()
	for {
		if ref, ok := schema["$ref"].(string); ok {
			schema = doc["components"].(map[string]any)["schemas"].(map[string]any)[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
			continue
		}
		if all, ok := schema["allOf"].([]any); ok && len(all) == 1 {
			schema = all[0].(map[string]any)
			continue
		}
		break
	}
	if schema["format"] == "date-time" {
		fn(path, v)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for k, e := range x {
			if ps, ok := props[k].(map[string]any); ok {
				schemaTimes(t, doc, ps, e, path+"."+k, fn)
			} else if ap, ok := schema["additionalProperties"].(map[string]any); ok {
				schemaTimes(t, doc, ap, e, path+"."+k, fn)
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range x {
				schemaTimes(t, doc, items, e, path+"["+strconv.Itoa(i)+"]", fn)
			}
		}
	}
}

var anyRFC3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// TestResponsesInPlantZone: every route's response, every field of it
// filled with a time stamped in UTC, answers each date-time of its
// OpenAPI schema (and each time inside raw JSON, the audit log's records)
// with the plant's offset.
func TestResponsesInPlantZone(t *testing.T) {
	p := loadPlant(t)
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(p), &doc); err != nil {
		t.Fatal(err)
	}
	instant := time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC) // 16:00 in the plant
	checked := 0
	for _, rt := range routes() {
		if rt.Response == nil {
			continue
		}
		if _, raw := rt.Response.(openapi.Raw); raw || rt.Path == "/api/v1/openapi.json" {
			continue
		}
		name := rt.Method + " " + rt.Path
		v := fill(reflect.TypeOf(rt.Response), instant, 0).Interface()
		b, err := json.Marshal(zoned(v, p.Location))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got any
		json.Unmarshal(b, &got)
		op := doc["paths"].(map[string]any)[rt.Path].(map[string]any)[strings.ToLower(rt.Method)].(map[string]any)
		status := "200"
		if rt.Status != 0 {
			status = strconv.Itoa(rt.Status)
		}
		resp := op["responses"].(map[string]any)[status].(map[string]any)
		schema := resp["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		n := 0
		schemaTimes(t, doc, schema, got, "", func(path string, s any) {
			n++
			if str, _ := s.(string); !strings.HasSuffix(str, "+08:00") || !strings.HasPrefix(str, "2026-03-20T16:00:00") {
				t.Errorf("%s: %s is %v, want 2026-03-20T16:00:00+08:00", name, path, s)
			}
		})
		// and nothing else in the body is a time in another zone (raw JSON)
		for _, m := range anyRFC3339.FindAll(b, -1) {
			if !bytes.HasSuffix(m, []byte("+08:00")) {
				t.Errorf("%s: %s in %s", name, m, b)
			}
		}
		if n > 0 {
			checked++
		}
		// the handler's value is not changed: records may be shared
		if again, _ := json.Marshal(v); !bytes.Contains(again, []byte("2026-03-20T08:00:00Z")) && n > 0 {
			t.Errorf("%s: zoned changed the value it was given: %s", name, again)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d routes' responses hold a time", checked)
	}
}

// TestRequestsTakePlantTime: every time field of every route's request
// body, at any depth, takes plant time without an offset (minutes or
// seconds) as well as RFC 3339 with one, and a time that is neither is
// refused naming its field and the plant's zone.
func TestRequestsTakePlantTime(t *testing.T) {
	p := loadPlant(t)
	want := time.Date(2026, 3, 20, 16, 0, 0, 0, p.Location)
	fields := 0
	for _, rt := range routes() {
		if rt.Request == nil {
			continue
		}
		typ := reflect.TypeOf(rt.Request)
		for _, in := range []string{"2026-03-20T16:00", "2026-03-20T16:00:00", "2026-03-20T08:00:00Z", "2026-03-20T16:00:00+08:00", "2026-03-20 16:00"} {
			body := fill(typ, time.Date(1999, 9, 9, 9, 9, 9, 0, time.UTC), 0).Interface()
			b, _ := json.Marshal(body)
			// every time field, a marker in the filled body, gets the text
			b = bytes.ReplaceAll(b, []byte(`"1999-09-09T09:09:09Z"`), []byte(`"`+in+`"`))
			n := bytes.Count(b, []byte(in))
			v := reflect.New(typ)
			if err := decodeBytes(b, v.Interface(), p.Location); err != nil {
				t.Errorf("%s %s: %s: %v", rt.Method, rt.Path, b, err)
				continue
			}
			// every time of the decoded value is the plant's 16:00
			got := 0
			var walk func(v reflect.Value)
			walk = func(v reflect.Value) {
				switch {
				case v.Type() == timeType:
					got++
					if tm := v.Interface().(time.Time); !tm.Equal(want) {
						t.Errorf("%s %s: %q read as %v, want %v", rt.Method, rt.Path, in, tm, want)
					}
				case v.Kind() == reflect.Pointer && !v.IsNil():
					walk(v.Elem())
				case v.Kind() == reflect.Struct:
					for i := range v.NumField() {
						walk(v.Field(i))
					}
				case v.Kind() == reflect.Slice:
					for i := range v.Len() {
						walk(v.Index(i))
					}
				case v.Kind() == reflect.Map:
					for it := v.MapRange(); it.Next(); {
						walk(it.Value())
					}
				}
			}
			walk(v.Elem())
			if got != n {
				t.Errorf("%s %s: %d times in %s, %d decoded", rt.Method, rt.Path, n, b, got)
			}
			if in == "2026-03-20T16:00" {
				fields += n
			}
			if n > 0 && in == "2026-03-20T16:00" {
				bad := bytes.ReplaceAll(b, []byte(in), []byte("20.3.2026 16:00"))
				err := decodeBytes(bad, reflect.New(typ).Interface(), p.Location)
				var fe *mes.FieldError
				if !errors.As(err, &fe) || fe.Field == "body" || !strings.Contains(fe.Msg, "plant time, Asia/Shanghai") {
					t.Errorf("%s %s: %s: %v, want an error naming the field and the plant's zone", rt.Method, rt.Path, bad, err)
				}
			}
		}
	}
	if fields < 7 {
		t.Fatalf("%d time fields in the request bodies; the records have at least 7", fields)
	}
}

// TestPlantTimeOverHTTP: a records server whose clock runs in UTC (as
// time.Now does on a server set to UTC) takes plant time in bodies and
// query parameters and answers every time of every response with the
// plant's offset (+08:00).
func TestPlantTimeOverHTTP(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.mu.Lock()
	r.clock = r.clock.UTC() // 2026-03-02T00:00:00Z = 08:00 in the plant
	r.mu.Unlock()
	r.users()
	var bodies []string
	call := func(role, method, path, body string, want int) []byte {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, r.srv.URL+"/api/v1"+path, rd)
		req.Header.Set("Authorization", "Bearer "+r.tok[role])
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, resp.StatusCode, b, want)
		}
		bodies = append(bodies, method+" "+path+": "+string(b))
		return b
	}
	// the README's form, and the other plant-time forms, in every body that has a time
	var o mes.Order
	json.Unmarshal(call("planner", "POST", "/orders", `{"id":"SO-7","customer":"Wuhan Pumps","product":"YE3-100L-4","quantity":1,"due":"2026-03-20T16:00"}`, 201), &o)
	if got := o.Due.Format(time.RFC3339); got != "2026-03-20T16:00:00+08:00" {
		t.Fatalf("due 2026-03-20T16:00 is %s, want 16:00 in the plant", got)
	}
	call("planner", "POST", "/orders", `{"id":"SO-8","customer":"c","product":"YE3-100L-4","quantity":1,"due":"2026-03-20T16:00:00"}`, 201)
	call("planner", "POST", "/orders/SO-7/release", "", 200)
	call("planner", "POST", "/lots", `{"id":"L-BR-9","material":"bearing","supplier":"HRB","quantity":10,"received":"2026-03-02T07:30"}`, 201)
	tok := r.db.CardToken("SO-7-YE3-100L-4-pressfit")
	call("supervisor", "POST", "/scan", `{"token":"`+tok+`","station":"PF1","worker":"W-1","at":"2026-03-02T08:10","override":"the rotors are on their way; this test is about the times"}`, 200)
	call("operator", "POST", "/labour/clock", `{"worker":"W-2","operation":"SO-7-YE3-100L-4-pressfit","action":"on","at":"2026-03-02T08:15"}`, 200)
	var lab mes.Labour
	json.Unmarshal(call("operator", "POST", "/labour/clock", `{"worker":"W-2","operation":"SO-7-YE3-100L-4-pressfit","action":"off","at":"2026-03-02T08:40:00"}`, 200), &lab)
	if lab.On.Format(time.RFC3339) != "2026-03-02T08:15:00+08:00" || lab.Off.Format(time.RFC3339) != "2026-03-02T08:40:00+08:00" {
		t.Fatalf("clocked on %s, off %s; want 08:15 and 08:40 plant time", lab.On.Format(time.RFC3339), lab.Off.Format(time.RFC3339))
	}
	call("operator", "POST", "/consumptions", `{"operation":"SO-7-YE3-100L-4-pressfit","lot":"L-BR-9","at":"2026-03-02T08:20"}`, 201)
	call("supervisor", "POST", "/scan", `{"token":"`+tok+`","good":1,"at":"2026-03-02T08:45","override":"the rotors are on their way; this test is about the times"}`, 200)
	var ms []mes.MaintStatus
	json.Unmarshal(call("maintenance", "GET", "/maintenance/plans", "", 200), &ms)
	if len(ms) > 0 {
		call("maintenance", "POST", "/maintenance/completions", `{"plan":"`+ms[0].Plan.ID+`","at":"2026-03-02T08:50"}`, 201)
	}
	r.advance(time.Hour)
	// what the floor did is at the plant times given
	var op mes.Operation
	json.Unmarshal(call("operator", "GET", "/operations/SO-7-YE3-100L-4-pressfit", "", 200), &op)
	if op.StartedAt.Format(time.RFC3339) != "2026-03-02T08:10:00+08:00" || op.ConfirmedAt.Format(time.RFC3339) != "2026-03-02T08:45:00+08:00" {
		t.Fatalf("operation started %s, confirmed %s; want 08:10 and 08:45 plant time", op.StartedAt.Format(time.RFC3339), op.ConfirmedAt.Format(time.RFC3339))
	}
	// query parameters: plant time too, the same parser
	from := "2026-03-02T08:00"
	for _, get := range []struct{ role, path string }{
		{"planner", "/orders?from=" + from}, {"planner", "/orders/SO-7"}, {"manager", "/orders/SO-7/records"},
		{"operator", "/work-orders?order=SO-7"}, {"operator", "/operations?order=SO-7"}, {"operator", "/operations/SO-7-YE3-100L-4-pressfit/card"},
		{"manager", "/labour?from=" + from}, {"manager", "/labour/hours?by=order"}, {"quality", "/lots"}, {"quality", "/lots/L-BR-9/where-used"},
		{"operator", "/units/SO-7-0001"}, {"quality", "/units/SO-7-0001/genealogy"},
		{"maintenance", "/equipment"}, {"maintenance", "/equipment/PF1"}, {"maintenance", "/equipment/PF1/history?from=" + url.QueryEscape("2026-03-02 00:00")},
		{"maintenance", "/maintenance/plans"}, {"maintenance", "/maintenance/completions"},
		{"manager", "/kpis?by=day&from=2026-03-02"}, {"manager", "/kpis?by=station&station=PF1&from=" + from}, {"manager", "/kpis?by=order&order=SO-7"},
		{"admin", "/audit?limit=1000&from=" + from}, {"admin", "/users"}, {"admin", "/me"},
	} {
		call(get.role, "GET", get.path, "", 200)
	}
	n := 0
	for _, b := range bodies {
		for _, m := range anyRFC3339.FindAllString(b, -1) {
			n++
			if !strings.HasSuffix(m, "+08:00") {
				t.Errorf("%s in %.300s", m, b)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d times in %d responses", n, len(bodies))
	}
	// a bad time says what it wants
	b := call("planner", "POST", "/orders", `{"id":"SO-9","customer":"c","product":"YE3-100L-4","quantity":1,"due":"20.3.2026"}`, 400)
	if !bytes.Contains(b, []byte(`"field":"due"`)) || !bytes.Contains(b, []byte("Asia/Shanghai")) {
		t.Fatalf("a bad due date: %s", b)
	}
	b = call("planner", "GET", "/orders?from=yesterday", "", 400)
	if !bytes.Contains(b, []byte(`"field":"from"`)) || !bytes.Contains(b, []byte("Asia/Shanghai")) {
		t.Fatalf("a bad from: %s", b)
	}
	// the document says what a time without an offset is
	var doc map[string]any
	json.Unmarshal(OpenAPI(r.p), &doc)
	if d, _ := doc["info"].(map[string]any)["description"].(string); !strings.Contains(d, "plant time without one") || !strings.Contains(d, "2026-03-20T16:00:00+08:00") {
		t.Fatalf("the OpenAPI description does not say what a time without an offset is: %s", d)
	}
}

// TestDaysOnChangeDays: the records' plant-local days (KPIs by day, the
// labour split at midnight) are calendar days of the plant's zone: 23 h
// on the spring change in Europe/Berlin, 25 h in autumn, not 24 h steps.
func TestDaysOnChangeDays(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	p := loadPlant(t)
	p.Location = berlin
	db, err := mes.Open(t.TempDir(), mes.Options{Plant: p, Logger: quiet, Now: func() time.Time { return time.Date(2026, 11, 2, 0, 0, 0, 0, berlin) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		from, to time.Time
		days     map[string]time.Duration
	}{
		{time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), time.Date(2026, 3, 30, 0, 0, 0, 0, berlin), map[string]time.Duration{"2026-03-28": 24 * time.Hour, "2026-03-29": 23 * time.Hour}},
		{time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), time.Date(2026, 10, 27, 0, 0, 0, 0, berlin), map[string]time.Duration{"2026-10-25": 25 * time.Hour, "2026-10-26": 24 * time.Hour}},
	} {
		ks, err := db.KPIs(mes.KPIQuery{By: "day", From: c.from, To: c.to})
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != len(c.days) {
			t.Fatalf("%d days from %v to %v: %+v", len(ks), c.from, c.to, ks)
		}
		for _, k := range ks {
			if d := k.To.Sub(k.From); d != c.days[k.Key] || k.From.In(berlin).Hour() != 0 {
				t.Errorf("day %s: %v from %v, want %v from midnight", k.Key, d, k.From.In(berlin), c.days[k.Key])
			}
		}
	}
}
