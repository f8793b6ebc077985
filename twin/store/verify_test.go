package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"twin/plant/event"
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

	// repair: the damaged event, its index entry and the snapshots that
	// are not the fold of what is left go; the history verifies, reads
	// 1,999 events, and its state is their fold
	n, after, err := s.Repair(context.Background(), rep)
	if err != nil || !after.OK() || n < 3 {
		t.Fatalf("repair: %d keys removed, %v; after: %+v", n, err, after)
	}
	if after.Events != len(evs)-1 {
		t.Errorf("after the repair %d events, want %d", after.Events, len(evs)-1)
	}
	last := evs[len(evs)-1].Time
	st, err := s.StateAt(last)
	if err != nil {
		t.Fatal(err)
	}
	rest := append([]event.Event(nil), evs...)
	sortStable(rest)
	rest = rest[1:] // the first in the store's order was the damaged one
	if !bytes.Equal(snap(st), fold(rest, last)) {
		t.Error("after the repair the state is not the fold of the events left")
	}
	t.Logf("repair removed %d keys", n)
}
