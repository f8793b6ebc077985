// Package recstore is the execution records' storage engine: JSON records
// under string keys in their own Badger database, every change one
// optimistic transaction that writes its records and an audit entry for
// each (who, when, what, before, after), acknowledged only once it is on
// disk (group commit). The keys, the values and the schema version are
// written down in FORMAT.md; a database of an older version is migrated
// when it is opened, one of a newer one is refused.
//
// The store knows nothing of orders or cards: the domain (twin/mes) names
// its record kinds (Options.Kinds) and keeps its rules in the functions it
// runs in a transaction.
package recstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Errors a caller can tell apart (the API maps them to status codes).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrBusy is a change that kept conflicting with concurrent ones and
	// was given up: the records are as they were; try again. It is a
	// conflict.
	ErrBusy = fmt.Errorf("the records are busy with concurrent changes of the same records: try again (%w)", ErrConflict)
)

// FieldError is a request that cannot be carried out because of one field.
type FieldError struct {
	Field string
	Msg   string
	// Reason is the refusal's stable code when one more precise than
	// invalid_field says it (too_long, unknown_field, …; a Msg of just
	// "required" is required); With is what the code's message needs
	// besides the field.
	Reason string
	With   map[string]any
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Code is the error's stable code in the API's answer.
func (e *FieldError) Code() string {
	switch {
	case e.Reason != "":
		return e.Reason
	case e.Msg == "required":
		return "required"
	}
	return "invalid_field"
}

// Args returns what the code's message needs: the field, and With.
func (e *FieldError) Args() map[string]any {
	m := map[string]any{"field": e.Field}
	for k, v := range e.With {
		m[k] = v
	}
	return m
}

// FieldErr returns a FieldError.
func FieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Options configure a Store.
type Options struct {
	// Kinds maps each record kind's key prefix to its name in the audit
	// log and in errors ("wo" → "work_order"); FORMAT.md lists the
	// domain's.
	Kinds map[string]string
	// Migrations bring a database of an older schema version to Version
	// (see Migration).
	Migrations []Migration
	// Version is the schema version the caller reads and writes; 0: 1.
	Version int
	// Anchors is the file the audit chain's head is appended to every
	// AnchorEvery (default 10 minutes) and at Close ("": none).
	Anchors     string
	AnchorEvery time.Duration
	// Now stamps the audit entries; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// NoSync returns before the disk has a write (benchmark set-up only).
	NoSync bool
	// ReadOnly opens the database to read it, never to write (twin audit
	// verify): a database of another version is refused, not migrated.
	ReadOnly bool
	// Room, when not nil, is asked before every change and refuses it
	// with its error (twin/disk.Guard.Check: the disk is nearly full;
	// Badger must not be asked to write then). Reads go on.
	Room func() error
}

// Store is an open record database.
type Store struct {
	room    func() error
	db      *badger.DB
	kinds   map[string]string
	now     func() time.Time
	log     *slog.Logger
	ids     *badger.Sequence
	sync    *syncer // nil: NoSync
	version int
	ro      bool // opened read-only

	chainMu sync.Mutex // held from numbering a change's audit entries to its commit
	head    head       // the audit chain's last entry, committed

	anchors    string // the anchor file, "" for none
	anchorMu   sync.Mutex
	anchored   head
	anchorEach time.Duration

	stopGC    chan struct{}
	gcDone    chan struct{}
	closeOnce sync.Once
}

// valueThreshold puts every value longer than it in the value log: the
// LSM tree holds the keys, so memtables fill and flush seldom, and a
// flush (a table written and synced) no longer holds up the syncs of
// acknowledged changes (at 1,000 scans/s a 32 MiB flush every 8 s cost
// p99 latencies of 30-65 ms; with the values apart, 7 ms). The value
// log's garbage is collected by gcLoop.
const valueThreshold = 256

// Tune lets a test shrink Badger's sizes to reach its edge cases quickly.
var Tune = func(o badger.Options) badger.Options { return o }

// gcEvery is how often the value log's garbage is collected.
var gcEvery = 10 * time.Minute

// Open opens (creating if needed) the record database in dir, migrating
// it to opt.Version.
func Open(dir string, opt Options) (*Store, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Version == 0 {
		opt.Version = 1
	}
	bo := badger.DefaultOptions(dir).WithSyncWrites(false).WithLogger(nil).
		WithNumVersionsToKeep(1).WithCompactL0OnClose(false).
		WithMemTableSize(32 << 20).WithNumMemtables(2).WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).WithValueLogFileSize(64 << 20).WithDetectConflicts(true).
		WithValueThreshold(valueThreshold).WithReadOnly(opt.ReadOnly)
	bdb, err := badger.Open(Tune(bo))
	if err != nil {
		return nil, fmt.Errorf("records: open %s: %w", dir, err)
	}
	s := &Store{room: opt.Room, db: bdb, kinds: opt.Kinds, now: opt.Now, log: opt.Logger, ro: opt.ReadOnly,
		stopGC: make(chan struct{}), gcDone: make(chan struct{})}
	if !opt.NoSync {
		s.sync = &syncer{db: bdb}
		s.sync.cond = sync.NewCond(&s.sync.mu)
	}
	if opt.ReadOnly {
		err = s.checkVersion(opt.Version)
	} else if s.ids, err = bdb.GetSequence([]byte("seq/id"), 1000); err == nil {
		err = s.migrate(opt.Version, opt.Migrations)
	}
	if err == nil {
		s.head, err = s.lastEntry()
	}
	if err == nil && opt.Anchors != "" && !opt.ReadOnly {
		s.anchors, s.anchorEach = opt.Anchors, opt.AnchorEvery
		if s.anchorEach <= 0 {
			s.anchorEach = 10 * time.Minute
		}
		var as []Anchor
		if as, err = ReadAnchors(opt.Anchors); err == nil && len(as) > 0 {
			s.anchored = head{as[len(as)-1].Seq, as[len(as)-1].Hash}
		}
	}
	if err != nil {
		s.release()
		bdb.Close()
		return nil, fmt.Errorf("records: open %s: %w", dir, err)
	}
	if opt.Anchors != "" {
		s.anchors = opt.Anchors
	}
	if opt.ReadOnly {
		close(s.gcDone)
		return s, nil
	}
	go s.loop(gcEvery)
	return s, nil
}

