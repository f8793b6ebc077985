package recstore

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// writeLog makes an audit log of n changes (some concurrent) and anchors
// it; it returns the anchor file.
func writeLog(t *testing.T, dir string, n int) string {
	anchors := filepath.Join(dir, "anchors")
	s := open(t, filepath.Join(dir, "db"), Options{Anchors: anchors})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Update("u"+strconv.Itoa(i%3), "rec.set", func(t *Tx) error {
				return t.Put("rec", strconv.Itoa(i), nil, map[string]int{"n": i})
			})
			if err != nil {
				t.Error(err)
			}
		})
		if i == n/2 {
			wg.Wait()
			if err := s.Anchor(); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	if err := s.Close(); err != nil { // anchors again
		t.Fatal(err)
	}
	return anchors
}

// onDisk edits the database as someone with the disk would: Badger
// itself, no records code.
func onDisk(t *testing.T, dir string, fn func(txn *badger.Txn) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func entryAt(txn *badger.Txn, seq uint64) (AuditEntry, error) {
	var e AuditEntry
	it, err := txn.Get([]byte(auditKey(seq)))
	if err != nil {
		return e, err
	}
	return e, it.Value(func(b []byte) error { return json.Unmarshal(b, &e) })
}

func putEntry(txn *badger.Txn, key string, e AuditEntry) error {
	b, _ := json.Marshal(e)
	return txn.Set([]byte(key), b)
}

func verify(t *testing.T, dir, anchors string) (*VerifyReport, error) {
	t.Helper()
	as, err := ReadAnchors(anchors)
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, filepath.Join(dir, "db"), Options{})
	defer s.Close()
	return s.Verify(as)
}

// TestAuditChain: the audit log of concurrent changes is one unbroken
// chain, numbered 1, 2, 3 … in commit order, and matches its anchors; an
// entry altered, removed or moved on disk, and a chain rewritten after
// its entries were anchored, are each found at the first entry they
// touch.
func TestAuditChain(t *testing.T) {
	const n = 40
	fresh := func() (string, string) {
		dir := t.TempDir()
		return dir, writeLog(t, dir, n)
	}
	dir, anchors := fresh()
	rep, err := verify(t, dir, anchors)
	if err != nil || rep.Entries != n || rep.Last != n || rep.Anchors != 2 {
		t.Fatalf("an untouched log: %+v, %v", rep, err)
	}
	broken := func(dir, anchors string, seq uint64, what string) {
		t.Helper()
		_, err := verify(t, dir, anchors)
		var b *Broken
		if !errors.As(err, &b) || !errors.Is(err, ErrTampered) || b.Seq != seq || !strings.HasPrefix(b.What, what) {
			t.Errorf("want entry %d %s, got %v", seq, what, err)
		}
	}
	for _, c := range []struct {
		name string
		edit func(txn *badger.Txn) error
		seq  uint64
		what string
	}{
		{"altered", func(txn *badger.Txn) error {
			e, err := entryAt(txn, 7)
			if err != nil {
				return err
			}
			e.User = "nobody"
			return putEntry(txn, auditKey(7), e)
		}, 7, "altered"},
		{"removed", func(txn *badger.Txn) error { return txn.Delete([]byte(auditKey(12))) }, 12, "removed"},
		{"swapped", func(txn *badger.Txn) error {
			a, err := entryAt(txn, 20)
			if err != nil {
				return err
			}
			b, err := entryAt(txn, 21)
			if err != nil {
				return err
			}
			if err := putEntry(txn, auditKey(20), b); err != nil {
				return err
			}
			return putEntry(txn, auditKey(21), a)
		}, 21, "reordered"},
		{"changed", func(txn *badger.Txn) error {
			// what a change did, changed
			e, err := entryAt(txn, 30)
			if err != nil {
				return err
			}
			e.After = json.RawMessage(`{"n":999}`)
			return putEntry(txn, auditKey(30), e)
		}, 30, "altered"},
		{"rewritten", func(txn *badger.Txn) error {
			// the whole chain from entry 5 recomputed after a change: every
			// hash fits, the anchors do not
			prev := ""
			for seq := uint64(1); seq <= n; seq++ {
				e, err := entryAt(txn, seq)
				if err != nil {
					return err
				}
				if seq == 5 {
					e.User = "nobody"
				}
				if e.Hash, err = chain(prev, e); err != nil {
					return err
				}
				prev = e.Hash
				if err := putEntry(txn, auditKey(seq), e); err != nil {
					return err
				}
			}
			return nil
		}, n/2 + 1, "altered: the chain does not match its anchor"}, // the first anchor: after 21 changes,
		{"truncated", func(txn *badger.Txn) error {
			for seq := uint64(n - 3); seq <= n; seq++ {
				if err := txn.Delete([]byte(auditKey(seq))); err != nil {
					return err
				}
			}
			return nil
		}, n - 3, "removed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, anchors := fresh()
			onDisk(t, filepath.Join(dir, "db"), c.edit)
			broken(dir, anchors, c.seq, c.what)
		})
	}
}

// TestChainMigration: a log written before the chain (schema 1: entries
// without links) is chained when it is opened at version 2, and verifies.
func TestChainMigration(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, 10)
	onDisk(t, filepath.Join(dir, "db"), func(txn *badger.Txn) error {
		for seq := uint64(1); seq <= 10; seq++ {
			e, err := entryAt(txn, seq)
			if err != nil {
				return err
			}
			e.Prev, e.Hash = 0, ""
			if err := putEntry(txn, auditKey(seq), e); err != nil {
				return err
			}
		}
		return txn.Delete([]byte(schemaKey))
	})
	if _, err := verify(t, dir, ""); err == nil {
		t.Fatal("a log without links verifies")
	}
	s := open(t, filepath.Join(dir, "db"), Options{Version: 2, Migrations: []Migration{ChainAudit(1)}})
	rep, err := s.Verify(nil)
	s.Close()
	if err != nil || rep.Entries != 10 {
		t.Fatalf("after the migration: %+v %v", rep, err)
	}
}
