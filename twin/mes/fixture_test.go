package mes

import (
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"twin/plant"
)

var update = flag.Bool("update", false, "rewrite testdata/records-v2 (only when the schema version is raised: it stands for the release that wrote it)")

// Records of schema version 2 as a release wrote them (testdata/
// records-v2: two orders, one released, their audit chain and its
// anchor, kept as written: the next release must open them) open with
// this build: the orders read as they were, the audit chain verifies
// against its anchor, and new records are taken.
func TestRecordsFixture(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	at := time.Date(2026, 3, 4, 9, 0, 0, 0, p.Location)
	now := func() time.Time { return at }
	fixture := filepath.Join("testdata", "records-v2")
	if *update {
		os.RemoveAll(fixture)
		db, err := Open(fixture, Options{Plant: p, Now: now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []NewOrder{
			{ID: "PO-1", Customer: "重庆水泵", Product: "YE3-100L-4", Quantity: 6, Due: at.Add(48 * time.Hour)},
			{ID: "PO-2", Customer: "Wuhan Fans", Product: "YE3-160M-4", Quantity: 4, Due: at.Add(72 * time.Hour)},
		} {
			if _, err := db.CreateOrder("planner", o); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.ReleaseOrder("planner", "PO-1"); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatalf("copying the fixture: %v", err)
	}
	db, err := Open(dir, Options{Plant: p, Now: now, Logger: quiet})
	if err != nil {
		t.Fatalf("records of schema version 2: %v", err)
	}
	defer db.Close()
	o, err := db.Order("PO-1")
	if err != nil || o.Customer != "重庆水泵" || o.Quantity != 6 || o.Status != "released" {
		t.Fatalf("PO-1 from the fixture: %v %+v", err, o)
	}
	if o, err := db.Order("PO-2"); err != nil || o.Status != "planned" {
		t.Fatalf("PO-2 from the fixture: %v %+v", err, o)
	}
	rep, err := db.VerifyAudit()
	if err != nil || rep.Entries == 0 || rep.Anchors == 0 {
		t.Fatalf("the fixture's audit chain: %v %+v", err, rep)
	}
	if _, err := db.CreateOrder("planner", NewOrder{ID: "PO-3", Customer: "c", Product: "YE3-100L-4", Quantity: 1, Due: at.Add(time.Hour)}); err != nil {
		t.Errorf("a new order in the fixture's records: %v", err)
	}
}
