package main

import (
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"twin/plant/event"
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
