package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/twin/mes/recstore"
	"twin/twin/store"
)

// TestVerifyRepair: twin verify names a damaged event record of a
// stopped twin's history and exits 1; with --repair it removes it (and
// what depended on it) and the directory checks.
func TestVerifyRepair(t *testing.T) {
	t.Setenv("TWIN_ADMIN_PASSWORD", "")
	data := t.TempDir()
	// a start that makes the records and stops
	if _, _, code := runCLI(t, "serve", "--plant", "../../testdata/plants/one-station.yaml", "--data", data, "--http", "256.0.0.1:80"); code != 1 {
		t.Fatalf("serve on a bad address: exit %d", code)
	}
	st, err := store.Open(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	for i := range 50 {
		evs = append(evs, event.Event{Time: 1_790_000_000e9 + int64(i)*1e9, Kind: event.Counter, Source: event.Live, Asset: "qijiang/M1", Name: "good", Value: float64(i)})
	}
	if err := st.Append(evs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := badger.Open(badger.DefaultOptions(data).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{'e'}})
		defer it.Close()
		it.Rewind()
		for range 10 {
			it.Next()
		}
		k := it.Item().KeyCopy(nil)
		v, _ := it.Item().ValueCopy(nil)
		v[0] = 9
		return txn.Set(k, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCLI(t, "verify", "--data", data)
	if code != 1 || !strings.Contains(errs, "unreadable record") {
		t.Fatalf("a damaged history: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "verify", "--data", data, "--repair")
	if code != 0 || !strings.Contains(out, "repaired:") || !strings.Contains(out, "everything checks") || !strings.Contains(out, "history: 49 events") {
		t.Fatalf("verify --repair: exit %d\n%s%s", code, out, errs)
	}
}

// TestVerifyRepairRecords: a stopped twin's records in which order
// PO-2 (released: its work orders and operations are indexed under it)
// is cut short on disk. The records API passes over it: the order list
// answers 200 with the others, the order itself 404 saying it is
// damaged (before: 500 for both). twin verify names it; --repair moves
// it to the quarantine with its raw bytes, removes its time index entry
// and keeps its work orders' entries, which verify goes on reporting
// (their order is missing: it is in the quarantine).
func TestVerifyRepairRecords(t *testing.T) {
	t.Setenv("TWIN_ADMIN_PASSWORD", "")
	data := t.TempDir()
	if _, _, code := runCLI(t, "serve", "--plant", "../../testdata/plants/one-station.yaml", "--data", data, "--http", "256.0.0.1:80"); code != 1 {
		t.Fatalf("serve on a bad address: exit %d", code)
	}
	p, err := plant.Load("../../testdata/plants/one-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	recs := filepath.Join(data, "mes")
	db, err := mes.Open(recs, mes.Options{Plant: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser("test", mes.NewUser{Name: "li", Roles: []string{mes.RoleManager}, Password: "li's long password"}); err != nil {
		t.Fatal(err)
	}
	tok, err := db.IssueToken("test", "li", mes.NewToken{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"PO-1", "PO-2", "PO-3"} {
		if _, err := db.CreateOrder("li", mes.NewOrder{ID: id, Customer: "Chongqing Motors", Product: "widget", Quantity: 2, Due: time.Now().Add(48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ReleaseOrder("li", "PO-2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	bdb, err := badger.Open(badger.DefaultOptions(filepath.Join(recs, "db")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	var cut []byte
	err = bdb.Update(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte("order/PO-2"))
		if err != nil {
			return err
		}
		v, _ := it.ValueCopy(nil)
		cut = v[:len(v)/2]
		return txn.Set([]byte("order/PO-2"), cut)
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}

	db, err = mes.Open(recs, mes.Options{Plant: p, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the records with a damaged order do not open: %v", err)
	}
	srv := httptest.NewServer(api.New(db, nil))
	code, body := get(t, srv.URL+"/api/v1/orders", "Authorization", "Bearer "+tok.Token)
	var page struct{ Items []struct{ ID string } }
	json.Unmarshal(body, &page)
	if code != 200 || len(page.Items) != 2 || page.Items[0].ID != "PO-1" || page.Items[1].ID != "PO-3" {
		t.Errorf("GET /api/v1/orders over a damaged order: %d %s, want 200 with PO-1 and PO-3", code, body)
	}
	if code, body := get(t, srv.URL+"/api/v1/orders/PO-2", "Authorization", "Bearer "+tok.Token); code != 404 || !strings.Contains(string(body), "damaged") {
		t.Errorf("GET /api/v1/orders/PO-2, damaged: %d %s, want 404 saying it is damaged", code, body)
	}
	if n := db.Store().Unreadable(); n < 2 {
		t.Errorf("Unreadable %d, want the 2 reads that passed over it", n)
	}
	srv.Close()
	db.Close()

	out, errs, code := runCLI(t, "verify", "--data", data)
	if code != 1 || !strings.Contains(errs, "records: order/PO-2 does not decode") {
		t.Fatalf("verify of damaged records: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "verify", "--data", data, "--repair")
	if code != 1 || !strings.Contains(out, "moved to the quarantine: order/PO-2") || !strings.Contains(out, "indexes rebuilt: 1 entries removed") ||
		strings.Contains(errs, "does not decode") || !strings.Contains(errs, "its order order/PO-2 is missing") {
		t.Fatalf("verify --repair: exit %d\n%s%s", code, out, errs)
	}
	st, err := recstore.Open(filepath.Join(recs, "db"), recstore.Options{ReadOnly: true, Version: mes.SchemaVersion, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var q recstore.Page[recstore.Quarantined]
	st.View(func(tx *recstore.Tx) (err error) {
		q, err = recstore.List[recstore.Quarantined](tx, recstore.QuarantinePrefix, "", 10, nil)
		return err
	})
	if len(q.Items) != 1 || q.Items[0].Key != "order/PO-2" || !bytes.Equal(q.Items[0].Raw, cut) {
		t.Errorf("the quarantine: %+v, want order/PO-2 with its bytes as stored", q.Items)
	}
}
