package recstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

type note struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// damageOnDisk flips the first byte of the value stored under key in
// dir's value log files (Badger keeps a key with its 8-byte version in
// front of the value), as a copy cut short or a bad sector leaves a
// record. The value must be in a value log file other than the last one
// (Badger checks the last one when it opens and cuts it at a bad entry).
func damageOnDisk(t *testing.T, dir, key string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, []byte(key))
		if i < 0 || i+len(key)+8 >= len(b) || b[i+len(key)+8] != '{' {
			continue
		}
		b[i+len(key)+8] = '#'
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s: no value of %s found in the value log", dir, key)
}

// TestDamagedRecords: a real Badger directory whose record rec/r0002 and
// its audit entry are damaged on disk (a byte of each changed in the
// value log). Reads pass over them and count them (a list without it,
// Get finds nothing, Must says damaged), a change that reads it is
// refused; Repair moves both to the quarantine with their raw bytes; the
// audit chain's break at the moved entry is reported after the repair,
// and a change after the repair is numbered after it. Before, the list
// and Get answered a decoding error (the API's 500).
func TestDamagedRecords(t *testing.T) {
	dir := t.TempDir()
	defer func(t func(badger.Options) badger.Options) { Tune = t }(Tune)
	Tune = func(o badger.Options) badger.Options { return o.WithValueLogFileSize(1 << 20) }
	s := open(t, dir, Options{})
	long := strings.Repeat("stator winding ", 30) // > 256 bytes: in the value log
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("r%04d", i)
		if err := s.Update("alice", "rec.create", func(t *Tx) error { return t.Put("rec", id, nil, note{id, long}) }); err != nil {
			t.Fatal(err)
		}
	}
	// more than a value log file of others after them
	for i := 4; i <= 3000; i += 100 {
		err := s.Update("alice", "rec.create", func(t *Tx) error {
			for j := i; j < i+100; j++ {
				id := fmt.Sprintf("r%04d", j)
				if err := t.Put("rec", id, nil, note{id, long}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	damageOnDisk(t, dir, "rec/r0002")
	damageOnDisk(t, dir, auditKey(2))

	s = open(t, dir, Options{})
	var page Page[note]
	err := s.View(func(t *Tx) (err error) { page, err = List[note](t, "rec/", "", 5, nil); return err })
	if err != nil {
		t.Fatalf("a list over a damaged record: %v", err)
	}
	if len(page.Items) != 5 || page.Items[0].ID != "r0001" || page.Items[1].ID != "r0003" {
		t.Errorf("the list: %d items from %v, want 5 from r0001 passing over r0002", len(page.Items), page.Items[0].ID)
	}
	var n note
	err = s.View(func(t *Tx) error {
		if ok, err := t.Get("rec/r0002", &n); ok || err != nil {
			return fmt.Errorf("Get of the damaged record: %v, %v", ok, err)
		}
		return t.Must("rec", "r0002", &n)
	})
	if !errors.Is(err, ErrDamaged) || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "rec/r0002") {
		t.Errorf("Must of the damaged record: %v, want ErrDamaged (and ErrNotFound) naming it", err)
	}
	err = s.Update("bob", "rec.change", func(t *Tx) error {
		var old note
		if _, err := t.Get("rec/r0002", &old); err != nil {
			return err
		}
		return t.Put("rec", "r0002", old, note{"r0002", "overwritten"})
	})
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("a change that reads the damaged record: %v, want ErrDamaged", err)
	}
	if got := s.Unreadable(); got < 3 {
		t.Errorf("Unreadable %d, want at least the 3 reads that met it", got)
	}
	if _, err := s.Verify(nil); !errors.Is(err, ErrTampered) {
		t.Errorf("Verify of a chain with a damaged entry: %v", err)
	}

	rep, err := s.Repair()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Moved) != 2 || rep.Moved[0].Key != auditKey(2) || rep.Moved[1].Key != "rec/r0002" {
		t.Fatalf("Repair moved %+v, want %s and rec/r0002", rep.Moved, auditKey(2))
	}
	var q []Quarantined
	err = s.View(func(t *Tx) (err error) {
		p, err := List[Quarantined](t, QuarantinePrefix, "", 10, nil)
		q = p.Items
		return err
	})
	if err != nil || len(q) != 2 {
		t.Fatalf("the quarantine: %+v, %v", q, err)
	}
	for _, e := range q {
		if !bytes.HasPrefix(e.Raw, []byte("#")) || !bytes.Contains(e.Raw, []byte("stator winding")) {
			t.Errorf("quarantined %s: raw %.40q…, want the damaged bytes as stored", e.Key, e.Raw)
		}
	}
	before := s.Unreadable()
	err = s.View(func(t *Tx) (err error) { page, err = List[note](t, "rec/", "", 5, nil); return err })
	if err != nil || s.Unreadable() != before || page.Items[1].ID != "r0003" {
		t.Errorf("after the repair: %v, unreadable %d → %d", err, before, s.Unreadable())
	}
	var broken *Broken
	if _, err := s.Verify(nil); !errors.As(err, &broken) || broken.Seq != 2 || !strings.Contains(broken.What, "removed") {
		t.Errorf("Verify after the repair: %v, want the break at entry 2 (removed)", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// the last entry damaged (here through the database itself), moved
	// aside: the next change is numbered after it, and the break stays
	s = open(t, dir, Options{})
	defer s.Close()
	last := s.head.Seq
	if err := s.Bulk(func(set func(string, []byte) error) error { return set(auditKey(last), []byte(`{"seq":`)) }); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Repair(); err != nil || len(rep.Moved) != 1 {
		t.Fatalf("Repair of the last entry: %+v, %v", rep, err)
	}
	s.Close()
	s = open(t, dir, Options{})
	if err := s.Update("alice", "rec.create", func(t *Tx) error { return t.Put("rec", "after", nil, note{"after", "x"}) }); err != nil {
		t.Fatal(err)
	}
	var a []AuditEntry
	s.View(func(t *Tx) (err error) { a, err = t.AuditOf("rec", "after"); return err })
	if len(a) != 1 || a[0].Seq != last+1 || a[0].Prev != last {
		t.Errorf("the entry after the repair: %+v, want number %d after %d (the quarantined one)", a, last+1, last)
	}
	if _, err := s.Verify(nil); !errors.As(err, &broken) || broken.Seq != 2 {
		t.Errorf("Verify: %v, want the break at entry 2 still reported", err)
	}
}
