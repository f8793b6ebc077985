package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"twin/plant"

	"twin/twin/mes"
)

// Plant time at the API's edge, in both directions, for every type at
// once (no field can be missed, and a type added later is covered):
//
//   - a response's times are shown in the plant's zone: RFC 3339 with
//     the plant's offset (2026-03-20T16:00:00+08:00), whatever zone a
//     record was stamped or stored in (zoned copies the value, below);
//   - a request's time fields take RFC 3339 with an offset, or plant time
//     without one (2026-03-20T16:00, 2026-03-20T16:00:00, 2026-03-20),
//     read by plant.ParseTime like the query parameters and the plant
//     file (plantTimes rewrites them before the strict decode).

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// hasTimes caches whether a type holds a time.Time (or raw JSON, which
// may) anywhere inside it.
var hasTimes sync.Map // reflect.Type → bool

func holdsTime(t reflect.Type) bool {
	if v, ok := hasTimes.Load(t); ok {
		return v.(bool)
	}
	has := reaches(t, map[reflect.Type]bool{})
	hasTimes.Store(t, has)
	return has
}

// reaches says whether a time.Time or raw JSON can be reached from t; a
// type already on the way (a recursive type) adds nothing.
func reaches(t reflect.Type, on map[reflect.Type]bool) bool {
	if t == timeType || t == rawType {
		return true
	}
	if on[t] {
		return false
	}
	on[t] = true
	defer delete(on, t)
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if reaches(t.Field(i).Type, on) {
				return true
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return reaches(t.Elem(), on)
	case reflect.Interface:
		return true // whatever it holds is looked at
	}
	return false
}

// zoned returns v with every time.Time in it, at any depth, moved to loc
// (the same instants), and every RFC 3339 time in raw JSON (the audit
// log's before and after) likewise. v itself is not changed: handlers may
// return records a cache shares. Zero times stay zero (omitzero omits
// them).
func zoned(v any, loc *time.Location) any {
	if v == nil || loc == nil {
		return v
	}
	rv := reflect.ValueOf(v)
	if !holdsTime(rv.Type()) {
		return v
	}
	return inZone(rv, loc, 0).Interface()
}

func inZone(v reflect.Value, loc *time.Location, depth int) reflect.Value {
	t := v.Type()
	if depth > 100 || !holdsTime(t) {
		return v
	}
	switch {
	case t == timeType:
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return v
		}
		return reflect.ValueOf(tm.In(loc))
	case t == rawType:
		return reflect.ValueOf(json.RawMessage(rawTimes(v.Bytes(), loc)))
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(inZone(v.Elem(), loc, depth+1))
		return p
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(t).Elem()
		out.Set(inZone(v.Elem(), loc, depth+1))
		return out
	case reflect.Struct:
		out := reflect.New(t).Elem()
		out.Set(v)
		for i := range t.NumField() {
			if f := out.Field(i); f.CanSet() && holdsTime(t.Field(i).Type) {
				f.Set(inZone(v.Field(i), loc, depth+1))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(inZone(v.Index(i), loc, depth+1))
		}
		return out
	case reflect.Array:
		out := reflect.New(t).Elem()
		for i := range v.Len() {
			out.Index(i).Set(inZone(v.Index(i), loc, depth+1))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), inZone(it.Value(), loc, depth+1))
		}
		return out
	}
	return v
}

// rfc3339 is a JSON string that is exactly an RFC 3339 time with an offset,
// as encoding/json writes a time.Time.
var rfc3339 = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)"`)

// rawTimes rewrites the times in raw JSON (records as the audit log keeps
// them) to loc. Only strings that are a whole RFC 3339 time are touched.
func rawTimes(b []byte, loc *time.Location) []byte {
	if !rfc3339.Match(b) {
		return b
	}
	return rfc3339.ReplaceAllFunc(b, func(m []byte) []byte {
		t, err := time.Parse(time.RFC3339Nano, string(m[1:len(m)-1]))
		if err != nil || t.IsZero() {
			return m
		}
		return []byte(`"` + t.In(loc).Format(time.RFC3339Nano) + `"`)
	})
}

