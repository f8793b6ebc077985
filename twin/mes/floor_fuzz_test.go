package mes

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"twin/plant"
)

// FuzzLookUpCard: whatever text a camera or a keyboard wedge delivers,
// the card look-up answers a card of this plant's records or refuses it
// with card_invalid (400) or card_unknown (404), never another error.
func FuzzLookUpCard(f *testing.F) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, p.Location)
	db, err := Open(f.TempDir(), Options{Plant: p, Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if _, err := db.CreateOrder("planner", NewOrder{ID: "PO-1", Customer: "c", Product: "YE3-100L-4", Quantity: 2, Due: at.Add(time.Hour)}); err != nil {
		f.Fatal(err)
	}
	if _, err := db.ReleaseOrder("planner", "PO-1"); err != nil {
		f.Fatal(err)
	}
	good := db.CardToken("PO-1-stator-wind")
	for _, s := range []string{good, " " + good + "\r\n", db.CardToken("PO-9-nothing"), "twin:station:W2", "v1..", "v1.@.x", "", "v2.a.b", good + "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		v, err := db.LookUpCard(tok)
		if err == nil {
			if v == nil || v.Operation.ID == "" || db.CardToken(v.Operation.ID) != tokTrim(tok) {
				t.Fatalf("%q: answered %+v", tok, v)
			}
			return
		}
		var c *CodedError
		if !errors.As(err, &c) || c.Code() != CodeCardInvalid && c.Code() != CodeCardUnknown {
			t.Fatalf("%q: %v, want card_invalid or card_unknown", tok, err)
		}
		var fe *FieldError
		if c.Code() == CodeCardInvalid && !errors.As(err, &fe) || c.Code() == CodeCardUnknown && !errors.Is(err, ErrNotFound) {
			t.Fatalf("%q: %v: card_invalid is a field error (400), card_unknown not found (404)", tok, err)
		}
	})
}
