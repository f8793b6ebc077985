package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// TestAuditVerify: twin audit verify on the data directory of a stopped
// twin finds its audit log intact and anchored; after one entry is
// changed on disk (Badger opened directly, as someone with the disk
// would) it names that entry and exits 1.
func TestAuditVerify(t *testing.T) {
	t.Setenv("TWIN_ADMIN_PASSWORD", "")
	data := t.TempDir()
	// a start that makes the records (the ledger, the first account) and stops
	if _, _, code := runCLI(t, "serve", "--plant", "../../testdata/plants/one-station.yaml", "--data", data, "--http", "256.0.0.1:80"); code != 1 {
		t.Fatalf("serve on a bad address: exit %d", code)
	}
	out, errs, code := runCLI(t, "audit", "verify", "--data", data)
	if code != 0 || !strings.Contains(out, "the chain is intact") || !strings.Contains(out, "1 anchors match") {
		t.Fatalf("an untouched log: exit %d\n%s%s", code, out, errs)
	}
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(data, "mes", "db")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte("aud/0000000000000002"))
		if err != nil {
			return err
		}
		var e map[string]any
		if err := it.Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
			return err
		}
		e["user"] = "somebody else"
		b, _ := json.Marshal(e)
		return txn.Set([]byte("aud/0000000000000002"), b)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code = runCLI(t, "audit", "verify", "--data", data)
	if code != 1 || !strings.Contains(errs, "broken at entry 2: altered") || !strings.Contains(errs, "The 1 entries before it hold") {
		t.Fatalf("an altered entry: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "mes", "audit-anchors.jsonl")); err != nil {
		t.Fatal(err)
	}
}