// plantTimes rewrites, in a request body decoded as generic JSON, every
// string in a time.Time field of the body's type t (at any depth) that is
// plant time without an offset to RFC 3339 with the plant's offset, so
// that the strict decode takes it. A string that is no time at all is
// refused here, naming its field. It reports whether it changed anything.
func plantTimes(v any, t reflect.Type, loc *time.Location, field string) (any, bool, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !holdsTime(t) {
		return v, false, nil
	}
	switch {
	case t == timeType:
		s, ok := v.(string)
		if !ok {
			return v, false, nil // null, or a wrong type the decoder names
		}
		if _, err := time.Parse(time.RFC3339, s); err == nil {
			return v, false, nil // as encoding/json reads it
		}
		tm, err := plant.ParseTime(s, loc)
		if err != nil {
			if field == "" {
				field = "body"
			}
			return v, false, coded400(mes.FieldErr(field, "want a time like 2026-03-20T16:00 (plant time, %s) or RFC 3339 with an offset, got %q", loc, s), "invalid_time")
		}
		out := tm.Format(time.RFC3339Nano)
		return out, out != s, nil
	case t.Kind() == reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return v, false, nil
		}
		changed := false
		for k, x := range m {
			ft, ok := jsonField(t, k)
			if !ok {
				continue // unknown: the decoder says so
			}
			y, c, err := plantTimes(x, ft, loc, fieldPath(field, k))
			if err != nil {
				return v, false, err
			}
			if c {
				m[k], changed = y, true
			}
		}
		return m, changed, nil
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		a, ok := v.([]any)
		if !ok {
			return v, false, nil
		}
		changed := false
		for i, x := range a {
			y, c, err := plantTimes(x, t.Elem(), loc, field)
			if err != nil {
				return v, false, err
			}
			if c {
				a[i], changed = y, true
			}
		}
		return a, changed, nil
	case t.Kind() == reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return v, false, nil
		}
		changed := false
		for k, x := range m {
			y, c, err := plantTimes(x, t.Elem(), loc, fieldPath(field, k))
			if err != nil {
				return v, false, err
			}
			if c {
				m[k], changed = y, true
			}
		}
		return m, changed, nil
	}
	return v, false, nil
}

func fieldPath(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// jsonField finds the type of the field that encoding/json would decode
// the key k into: the exact JSON name first, then one that differs in
// case only; fields of embedded structs are promoted.
func jsonField(t reflect.Type, k string) (reflect.Type, bool) {
	fs := jsonFields(t)
	if ft, ok := fs[k]; ok {
		return ft, true
	}
	for name, ft := range fs {
		if strings.EqualFold(name, k) {
			return ft, true
		}
	}
	return nil, false
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

func jsonFields(t reflect.Type) map[string]reflect.Type {
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		var embedded []reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					embedded = append(embedded, ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, ok := out[name]; !ok {
				out[name] = f.Type
			}
		}
		if depth < 10 {
			for _, e := range embedded {
				walk(e, depth+1)
			}
		}
	}
	walk(t, 0)
	fieldCache.Store(t, out)
	return out
}

// dateString is a JSON string that begins with a date: a body without
// one has no plant time to rewrite.
var dateString = regexp.MustCompile(`"\d{4}-\d\d-\d\d`)

// withPlantTimes is the body b with its plant times rewritten for the type
// of v (a pointer), or b itself when there is nothing to rewrite or b is
// not one JSON value (the strict decode then says what is wrong).
func withPlantTimes(b []byte, v any, loc *time.Location) ([]byte, error) {
	if !dateString.Match(b) {
		return b, nil // the strict decode's error, if any, is named by timeError
	}
	return rewriteTimes(b, v, loc)
}

// timeError is the error naming the field of a time in b that is neither
// RFC 3339 nor plant time, or nil.
func timeError(b []byte, v any, loc *time.Location) error {
	_, err := rewriteTimes(b, v, loc)
	return err
}

func rewriteTimes(b []byte, v any, loc *time.Location) ([]byte, error) {
	t := reflect.TypeOf(v)
	if loc == nil || t == nil || !holdsTime(t) {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil || dec.More() {
		return b, nil
	}
	g, changed, err := plantTimes(g, t, loc, "")
	if err != nil || !changed {
		return b, err
	}
	out, err := json.Marshal(g)
	if err != nil {
		return b, nil
	}
	return out, nil
}
