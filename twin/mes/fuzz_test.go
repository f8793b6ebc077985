package mes

import (
	"encoding/json"
	"errors"
	"testing"
)

// requestTypes are the bodies the API decodes.
var requestTypes = []func() any{
	func() any { return new(NewOrder) }, func() any { return new(Scan) }, func() any { return new(NewLot) },
	func() any { return new(NewConsumption) }, func() any { return new(NewInspection) }, func() any { return new(Disposition) },
	func() any { return new(PlanBody) }, func() any { return new(Clock) }, func() any { return new(EquipmentChange) },
	func() any { return new(NewMaintPlan) }, func() any { return new(NewCompletion) }, func() any { return new(NewUser) },
	func() any { return new(UserChange) }, func() any { return new(NewToken) }, func() any { return new(Login) },
}

// FuzzDecodeRequests feeds every request decoder arbitrary bytes: it
// never panics, a refusal is a field error, and what it accepts encodes
// back to JSON that decodes to the same value.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range []string{`{"id":"SO-1","customer":"c","product":"YE3-100L-4","quantity":3,"due":"2026-03-04T00:00:00+08:00"}`,
		`{"token":"v1.AA.BB","action":"confirm","good":3}`, `{"values":{"a":1.5}}`, `{"quantity":"x"}`, `{"x":1}`, `[1,2]`, `{} {}`, `{"due":"yesterday"}`, ``} {
		for i := range requestTypes {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, b []byte) {
		mk := requestTypes[int(k)%len(requestTypes)]
		v := mk()
		err := decodeBytes(b, v)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("refusal without a field: %v", err)
			}
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", b, err)
		}
		w := mk()
		if err := decodeBytes(out, w); err != nil {
			t.Fatalf("accepted %q, its encoding %s is refused: %v", b, out, err)
		}
		if again, _ := json.Marshal(w); string(again) != string(out) {
			t.Fatalf("round trip changed %s to %s", out, again)
		}
	})
}

// FuzzVerifyToken: nothing but a token the server signed names an
// operation.
func FuzzVerifyToken(f *testing.F) {
	d := &DB{key: []byte("0123456789abcdef0123456789abcdef")}
	good := d.CardToken("SO-1-YE3-100L-4-test")
	f.Add(good)
	f.Add("v1.AA.AA")
	f.Add(good + "x")
	f.Fuzz(func(t *testing.T, tok string) {
		op, err := d.VerifyToken(tok)
		if err != nil {
			return
		}
		if d.CardToken(op) != tok && d.CardToken(op) != tokTrim(tok) {
			t.Fatalf("accepted %q for %q, whose token is %q", tok, op, d.CardToken(op))
		}
	})
}

func tokTrim(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\n' || s[0] == '\t' || s[0] == '\r') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\n' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
