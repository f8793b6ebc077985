package mes

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"twin/twin/mes/recstore"
)

// VerifyIndexes finds records whole, then names an index entry whose
// record is missing, a work order without its order's index entry, and
// an audit entry without its x/audit entry.
func TestVerifyIndexes(t *testing.T) {
	st, err := recstore.Open(filepath.Join(t.TempDir(), "db"), recstore.Options{Kinds: kindName, Version: SchemaVersion,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write := func(fn func(*recstore.Tx) error) {
		t.Helper()
		if err := st.Update("li", "test", fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx *recstore.Tx) error {
		if err := tx.Put("order", "PO-1", nil, map[string]string{"id": "PO-1"}); err != nil {
			return err
		}
		if err := tx.Put("wo", "PO-1-A", nil, map[string]string{"id": "PO-1-A", "order": "PO-1"}); err != nil {
			return err
		}
		return tx.Index("order", "PO-1", "wo", "PO-1-A")
	})
	rep, err := VerifyIndexes(st)
	if err != nil || len(rep.Problems) != 0 || rep.Indexes != 3 {
		t.Fatalf("whole records: %+v %v; want 3 index entries (x/order, 2 x/audit), no problem", rep, err)
	}
	write(func(tx *recstore.Tx) error {
		if err := tx.Delete("x/order/PO-1/wo/PO-1-A"); err != nil {
			return err
		}
		if err := tx.Delete("x/audit/order/PO-1/0000000000000001"); err != nil {
			return err
		}
		return tx.Mark("x/order/PO-1/op/PO-1-A-10", nil)
	})
	rep, err = VerifyIndexes(st)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Problems, "\n")
	for _, want := range []string{
		"x/order/PO-1/op/PO-1-A-10: its record op/PO-1-A-10 is missing",
		"wo/PO-1-A: its index entry x/order/PO-1/wo/PO-1-A is missing",
		"aud/0000000000000001 (order PO-1): its index entry x/audit/order/PO-1/0000000000000001 is missing",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems:\n%s\nwant %q", all, want)
		}
	}
	if len(rep.Problems) != 3 {
		t.Errorf("%d problems, want 3:\n%s", len(rep.Problems), all)
	}
}
