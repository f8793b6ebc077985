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
// Append returns only an error; AppendSeq also returns the sequence number
// given to the batch's last event.
//
// Snapshots are taken by one goroutine of the store's own, every
// Options.SnapshotEvery appended events (a pass asked for while one runs
// is merged into the next); Close waits for it. A snapshot this build
// cannot decode (a version written by a newer twin, or damaged bytes) is
// passed over: StateAt starts from an older snapshot, or from the first
// event, and logs it.
//
// Keys (all big-endian, so that Badger's order is time order):
//
//	e | time | seq                 → event (kind, quality, source, asset, name, ref, value)
//	a | len(asset) asset | time | seq → (empty)      per-asset index
//	s | time                        → snapshot: state of every event with time ≤ that time
//	m seq                           → the last sequence number used
//	m fmt                           → the format's version and the build that wrote it (format.go)
//
// time is the event's Unix nanoseconds with the sign bit flipped; seq is a
// store-wide arrival counter that orders events of equal time by arrival
// and survives restarts. Events may arrive out of time order (a slow
// connector): they are stored where their time puts them, and snapshots
// taken after their time are discarded, so StateAt stays exact.
//
// Damage is contained: an event record that does not decode (a changed
// byte, a record of a newer format) is logged with its key and time,
// counted (Stats.Unreadable) and passed over by Range, AssetRange, Replay
// and StateAt, never the end of a read.
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
	// Room, when not nil, is asked before every append and refuses it
	// with its error (twin/disk.Guard.Check: the disk is nearly full, and
	// Badger must not be asked to write: it would die of SIGBUS).
	Room func() error
	// AppendLatency, if set, observes how long each Append takes in
	// seconds, from the lock to the sync; CommitLatency how long its
	// commit takes (the batch's flush and the sync: the disk's part).
	// A prometheus.Histogram is one (twin/metrics).
	AppendLatency, CommitLatency Observer
}

// Observer takes one measurement: a duration in seconds.
type Observer interface{ Observe(float64) }

// Store is an open history.
type Store struct {
	db  *badger.DB
	opt Options
	log *slog.Logger

	mu        sync.Mutex // serialises appends
	seq       uint64
	newest    int64 // newest event time
	sinceSnap int
	lowWater  int64 // the oldest event time appended since the last reset (see Snapshot)
	closed    bool
	passes    atomic.Uint64 // snapshot passes done
	dropped   atomic.Uint64 // events deleted by retention
	late      atomic.Uint64 // events appended older than the newest before them
	unread    atomic.Uint64 // event records passed over because they do not decode
	repeats   atomic.Uint64 // events not stored again: the store had them

	// the snapshot goroutine: Append asks for a pass (snapAt, snapAsked,
	// a nudge on snapKick); the goroutine runs it and says so (snapDone,
	// snapCond); Close closes snapStop and waits for snapExited.
	snapAt     int64  // the newest event time when the pending pass was asked for; mu
	snapAsked  uint64 // passes asked for; mu
	snapDone   uint64 // passes asked for that have run (or been merged); mu
	snapCond   *sync.Cond
	snapKick   chan struct{} // capacity 1
	snapStop   chan struct{}
	snapExited chan struct{}
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
	s := &Store{db: db, opt: opt, log: opt.Logger, lowWater: math.MaxInt64,
		snapKick: make(chan struct{}, 1), snapStop: make(chan struct{}), snapExited: make(chan struct{})}
	s.snapCond = sync.NewCond(&s.mu)
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
				return fmt.Errorf("corrupt sequence record (%d bytes, want 8)", len(v))
			}
			s.seq = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err == nil {
		err = s.checkFormat(dir)
	}
	if err == nil {
		s.newest, err = s.lastTime()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	go s.snapshotter()
	return s, nil
}

// Close waits for a snapshot pass in progress (and one asked for) and
// closes the database. It is safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.snapStop)
	<-s.snapExited
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
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

