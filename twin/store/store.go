// Package store keeps the twin's history: every event, in time order, in
// an embedded Badger database on local disk, with a per-asset index and
// periodic snapshots of the state so that any instant can be reconstructed
// quickly (StateAt) and any span replayed (Range, Replay).
//
// Durability: Append returns only after its events are on disk (Badger
// with synchronous writes: the value log is fsync'd before the commit is
// acknowledged). An event whose Append returned nil survives kill -9 and a
// power cut. The twin acknowledges a message to its source (an MQTT
// PUBACK) only after that, so an acknowledged observation is never lost.
//
// Keys (all big-endian, so that Badger's order is time order):
//
//	e | time | seq                 → event (kind, quality, source, asset, name, ref, value)
//	a | len(asset) asset | time | seq → (empty)      per-asset index
//	s | time                        → snapshot: state of every event with time ≤ that time
//	m seq                           → the last sequence number used
//
// time is the event's Unix nanoseconds with the sign bit flipped; seq is a
// store-wide arrival counter that orders events of equal time by arrival
// and survives restarts. Events may arrive out of time order (a slow
// connector): they are stored where their time puts them, and snapshots
// taken after their time are discarded, so StateAt stays exact.
package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"twin/plant/event"
	"twin/twin/state"
)

// Options configure a store.
type Options struct {
	// SnapshotEvery takes a snapshot after this many appended events
	// (20,000 by default: a seek then folds at most that many; negative:
	// never).
	SnapshotEvery int
	// Retention drops events older than this behind Now (checked after
	// each snapshot); 0 keeps everything. It is measured from the clock,
	// not from the newest event: one event stamped in 2100 would
	// otherwise make the next pass delete the whole history.
	Retention time.Duration
	// Now is the clock retention is measured from (default time.Now; the
	// twin gives its receive clock).
	Now func() time.Time
	// NoSync makes appends return before the disk has them (tests and
	// bulk imports only: it breaks the durability promise).
	NoSync bool
	Logger *slog.Logger
}

// Store is an open history.
type Store struct {
	db  *badger.DB
	opt Options
	log *slog.Logger

	mu        sync.Mutex // serialises appends
	seq       uint64
	newest    int64 // newest event time
	sinceSnap int
	lowWater  int64      // the oldest event time appended since the last reset (see Snapshot)
	snapMu    sync.Mutex // one snapshot pass at a time
	snapWG    sync.WaitGroup
	closed    bool
	passes    atomic.Uint64 // snapshot passes done
	dropped   atomic.Uint64 // events deleted by retention
}

var (
	metaSeq = []byte("mseq")
	// ErrClosed is returned by a closed store.
	ErrClosed = errors.New("store: closed")
)

const (
	pEvent = 'e'
	pAsset = 'a'
	pSnap  = 's'
)

// Open opens (creating if needed) the store in dir.
func Open(dir string, opt Options) (*Store, error) {
	if opt.SnapshotEvery == 0 {
		opt.SnapshotEvery = 20_000
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	// Badger's defaults are sized for a server (300–500 MB resident);
	// these keep an embedded store at a fraction of that.
	bo := badger.DefaultOptions(dir).WithSyncWrites(!opt.NoSync).WithLogger(nil).
		WithNumVersionsToKeep(1).WithCompactL0OnClose(false).
		WithMemTableSize(16 << 20).WithNumMemtables(2).WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).WithValueLogFileSize(64 << 20)
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{db: db, opt: opt, log: opt.Logger, lowWater: math.MaxInt64}
	err = db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(metaSeq)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("store: corrupt sequence record")
			}
			s.seq = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err == nil {
		s.newest, err = s.lastTime()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close waits for a snapshot in progress and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.snapWG.Wait()
	return s.db.Close()
}

func timeKey(t int64) uint64 { return uint64(t) ^ (1 << 63) }

func eventKey(b []byte, t int64, seq uint64) []byte {
	b = append(b, pEvent)
	b = binary.BigEndian.AppendUint64(b, timeKey(t))
	return binary.BigEndian.AppendUint64(b, seq)
}

func assetPrefix(b []byte, asset string) []byte {
	b = append(b, pAsset)
	b = binary.AppendUvarint(b, uint64(len(asset)))
	return append(b, asset...)
}

func snapKey(t int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{pSnap}, timeKey(t))
}

// Append stores evs durably and returns the sequence number of the last.
func (s *Store) Append(evs []event.Event) error {
	_, err := s.AppendSeq(evs)
	return err
}

