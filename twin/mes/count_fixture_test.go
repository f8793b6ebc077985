package mes

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"twin/plant"
)

// TestCountsOnOldRecords: records of schema version 2 written before
// counts were records (testdata/records-v2: operations without reports
// or scrap reasons) take partial confirmations and the final one: the
// new fields start at zero, and each count is a record of its own.
func TestCountsOnOldRecords(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 9, 0, 0, 0, p.Location)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "records-v2"))); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir, Options{Plant: p, Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	op := "PO-1-stator-stamp"
	o, err := db.Operation(op)
	if err != nil || o.Status != OpPending || o.Reports != 0 || o.ScrapReasons != nil {
		t.Fatalf("%s from the fixture: %v %+v", op, err, o)
	}
	n := func(v int) *int { return &v }
	tok := db.CardToken(op)
	for _, s := range []Scan{
		{Token: tok, Action: "start", Station: "PR1"},
		{Token: tok, Action: "report", ScanID: "a", Good: n(2), Scrap: n(1), ScrapReason: "lamination_burr"},
		{Token: tok, Action: "confirm", ScanID: "b", Good: n(3)},
	} {
		if _, err := db.DoScan("op", s); err != nil {
			t.Fatalf("%s %s: %v", s.Action, s.ScanID, err)
		}
	}
	o, _ = db.Operation(op)
	rs, err := db.Records("PO-1")
	if err != nil || o.Good != 5 || o.Scrap != 1 || o.Reports != 1 || len(rs.Counts) != 2 || rs.Counts[0].ScrapReason != "lamination_burr" {
		t.Fatalf("after a report and a confirmation: %v %+v counts %+v", err, o, rs.Counts)
	}
	if _, err := db.VerifyAudit(); err != nil {
		t.Errorf("the audit chain with the counts: %v", err)
	}
}