// Append stores evs durably: it returns nil only once they are on disk
// (see Durability); ErrClosed after Close. An event the store holds
// already (the same observation at the same time: a redelivery) is not
// stored twice (Stats.Repeats). With Options.Room, a disk without room
// refuses the append with its error before anything is written.
func (s *Store) Append(evs []event.Event) error {
	_, err := s.AppendSeq(evs)
	return err
}

// AppendSeq is Append that also returns the sequence number given to the
// last event of evs (the last one given so far when evs is empty).
func (s *Store) AppendSeq(evs []event.Event) (uint64, error) {
	if s.opt.AppendLatency != nil {
		t0 := time.Now()
		defer func() { s.opt.AppendLatency.Observe(time.Since(t0).Seconds()) }()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if len(evs) == 0 {
		return s.seq, nil
	}
	if s.opt.Room != nil {
		if err := s.opt.Room(); err != nil {
			return 0, fmt.Errorf("store: append: %w", err)
		}
	}
	evs, err := s.withoutRepeats(evs)
	if err != nil {
		return 0, fmt.Errorf("store: append: %w", err)
	}
	if len(evs) == 0 {
		return s.seq, nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	b, err := s.batch(wb, evs)
	if err != nil {
		return 0, fmt.Errorf("store: append: %w", err)
	}
	if err := s.commit(wb); err != nil {
		return 0, err
	}
	s.late.Add(uint64(b.late))
	s.seq, s.newest = b.seq, b.newest
	s.lowWater = min(s.lowWater, b.oldest)
	if b.oldest < b.newest {
		// a late event invalidates the snapshots after its time
		if err := s.dropSnapshotsFrom(b.oldest); err != nil {
			return 0, fmt.Errorf("store: append: dropping the snapshots after a late event: %w", err)
		}
	}
	s.sinceSnap += len(evs)
	if s.opt.SnapshotEvery > 0 && s.sinceSnap >= s.opt.SnapshotEvery {
		s.sinceSnap = 0
		s.askSnapshotLocked(b.newest)
	}
	return b.seq, nil
}

// appended is what a write batch of events holds: the sequence number
// of its last event, its oldest and the newest time (the store's newest
// or later), and how many of its events are older than the newest before
// them (late).
type appended struct {
	seq            uint64
	oldest, newest int64
	late           int
}

// batch puts evs into wb, numbered after the store's last event: each
// event under its time and sequence number, its asset's index entry, and
// the last sequence number. s.mu must be held.
func (s *Store) batch(wb *badger.WriteBatch, evs []event.Event) (appended, error) {
	b := appended{seq: s.seq, oldest: math.MaxInt64, newest: s.newest}
	var kb, vb []byte
	for i := range evs {
		e := &evs[i]
		b.seq++
		kb = eventKey(kb[:0], e.Time, b.seq)
		vb = AppendEvent(vb[:0], e)
		if err := wb.Set(bytes.Clone(kb), bytes.Clone(vb)); err != nil {
			return b, err
		}
		if e.Asset != "" {
			ak := assetPrefix(nil, e.Asset)
			ak = binary.BigEndian.AppendUint64(ak, timeKey(e.Time))
			ak = binary.BigEndian.AppendUint64(ak, b.seq)
			if err := wb.Set(ak, nil); err != nil {
				return b, fmt.Errorf("index %s: %w", e.Asset, err)
			}
		}
		if e.Time < b.newest {
			b.late++
		}
		b.oldest = min(b.oldest, e.Time)
		b.newest = max(b.newest, e.Time)
	}
	if err := wb.Set(bytes.Clone(metaSeq), binary.BigEndian.AppendUint64(nil, b.seq)); err != nil {
		return b, err
	}
	return b, nil
}

// commit writes wb durably (unless Options.NoSync), timed by
// Options.CommitLatency.
func (s *Store) commit(wb *badger.WriteBatch) error {
	var t0 time.Time
	if s.opt.CommitLatency != nil {
		t0 = time.Now()
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("store: append: %w", err)
	}
	if !s.opt.NoSync {
		// WriteBatch commits with the database's SyncWrites; Sync makes
		// sure the last commit's value log and memtable WAL are on disk.
		if err := s.db.Sync(); err != nil {
			return fmt.Errorf("store: sync: %w", err)
		}
	}
	if s.opt.CommitLatency != nil {
		s.opt.CommitLatency.Observe(time.Since(t0).Seconds())
	}
	return nil
}

// withoutRepeats returns evs without the events the store holds already:
// the same observation (time, kind, quality, source, asset, name, ref and
// value) stored before, as a broker redelivers what it sent just before
// a crash and was stored but not acknowledged. Only an event no newer
// than the newest stored can be one, so a stream in time order costs
// nothing; a repeat is looked up among the events of its instant. s.mu
// is held.
func (s *Store) withoutRepeats(evs []event.Event) ([]event.Event, error) {
	old := -1
	for i := range evs {
		if evs[i].Time <= s.newest {
			old = i
			break
		}
	}
	if old < 0 {
		return evs, nil
	}
	out := evs[:old:old] // a copy from the first repeat on: the caller's slice is not changed
	var vb []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pEvent}})
		defer it.Close()
		for i := old; i < len(evs); i++ {
			e := &evs[i]
			if e.Time > s.newest {
				out = append(out, *e)
				continue
			}
			vb = AppendEvent(vb[:0], e)
			at := eventKey(nil, e.Time, 0)[:9]
			repeat := false
			for it.Seek(at); it.ValidForPrefix(at); it.Next() {
				err := it.Item().Value(func(v []byte) error {
					repeat = bytes.Equal(v, vb)
					return nil
				})
				if err != nil {
					return err
				}
				if repeat {
					break
				}
			}
			if repeat {
				s.repeats.Add(1)
				continue
			}
			out = append(out, *e)
		}
		return nil
	})
	return out, err
}