// AppendSeq is Append returning the last sequence number given.
func (s *Store) AppendSeq(evs []event.Event) (uint64, error) {
	if len(evs) == 0 {
		return s.seq, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	seq := s.seq
	oldest := int64(math.MaxInt64)
	newest := s.newest
	var kb, vb []byte
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for i := range evs {
		e := &evs[i]
		seq++
		kb = eventKey(kb[:0], e.Time, seq)
		vb = AppendEvent(vb[:0], e)
		if err := wb.Set(bytes.Clone(kb), bytes.Clone(vb)); err != nil {
			return 0, err
		}
		if e.Asset != "" {
			ak := assetPrefix(nil, e.Asset)
			ak = binary.BigEndian.AppendUint64(ak, timeKey(e.Time))
			ak = binary.BigEndian.AppendUint64(ak, seq)
			if err := wb.Set(ak, nil); err != nil {
				return 0, err
			}
		}
		oldest = min(oldest, e.Time)
		newest = max(newest, e.Time)
	}
	if err := wb.Set(bytes.Clone(metaSeq), binary.BigEndian.AppendUint64(nil, seq)); err != nil {
		return 0, err
	}
	if err := wb.Flush(); err != nil {
		return 0, fmt.Errorf("store: append: %w", err)
	}
	if !s.opt.NoSync {
		// WriteBatch commits with the database's SyncWrites; Sync makes
		// sure the last commit's value log and memtable WAL are on disk.
		if err := s.db.Sync(); err != nil {
			return 0, fmt.Errorf("store: sync: %w", err)
		}
	}
	s.seq, s.newest = seq, newest
	s.lowWater = min(s.lowWater, oldest)
	if oldest < newest {
		// a late event invalidates the snapshots after its time
		if err := s.dropSnapshotsFrom(oldest); err != nil {
			return 0, err
		}
	}
	s.sinceSnap += len(evs)
	if s.opt.SnapshotEvery > 0 && s.sinceSnap >= s.opt.SnapshotEvery {
		s.sinceSnap = 0
		s.snapWG.Add(1)
		go s.snapshotPass(newest)
	}
	return seq, nil
}

// dropSnapshotsFrom deletes snapshots at or after time t.
func (s *Store) dropSnapshotsFrom(t int64) error {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSnap}})
		defer it.Close()
		for it.Seek(snapKey(t)); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// snapshotPass writes a snapshot at time t (the newest event) and applies
// the retention, from the clock.
func (s *Store) snapshotPass(t int64) {
	defer s.snapWG.Done()
	defer s.passes.Add(1)
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	// a second behind the newest event: events of the same instant from
	// other connectors are likely still on their way
	t -= int64(time.Second)
	if err := s.Snapshot(t); err != nil {
		s.log.Error("store: snapshot", "err", err)
		return
	}
	if s.opt.Retention > 0 {
		if err := s.DropBefore(s.opt.Now().Add(-s.opt.Retention).UnixNano()); err != nil {
			s.log.Error("store: retention", "err", err)
		}
	}
}

// Snapshot stores the state at time t (every event with time ≤ t). If an
// event with time ≤ t is appended while the state is being computed, the
// snapshot would be stale: it is not written (the next pass makes one).
func (s *Store) Snapshot(t int64) error {
	s.mu.Lock()
	s.lowWater = math.MaxInt64
	s.mu.Unlock()
	st, err := s.StateAt(t)
	if err != nil {
		return err
	}
	b, err := st.MarshalBinary()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lowWater <= t {
		return nil
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(snapKey(t), b) })
}

// StateAt returns the state at time t: the latest snapshot at or before t,
// and the events after it up to t.
func (s *Store) StateAt(t int64) (*state.State, error) {
	st := &state.State{}
	from := int64(math.MinInt64)
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSnap}, Reverse: true})
		defer it.Close()
		it.Seek(snapKey(t))
		if !it.Valid() {
			return nil
		}
		k := it.Item().Key()
		from = int64(binary.BigEndian.Uint64(k[1:]) ^ (1 << 63))
		return it.Item().Value(func(v []byte) error { return st.UnmarshalBinary(v) })
	})
	if err != nil {
		return nil, fmt.Errorf("store: state at %d: %w", t, err)
	}
	if from == math.MaxInt64 {
		return st, nil
	}
	err = s.Range(from+1, t, func(e event.Event) error {
		st.Apply(e)
		return nil
	})
	return st, err
}