// Close stops the garbage collection, anchors the audit chain and closes
// the database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stopGC)
		<-s.gcDone
		if !s.ro {
			err = s.Anchor()
		}
		s.release()
		if cerr := s.db.Close(); err == nil {
			err = cerr
		}
	})
	return err
}

func (s *Store) release() {
	if s.ids != nil {
		s.ids.Release()
	}
}

// Version is the schema version of the open database.
func (s *Store) Version() int { return s.version }

// Closed says whether the database is closed (by Close, or by Badger
// after a failure it cannot go on from).
func (s *Store) Closed() bool { return s.db.IsClosed() }

// Flatten compacts the database's tables into at most n levels (tests).
func (s *Store) Flatten(n int) error { return s.db.Flatten(n) }

// loop rewrites value log files that are mostly stale (records changed
// since), as Badger leaves that to its user, and anchors the audit chain.
func (s *Store) loop(gcEvery time.Duration) {
	defer close(s.gcDone)
	gc := time.NewTicker(gcEvery)
	defer gc.Stop()
	var anchor <-chan time.Time
	if s.anchors != "" {
		t := time.NewTicker(s.anchorEach)
		defer t.Stop()
		anchor = t.C
	}
	for {
		select {
		case <-s.stopGC:
			return
		case <-gc.C:
			if n := s.Collect(); n > 0 {
				s.log.Info("records: value log gc", "files", n)
			}
		case <-anchor:
			if err := s.Anchor(); err != nil {
				s.log.Error("records: anchoring the audit chain", "err", err)
			}
		}
	}
}

