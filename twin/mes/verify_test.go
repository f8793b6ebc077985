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

// RepairIndexes, after recstore's Repair moved a damaged work order to
// the quarantine: the index entries without their record are removed,
// the missing ones written, the order's entry of a record whose order is
// missing kept (and still reported); the indexes check then.
func TestRepairIndexes(t *testing.T) {
	st, err := recstore.Open(filepath.Join(t.TempDir(), "db"), recstore.Options{Kinds: kindName, Version: SchemaVersion,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update("li", "test", func(tx *recstore.Tx) error {
		for _, r := range []struct{ kind, id, order string }{{"order", "PO-1", ""}, {"wo", "PO-1-A", "PO-1"}, {"wo", "PO-1-B", "PO-1"}, {"wo", "PO-2-A", "PO-2"}} {
			if err := tx.Put(r.kind, r.id, nil, map[string]string{"id": r.id, "order": r.order}); err != nil {
				return err
			}
			if err := tx.Index("order", r.order, r.kind, r.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = st.Update("li", "test", func(tx *recstore.Tx) error { return tx.Delete("x/audit/order/PO-1/0000000000000001") })
	}
	if err != nil {
		t.Fatal(err)
	}
	// wo/PO-1-B cut short on disk, as a copy of a live directory leaves it
	if err := st.Bulk(func(set func(string, []byte) error) error { return set("wo/PO-1-B", []byte(`{"id":"PO-1-B","ord`)) }); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyIndexes(st)
	if err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(rep.Problems, "\n"); !strings.Contains(all, "wo/PO-1-B: does not decode") {
		t.Errorf("before the repair:\n%s\nwant wo/PO-1-B named as not decoding", all)
	}
	if r, err := st.Repair(); err != nil || len(r.Moved) != 1 || r.Moved[0].Key != "wo/PO-1-B" {
		t.Fatalf("Repair: %+v, %v", r, err)
	}
	fx, err := RepairIndexes(st)
	if err != nil {
		t.Fatal(err)
	}
	// removed: x/order/PO-1/wo/PO-1-B; written: x/audit/order/PO-1/1
	if fx.Removed != 1 || fx.Added != 1 {
		t.Errorf("fixes %+v, want 1 removed, 1 written", fx)
	}
	rep, err = VerifyIndexes(st)
	if err != nil {
		t.Fatal(err)
	}
	// PO-2 was never entered: its work order's entry stays, and says so
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "x/order/PO-2/wo/PO-2-A: its order order/PO-2 is missing") {
		t.Errorf("after the repair: %q, want only PO-2's missing order", rep.Problems)
	}
}