// askSnapshotLocked asks the snapshot goroutine for a pass at time t (the
// newest event); a pass asked for before and not started yet is merged
// into this one. s.mu is held.
func (s *Store) askSnapshotLocked(t int64) {
	s.snapAt = t
	s.snapAsked++
	select {
	case s.snapKick <- struct{}{}:
	default: // a pass is pending already: it takes the latest time
	}
}

// snapshotter is the store's snapshot goroutine: it runs the passes
// Append asks for, one at a time, until Close (running one still pending
// then).
func (s *Store) snapshotter() {
	defer close(s.snapExited)
	for {
		select {
		case <-s.snapKick:
			s.pass()
		case <-s.snapStop:
			select {
			case <-s.snapKick:
				s.pass()
			default:
			}
			return
		}
	}
}

// pass runs the pending snapshot pass and marks the passes asked for so
// far as done.
func (s *Store) pass() {
	s.mu.Lock()
	t, asked := s.snapAt, s.snapAsked
	s.mu.Unlock()
	s.snapshotPass(t)
	s.mu.Lock()
	s.snapDone = asked
	s.snapCond.Broadcast()
	s.mu.Unlock()
}

// waitSnapshots returns once every snapshot pass asked for so far has run
// (tests).
func (s *Store) waitSnapshots() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.snapDone < s.snapAsked {
		s.snapCond.Wait()
	}
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
	defer s.passes.Add(1)
	// a second behind the newest event: events of the same instant from
	// other connectors are likely still on their way
	t -= int64(time.Second)
	if s.opt.Room != nil {
		if err := s.opt.Room(); err != nil {
			s.log.Warn("store: no snapshot nor retention pass while the disk is full", "err", err)
			return
		}
	}
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
		return fmt.Errorf("store: snapshot at %d: %w", t, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lowWater <= t {
		return nil
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(snapKey(t), b) }); err != nil {
		return fmt.Errorf("store: snapshot at %d: %w", t, err)
	}
	return nil
}

