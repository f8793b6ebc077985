package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"

	"twin/plant/event"
	"twin/twin/state"
)

// A Problem is one thing Verify found wrong: the key (hex), the time in
// it and what is wrong.
type Problem struct {
	Key  string
	Time time.Time // UTC
	What string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s at %s: %s", p.Key, p.Time.Format(time.RFC3339Nano), p.What)
}

// VerifyReport is what Verify read and found.
type VerifyReport struct {
	Events    int // event records read
	Snapshots int // snapshots compared with the fold of their events
	// Base is the time of the oldest snapshot when retention dropped the
	// events before it: the fold starts from it (zero: from the first event).
	Base time.Time
	// Unreadable are event records and snapshots that do not decode.
	Unreadable []Problem
	// Mismatched are snapshots that differ from the fold of their events,
	// and index entries without their event.
	Mismatched []Problem
}

// OK says whether nothing is wrong.
func (r *VerifyReport) OK() bool { return len(r.Unreadable) == 0 && len(r.Mismatched) == 0 }

// Verify reads the whole history in one transaction and checks it: every
// event record decodes, every snapshot equals the fold of the events up
// to its time (from the first event, or from the oldest snapshot when
// retention dropped the events before it), and every per-asset index
// entry has its event. It returns what it found; the error is for a
// history it could not read at all. A snapshot of an older encoding is
// counted as read, not compared (its bytes differ by design).
func (s *Store) Verify(ctx context.Context) (*VerifyReport, error) {
	rep := &VerifyReport{}
	err := s.db.View(func(txn *badger.Txn) error {
		if err := verifySnapshots(ctx, txn, rep); err != nil {
			return err
		}
		return verifyIndex(txn, rep)
	})
	if err != nil {
		return rep, fmt.Errorf("store: verify: %w", err)
	}
	return rep, nil
}

// verifySnapshots folds the events in time order and compares each
// snapshot with the fold of the events up to its time; a first snapshot
// with no event before it (retention dropped them) is the base.
func verifySnapshots(ctx context.Context, txn *badger.Txn, rep *VerifyReport) error {
	evs := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}, PrefetchValues: true, PrefetchSize: 1000})
	defer evs.Close()
	evs.Rewind()
	snaps := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSnap}})
	defer snaps.Close()
	snaps.Rewind()
	f := &verifyFold{ctx: ctx, evs: evs, rep: rep, st: &state.State{}}
	first := true
	for ; snaps.Valid(); snaps.Next() {
		k := snaps.Item().KeyCopy(nil)
		at := keyTime(k)
		v, err := snaps.Item().ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("snapshot %x: %w", k, err)
		}
		var stored state.State
		if err := stored.UnmarshalBinary(v); err != nil {
			rep.Unreadable = append(rep.Unreadable, Problem{fmt.Sprintf("%x", k), time.Unix(0, at).UTC(), "the snapshot does not decode: " + err.Error()})
			continue
		}
		if first {
			first = false
			if !evs.Valid() || keyTime(evs.Item().Key()) >= at {
				// no event before it: retention dropped them, it is the base
				f.st = &stored
				rep.Base = time.Unix(0, at).UTC()
				skipTo(evs, at)
				rep.Snapshots++
				continue
			}
		}
		if err := f.upTo(at); err != nil {
			return err
		}
		rep.Snapshots++
		if len(v) == 0 || v[0] != f.st.AppendBinary(nil)[0] {
			continue // an older encoding
		}
		if want := f.st.AppendBinary(nil); !bytes.Equal(stored.AppendBinary(nil), want) {
			rep.Mismatched = append(rep.Mismatched, Problem{fmt.Sprintf("%x", k), time.Unix(0, at).UTC(),
				fmt.Sprintf("the snapshot differs from the fold of its events (%d events applied in the snapshot, %d in the fold)", stored.Applied, f.st.Applied)})
			// go on from the fold: later snapshots are checked against the events
		}
	}
	return f.upTo(math.MaxInt64)
}

