package mes_test

import (
	"log/slog"
	"testing"
	"time"

	"twin/plant"
	"twin/twin/mes"
)

// TestScanStats: each scan counts once, by its outcome, as the records
// answered it: a start, a start again (a duplicate), a confirmation, a
// retried delivery of it (a duplicate by its scan id), a forged card
// (refused).
func TestScanStats(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := mes.Open(t.TempDir(), mes.Options{Plant: p, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateOrder("planner", mes.NewOrder{ID: "S-1", Customer: "c", Product: "YE3-100L-4", Quantity: 1, Due: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReleaseOrder("planner", "S-1"); err != nil {
		t.Fatal(err)
	}
	op := "S-1-stator-stamp"
	scan := func(s mes.Scan) error {
		s.Station, s.Worker = "PR1", "W-1"
		_, err := db.DoScan("op", s)
		return err
	}
	steps := []struct {
		scan    mes.Scan
		refused bool
		want    mes.Stats
	}{
		{mes.Scan{Token: db.CardToken(op), Action: "start"}, false, mes.Stats{Started: 1}},
		{mes.Scan{Token: db.CardToken(op), Action: "start"}, false, mes.Stats{Started: 1, Duplicates: 1}},
		{mes.Scan{Token: db.CardToken(op), Action: "confirm", ScanID: "t1-0001"}, false, mes.Stats{Started: 1, Confirmed: 1, Duplicates: 1}},
		{mes.Scan{Token: db.CardToken(op), Action: "confirm", ScanID: "t1-0001"}, false, mes.Stats{Started: 1, Confirmed: 1, Duplicates: 2}},
		{mes.Scan{Token: db.CardToken(op) + "x", Action: "confirm"}, true, mes.Stats{Started: 1, Confirmed: 1, Duplicates: 2, Refused: 1}},
	}
	for i, s := range steps {
		if err := scan(s.scan); (err != nil) != s.refused {
			t.Fatalf("scan %d: %v, refused %v", i, err, s.refused)
		}
		if got := db.Stats(); got != s.want {
			t.Fatalf("after scan %d: %+v, want %+v", i, got, s.want)
		}
	}
	if db.Closed() {
		t.Fatal("open records say they are closed")
	}
	db.Close()
	if !db.Closed() {
		t.Fatal("closed records do not say so")
	}
}