// StateAt returns the state at time t: the latest snapshot at or before t
// that decodes, and the events after it up to t. A snapshot that does not
// decode (state.ErrVersion: written by a newer twin; or damaged) is
// logged and passed over for an older one, or for the events from the
// first: slower, never wrong.
func (s *Store) StateAt(t int64) (*state.State, error) {
	st, from, err := s.snapshotBefore(t)
	if err != nil {
		return nil, fmt.Errorf("store: state at %d: %w", t, err)
	}
	if from == math.MaxInt64 { // a snapshot at the end of time: nothing after it
		return st, nil
	}
	err = s.Range(from+1, t, func(e event.Event) error {
		st.Apply(e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: state at %d: %w", t, err)
	}
	return st, nil
}

// snapshotBefore returns the latest snapshot at or before t that decodes
// and its time; with none, an empty state and math.MinInt64.
func (s *Store) snapshotBefore(t int64) (*state.State, int64, error) {
	st := &state.State{}
	from := int64(math.MinInt64)
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSnap}, Reverse: true})
		defer it.Close()
		for it.Seek(snapKey(t)); it.Valid(); it.Next() {
			at := int64(binary.BigEndian.Uint64(it.Item().Key()[1:]) ^ (1 << 63))
			err := it.Item().Value(func(v []byte) error { return st.UnmarshalBinary(v) })
			if errors.Is(err, state.ErrCorrupt) {
				s.log.Warn("store: a snapshot does not decode; starting from an older one", "at", time.Unix(0, at).UTC(), "err", err)
				continue
			}
			if err != nil {
				return fmt.Errorf("snapshot at %d: %w", at, err)
			}
			from = at
			return nil
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return st, from, nil
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
			if errors.Is(err, ErrCorrupt) {
				s.unreadableRecord(k, err)
				continue
			}
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

// unreadableRecord counts an event record that does not decode and logs
// it: the first ten, then every thousandth.
func (s *Store) unreadableRecord(key []byte, err error) {
	n := s.unread.Add(1)
	if n <= 10 || n%1000 == 0 {
		at := time.Unix(0, int64(binary.BigEndian.Uint64(key[1:9])^(1<<63))).UTC()
		s.log.Error("store: an event record does not decode; passed over", "key", fmt.Sprintf("%x", key), "time", at, "err", err, "unreadable", n)
	}
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
				return fmt.Errorf("store: event %x of %s: %w", ek, asset, err)
			}
			err = item.Value(func(v []byte) error { return DecodeEvent(v, &e) })
			if errors.Is(err, ErrCorrupt) {
				s.unreadableRecord(ek, err)
				continue
			}
			if err != nil {
				return fmt.Errorf("store: event %x of %s: %w", ek, asset, err)
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
	if err == nil && ok {
		last, err = s.lastTime()
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("store: bounds: %w", err)
	}
	return first, last, ok, nil
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
		return fmt.Errorf("store: drop before %d: %w", t, err)
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
				return fmt.Errorf("event %x: %w", k, err)
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
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return fmt.Errorf("store: drop before %d: %w", t, err)
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
	// Late counts the events appended since the store was opened that
	// are older than the newest event before them (out of order: each
	// batch with one drops the snapshots after its time).
	Late uint64 `json:"late"`
	// Unreadable counts the times a read passed over an event record
	// that does not decode (each read of a damaged record counts).
	Unreadable uint64 `json:"unreadable"`
	// Repeats counts events Append did not store again because the store
	// held the same observation (a broker's redelivery after a crash).
	Repeats uint64 `json:"repeats"`
}

// Stats returns the sequence number, sizes on disk and what the snapshot
// passes did.
func (s *Store) Stats() Stats {
	lsm, vlog := s.db.Size()
	return Stats{Seq: s.Seq(), LSMBytes: lsm, VLogBytes: vlog, Passes: s.passes.Load(), Dropped: s.dropped.Load(), Late: s.late.Load(), Unreadable: s.unread.Load(), Repeats: s.repeats.Load()}
}

// Closed says whether the store is closed (by Close, or by Badger after
// a failure it cannot go on from).
func (s *Store) Closed() bool { return s.db.IsClosed() }
