package api

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"twin/twin/mes"
)

// fuzzLoc is the plant zone of the fuzz targets: one with daylight saving.
var fuzzLoc = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// requestTypes are the bodies the API decodes.
var requestTypes = []func() any{
	func() any { return new(mes.NewOrder) }, func() any { return new(mes.Scan) }, func() any { return new(mes.NewLot) },
	func() any { return new(mes.NewConsumption) }, func() any { return new(mes.NewInspection) }, func() any { return new(mes.Disposition) },
	func() any { return new(PlanBody) }, func() any { return new(mes.Clock) }, func() any { return new(mes.EquipmentChange) },
	func() any { return new(mes.NewMaintPlan) }, func() any { return new(mes.NewCompletion) }, func() any { return new(mes.NewUser) },
	func() any { return new(mes.UserChange) }, func() any { return new(mes.NewToken) }, func() any { return new(mes.Login) },
	func() any { return new(mes.SessionLogin) },
}

// FuzzDecodeRequests feeds every request decoder arbitrary bytes: it
// never panics, a refusal is a field error, and what it accepts encodes
// back to JSON that decodes to the same value. Plant time only adds: a
// body the strict RFC 3339 decoder (no plant zone) accepts is accepted
// with the plant's zone too, as the same value (the same instants).
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range []string{`{"id":"SO-1","customer":"c","product":"YE3-100L-4","quantity":3,"due":"2026-03-04T00:00:00+08:00"}`,
		`{"token":"v1.AA.BB","action":"confirm","good":3}`, `{"values":{"a":1.5}}`, `{"quantity":"x"}`, `{"x":1}`, `[1,2]`, `{} {}`, `{"due":"yesterday"}`, ``,
		`{"id":"SO-2","customer":"c","product":"p","quantity":1,"due":"2026-03-20T16:00"}`, `{"due":"2026-03-29T02:30:00"}`, `{"DUE":"2026-10-25T02:30"}`,
		`{"at":"2026-10-25"}`, `{"received":"2026-03-20 16:00:00.5"}`, `{"at":"2026-03-20T16:00","at":"x"}`, `{"at":null}`, `{"at":3}`, `{"at":"2026-03-20T16:00"} 1`,
		`{"name":"li","password":"blue motor on line two"}`, `{"token":"tw_abc"}`, `{"name":"li","password":"x","new_password":"y","token":"z"}`} {
		for i := range requestTypes {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, b []byte) {
		mk := requestTypes[int(k)%len(requestTypes)]
		v := mk()
		err := decodeBytes(b, v, fuzzLoc)
		if strict := mk(); decodeBytes(b, strict, nil) == nil {
			if err != nil {
				t.Fatalf("%q: accepted without a plant zone, refused with one: %v", b, err)
			}
			a, _ := json.Marshal(zoned(strict, time.UTC))
			z, _ := json.Marshal(zoned(v, time.UTC))
			if string(a) != string(z) {
				t.Fatalf("%q: %s without a plant zone, %s with one", b, a, z)
			}
		}
		if err != nil {
			var fe *mes.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("refusal without a field: %v", err)
			}
			if status, e := answer(err); status != 400 || codeOf[e.Code].Status != 400 {
				t.Fatalf("refusal %v answers %d code %q, want 400 with a code of the catalogue", err, status, e.Code)
			}
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", b, err)
		}
		w := mk()
		if err := decodeBytes(out, w, fuzzLoc); err != nil {
			t.Fatalf("accepted %q, its encoding %s is refused: %v", b, out, err)
		}
		if again, _ := json.Marshal(w); string(again) != string(out) {
			t.Fatalf("round trip changed %s to %s", out, again)
		}
	})
}