// Collect rewrites the value log files that are at least half stale and
// returns how many it rewrote.
func (s *Store) Collect() int {
	n := 0
	for ; n < 100; n++ { // each pass rewrites at most one file
		select {
		case <-s.stopGC:
			return n
		default:
		}
		if err := s.db.RunValueLogGC(0.5); err != nil {
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				s.log.Warn("records: value log gc", "err", err)
			}
			break
		}
	}
	return n
}

// maxAttempts bounds the retries of a change that conflicts with
// concurrent ones.
const maxAttempts = 100

// Update runs fn in a read-write transaction and commits it with its
// audit entries; it returns once the change is on disk. fn may run more
// than once (a conflicting concurrent change makes it retry against the
// newer records), so it must have no effect outside its Tx (AfterCommit
// runs what must happen once the change is on disk). A change still in
// conflict after 100 attempts returns ErrBusy.
func (s *Store) Update(user, action string, fn func(*Tx) error) error {
	if s.room != nil {
		if err := s.room(); err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
	}
	for attempt := 1; ; attempt++ {
		t := &Tx{t: s.db.NewTransaction(true), s: s, User: user, Action: action, Now: s.now()}
		err := fn(t)
		if err == nil {
			err = s.commit(t)
			if err == nil && s.sync != nil {
				err = s.sync.wait()
			}
			if err == nil {
				for _, f := range t.post {
					f()
				}
			}
		}
		t.t.Discard()
		switch {
		case errors.Is(err, badger.ErrConflict) && attempt < maxAttempts:
			continue
		case errors.Is(err, badger.ErrConflict):
			return fmt.Errorf("%s: %w", action, ErrBusy)
		case errors.Is(err, badger.ErrTxnTooBig):
			return fmt.Errorf("%s: too many records in one change", action)
		}
		return err
	}
}

// commit numbers and chains the change's audit entries and commits it.
func (s *Store) commit(t *Tx) error {
	if len(t.audits) == 0 {
		return t.t.Commit()
	}
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	h, err := t.writeAudit(s.head)
	if err == nil {
		err = t.t.Commit()
	}
	if err == nil {
		s.head = h
	}
	return err
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	t := &Tx{t: s.db.NewTransaction(false), s: s, Now: s.now()}
	defer t.t.Discard()
	return fn(t)
}

// syncer is group commit: a committed change is acknowledged only after
// a sync of the database that began after its commit; one sync serves
// every change committed while the previous one ran. (Badger's own
// SyncWrites syncs its whole memtable log on every commit: here that cost
// p99 latencies of 50 ms at 1,000 scans/s.)
type syncer struct {
	db      *badger.DB
	mu      sync.Mutex
	cond    *sync.Cond
	started uint64 // syncs begun
	done    uint64 // syncs finished
	running bool
	err     error
}

func (s *syncer) wait() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	need := s.started + 1
	for s.done < need {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		s.started++
		g := s.started
		s.mu.Unlock()
		err := s.db.Sync()
		s.mu.Lock()
		s.done, s.err, s.running = g, err, false
		s.cond.Broadcast()
	}
	if s.err != nil {
		return fmt.Errorf("records: sync: %w", s.err)
	}
	return nil
}

// Kind is a record kind's name in the audit log and errors.
func (s *Store) Kind(prefix string) string {
	if n, ok := s.kinds[prefix]; ok {
		return n
	}
	return prefix
}

// kindPrefix is the key prefix of a kind's name, "" when there is none.
func (s *Store) kindPrefix(name string) string {
	for k, v := range s.kinds {
		if v == name {
			return k
		}
	}
	return ""
}

func decodeInto(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("records: decoding %T: %w", v, err)
	}
	return nil
}

// Bulk writes keys and values as fn sets them, outside transactions and
// without audit entries: for loading test and benchmark data in bulk,
// never for records a person changed.
func (s *Store) Bulk(fn func(set func(key string, value []byte) error) error) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	if err := fn(func(k string, v []byte) error { return wb.Set([]byte(k), v) }); err != nil {
		return err
	}
	return wb.Flush()
}

// Count returns how many keys the database holds.
func (s *Store) Count() (int, error) {
	n := 0
	err := s.View(func(t *Tx) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		it := t.t.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}
