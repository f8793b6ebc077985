package store

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"twin/twin/state"
)

// Verify finds a history whole, then names a snapshot that no longer
// equals the fold of its events and an event record that does not decode.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{SnapshotEvery: 300})
	evs := events(5, 2000, 1_700_000_000e9)
	for i := 0; i < len(evs); i += 100 {
		if err := s.Append(evs[i : i+100]); err != nil {
			t.Fatal(err)
		}
	}
	s.waitSnapshots()
	rep, err := s.Verify(context.Background())
	if err != nil || !rep.OK() || rep.Events != len(evs) || rep.Snapshots == 0 {
		t.Fatalf("a whole history: %+v, %v; want %d events, some snapshots, nothing wrong", rep, err, len(evs))
	}
	s.Close()

	var snapKey, evKey []byte
	onDisk(t, dir, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSnap}})
		defer it.Close()
		it.Rewind()
		it.Next() // the second snapshot: the first one is checked against the events too
		snapKey = it.Item().KeyCopy(nil)
		v, _ := it.Item().ValueCopy(nil)
		var st state.State
		if err := st.UnmarshalBinary(v); err != nil {
			return err
		}
		st.Applied += 7 // a state that decodes but is not the fold
		if err := txn.Set(snapKey, st.AppendBinary(nil)); err != nil {
			return err
		}
		it2 := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}})
		defer it2.Close()
		it2.Rewind()
		evKey = it2.Item().KeyCopy(nil)
		v, _ = it2.Item().ValueCopy(nil)
		v[0] = 9
		return txn.Set(evKey, v)
	})
	s = open(t, dir, Options{SnapshotEvery: -1})
	defer s.Close()
	rep, err = s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unreadable) != 1 || rep.Unreadable[0].Key != fmt.Sprintf("%x", evKey) || !strings.Contains(rep.Unreadable[0].What, "does not decode") {
		t.Errorf("unreadable: %v; want the damaged event %x", rep.Unreadable, evKey)
	}
	var saw bool
	for _, p := range rep.Mismatched {
		saw = saw || p.Key == fmt.Sprintf("%x", snapKey)
	}
	if !saw {
		t.Errorf("mismatched: %v; want the altered snapshot %x", rep.Mismatched, snapKey)
	}
}