// verifyFold is Verify's fold of the events, in time order, noting those
// that do not decode.
type verifyFold struct {
	ctx context.Context
	evs *badger.Iterator
	rep *VerifyReport
	st  *state.State
	e   event.Event
}

// upTo folds the events with time ≤ t (all of them: MaxInt64).
func (f *verifyFold) upTo(t int64) error {
	for ; f.evs.Valid(); f.evs.Next() {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		k := f.evs.Item().Key()
		at := keyTime(k)
		if at > t {
			return nil
		}
		f.rep.Events++
		err := f.evs.Item().Value(func(v []byte) error { return DecodeEvent(v, &f.e) })
		if err != nil {
			f.rep.Unreadable = append(f.rep.Unreadable, Problem{fmt.Sprintf("%x", k), time.Unix(0, at).UTC(), "the event record does not decode: " + err.Error()})
			continue
		}
		f.e.Time = at
		f.st.Apply(f.e)
	}
	return nil
}

// verifyIndex checks that each entry of the per-asset index has its event.
func verifyIndex(txn *badger.Txn, rep *VerifyReport) error {
	idx := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pAsset}})
	defer idx.Close()
	for idx.Rewind(); idx.Valid(); idx.Next() {
		k := idx.Item().Key()
		n, w := binary.Uvarint(k[1:])
		if w <= 0 || 1+w+int(n)+16 != len(k) {
			rep.Mismatched = append(rep.Mismatched, Problem{fmt.Sprintf("%x", k), time.Time{}, "an asset index key of the wrong shape"})
			continue
		}
		tail := k[1+w+int(n):]
		ek := append([]byte{pEvent}, tail...)
		if _, err := txn.Get(ek); errors.Is(err, badger.ErrKeyNotFound) {
			rep.Mismatched = append(rep.Mismatched, Problem{fmt.Sprintf("%x", k), time.Unix(0, keyTime(ek)).UTC(),
				fmt.Sprintf("the index entry of asset %q has no event (%x)", k[1+w:1+w+int(n)], ek)})
		} else if err != nil {
			return fmt.Errorf("event %x: %w", ek, err)
		}
	}
	return nil
}

// keyTime is the time in an event or snapshot key.
func keyTime(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[1:9]) ^ (1 << 63)) }

// skipTo moves it past the events with time ≤ t (a snapshot at t holds them).
func skipTo(it *badger.Iterator, t int64) {
	for ; it.Valid() && keyTime(it.Item().Key()) <= t; it.Next() {
	}
}

// Repair removes from the history what rep (Verify's) found wrong: event
// records that do not decode (every read passes over them already),
// snapshots that do not decode or differ from the fold of their events
// (StateAt then starts from an older one, or from the events), and index
// entries without their event; then it verifies again and removes the
// index entries the removed events left. It returns how many keys it
// removed and the report of the history as it is now. What it removes
// cannot be read back: keep a copy (twin backup) first.
func (s *Store) Repair(ctx context.Context, rep *VerifyReport) (int, *VerifyReport, error) {
	removed := 0
	for pass := 0; pass < 2 && !rep.OK(); pass++ {
		var keys [][]byte
		for _, p := range append(append([]Problem(nil), rep.Unreadable...), rep.Mismatched...) {
			k, err := hex.DecodeString(p.Key)
			if err != nil || len(k) == 0 {
				return removed, rep, fmt.Errorf("store: repair: the key %q: %v", p.Key, err)
			}
			keys = append(keys, k)
		}
		wb := s.db.NewWriteBatch()
		for _, k := range keys {
			if err := wb.Delete(k); err != nil {
				wb.Cancel()
				return removed, rep, fmt.Errorf("store: repair: %w", err)
			}
		}
		if err := wb.Flush(); err != nil {
			return removed, rep, fmt.Errorf("store: repair: %w", err)
		}
		removed += len(keys)
		s.log.Warn("store: repair removed damaged records", "keys", len(keys))
		var err error
		if rep, err = s.Verify(ctx); err != nil {
			return removed, rep, err
		}
	}
	return removed, rep, nil
}