// Range calls fn with every event whose time is in [from, to], in time
// order (arrival order among equal times). fn's error stops it.
func (s *Store) Range(from, to int64, fn func(event.Event) error) error {
	if from > to {
		return nil
	}
	return s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{pEvent}
		opt.PrefetchSize = 1000
		it := txn.NewIterator(opt)
		defer it.Close()
		end := timeKey(to)
		var e event.Event
		for it.Seek(eventKey(nil, from, 0)); it.Valid(); it.Next() {
			k := it.Item().Key()
			tk := binary.BigEndian.Uint64(k[1:9])
			if tk > end {
				break
			}
			err := it.Item().Value(func(v []byte) error { return DecodeEvent(v, &e) })
			if err != nil {
				return fmt.Errorf("store: event %x: %w", k, err)
			}
			e.Time = int64(tk ^ (1 << 63))
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// AssetRange calls fn with the events of asset in [from, to], in time order.
func (s *Store) AssetRange(asset string, from, to int64, fn func(event.Event) error) error {
	prefix := assetPrefix(nil, asset)
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		end := timeKey(to)
		start := binary.BigEndian.AppendUint64(bytes.Clone(prefix), timeKey(from))
		var e event.Event
		for it.Seek(start); it.Valid(); it.Next() {
			k := it.Item().Key()[len(prefix):]
			tk := binary.BigEndian.Uint64(k[:8])
			if tk > end {
				break
			}
			ek := append([]byte{pEvent}, k[:16]...)
			item, err := txn.Get(ek)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue // dropped by retention
			}
			if err != nil {
				return err
			}
			if err := item.Value(func(v []byte) error { return DecodeEvent(v, &e) }); err != nil {
				return err
			}
			e.Time = int64(tk ^ (1 << 63))
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// Bounds returns the times of the oldest and newest stored events, and
// whether there are any.
func (s *Store) Bounds() (first, last int64, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}})
		defer it.Close()
		it.Rewind()
		if !it.Valid() {
			return nil
		}
		first = int64(binary.BigEndian.Uint64(it.Item().Key()[1:9]) ^ (1 << 63))
		ok = true
		return nil
	})
	if err != nil || !ok {
		return 0, 0, ok, err
	}
	last, err = s.lastTime()
	return first, last, ok, err
}

func (s *Store) lastTime() (int64, error) {
	var last int64
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}, Reverse: true})
		defer it.Close()
		it.Seek([]byte{pEvent, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		if it.Valid() {
			last = int64(binary.BigEndian.Uint64(it.Item().Key()[1:9]) ^ (1 << 63))
		}
		return nil
	})
	return last, err
}

// Seq returns the last sequence number given.
func (s *Store) Seq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// DropBefore deletes the events (and their index entries) older than t,
// after writing a snapshot at t so that StateAt any later time stays
// exact, and deletes older snapshots.
func (s *Store) DropBefore(t int64) error {
	if err := s.Snapshot(t); err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}})
		defer it.Close()
		end := timeKey(t)
		var e event.Event
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			if binary.BigEndian.Uint64(k[1:9]) >= end {
				break
			}
			if err := it.Item().Value(func(v []byte) error { return DecodeEvent(v, &e) }); err != nil {
				return err
			}
			if err := wb.Delete(k); err != nil {
				return err
			}
			if e.Asset != "" {
				ak := append(assetPrefix(nil, e.Asset), k[1:]...)
				if err := wb.Delete(ak); err != nil {
					return err
				}
			}
			n++
		}
		it2 := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSnap}})
		defer it2.Close()
		for it2.Rewind(); it2.Valid(); it2.Next() {
			k := it2.Item().KeyCopy(nil)
			if binary.BigEndian.Uint64(k[1:9]) >= timeKey(t) {
				break
			}
			if err := wb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	s.dropped.Add(uint64(n))
	if n > 0 {
		s.log.Info("store: retention", "dropped", n, "before", time.Unix(0, t).UTC())
	}
	return nil
}

// Stats describe the store.
type Stats struct {
	Seq       uint64 `json:"seq"`
	LSMBytes  int64  `json:"lsm_bytes"`
	VLogBytes int64  `json:"vlog_bytes"`
	Passes    uint64 `json:"snapshot_passes"`   // background snapshot passes done (each applies the retention)
	Dropped   uint64 `json:"retention_dropped"` // events deleted by retention
}

// Stats returns the sequence number, sizes on disk and what the snapshot
// passes did.
func (s *Store) Stats() Stats {
	lsm, vlog := s.db.Size()
	return Stats{Seq: s.Seq(), LSMBytes: lsm, VLogBytes: vlog, Passes: s.passes.Load(), Dropped: s.dropped.Load()}
}
