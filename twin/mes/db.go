// Package mes holds the plant's execution records, the system of record
// beside the twin's history: production orders, the work orders released
// from them along the routings, operation cards and their scans, material
// lots and what went into each unit, the equipment ledger, quality
// inspections and nonconformances, maintenance plans and their completions,
// labour hours, and the users who may change them. Every change is written
// with an audit entry (who, when, what, before, after) in the same
// transaction; the audit log has no update or delete.
//
// Records live in their own Badger database (DIR/mes) with synchronous
// writes: a call that returned without error is on disk. Concurrent changes
// run as optimistic transactions; two that touch the same record conflict,
// and the loser is retried against the winner's result. That is what makes
// a card scanned on two terminals at once confirm exactly once.
//
// The live link (link.go) feeds machine states and counters from the twin
// into the records; the KPIs (kpi.go) follow ISO 22400-2.
package mes

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"twin/plant"
	"twin/twin/ingest"
	"twin/twin/store"
)

// Options configure a DB.
type Options struct {
	Plant *plant.Plant // the plant the records are about (required)
	// History is the twin's event store, for KPIs over machine time and
	// the equipment history; nil: KPIs count only the records.
	History *store.Store
	// Live is the running twin: its events advance operations (the live
	// link); nil: no link.
	Live *ingest.Ingest
	// Now is the clock records are stamped with when a request gives no
	// time (the plant clock in the demo); default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// NoSync returns before the disk has a write (benchmark set-up only).
	NoSync bool
}

// DB is an open record store.
type DB struct {
	db    *badger.DB
	p     *plant.Plant
	hist  *store.Store
	now   func() time.Time
	log   *slog.Logger
	key   []byte // signs operation-card tokens
	audit *badger.Sequence
	ids   *badger.Sequence

	link *link
	sync *syncer // nil: NoSync

	stopGC    chan struct{}
	gcDone    chan struct{}
	closeOnce sync.Once
}

// Errors a caller can tell apart; the API maps them to status codes.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden") // the user's roles do not allow what the request asks (an override)
)

// FieldError is a request that cannot be carried out because of one field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Open opens (creating if needed) the records in dir.
func Open(dir string, opt Options) (*DB, error) {
	if opt.Plant == nil {
		return nil, errors.New("mes: no plant")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key, err := secret(filepath.Join(dir, "card.key"))
	if err != nil {
		return nil, err
	}
	bo := badger.DefaultOptions(filepath.Join(dir, "db")).WithSyncWrites(false).WithLogger(nil).
		WithNumVersionsToKeep(1).WithCompactL0OnClose(false).
		WithMemTableSize(32 << 20).WithNumMemtables(2).WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).WithValueLogFileSize(64 << 20).WithDetectConflicts(true).
		// records (a few hundred bytes of JSON and more) live in the value
		// log, the LSM tree holds their keys: memtables fill and flush
		// seldom, and a flush (a table written and synced) no longer holds
		// up the syncs of acknowledged changes (at 1,000 scans/s a 32 MiB
		// flush every 8 s cost p99 latencies of 30-65 ms; with the values
		// apart, 7 ms). The value log's garbage is collected by gcLoop.
		WithValueThreshold(valueThreshold)
	bdb, err := badger.Open(tune(bo))
	if err != nil {
		return nil, fmt.Errorf("mes: open %s: %w", dir, err)
	}
	d := &DB{db: bdb, p: opt.Plant, hist: opt.History, now: opt.Now, log: opt.Logger, key: key,
		stopGC: make(chan struct{}), gcDone: make(chan struct{})}
	go d.gcLoop(gcEvery)
	if !opt.NoSync {
		d.sync = &syncer{db: bdb}
		d.sync.cond = sync.NewCond(&d.sync.mu)
	}
	if d.audit, err = bdb.GetSequence([]byte("seq/audit"), 1000); err == nil {
		d.ids, err = bdb.GetSequence([]byte("seq/id"), 1000)
	}
	if err == nil {
		err = d.seedLedger()
	}
	if err == nil && opt.Live != nil {
		d.link, err = startLink(d, opt.Live)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close stops the live link and closes the database.
func (d *DB) Close() error {
	var err error
	d.closeOnce.Do(func() {
		if d.link != nil {
			d.link.stop()
		}
		close(d.stopGC)
		<-d.gcDone
		if d.audit != nil {
			d.audit.Release()
		}
		if d.ids != nil {
			d.ids.Release()
		}
		err = d.db.Close()
	})
	return err
}

const valueThreshold = 256

// tune lets a test shrink Badger's sizes to reach its edge cases quickly.
var tune = func(o badger.Options) badger.Options { return o }

// gcEvery is how often the value log's garbage is collected.
var gcEvery = 10 * time.Minute

// gcLoop rewrites value log files that are mostly stale (records
// changed since), as Badger leaves that to its user.
func (d *DB) gcLoop(every time.Duration) {
	defer close(d.gcDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.stopGC:
			return
		case <-t.C:
		}
		if n := d.collect(); n > 0 {
			d.log.Info("records: value log gc", "files", n)
		}
	}
}

// collect rewrites the value log files that are at least half stale and
// returns how many it rewrote.
func (d *DB) collect() int {
	n := 0
	for ; n < 100; n++ { // each pass rewrites at most one file
		select {
		case <-d.stopGC:
			return n
		default:
		}
		if err := d.db.RunValueLogGC(0.5); err != nil {
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				d.log.Warn("records: value log gc", "err", err)
			}
			break
		}
	}
	return n
}

// Plant returns the plant the records are about.
func (d *DB) Plant() *plant.Plant { return d.p }

// Now returns the records' clock.
func (d *DB) Now() time.Time { return d.now() }

// secret reads the card-signing key in path, creating it on first use.
func secret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err == nil {
		return nil, fmt.Errorf("mes: %s: want a 32-byte key, found %d bytes", path, len(b))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// tx is one change: a Badger transaction and the audit entries it writes.
type tx struct {
	t      *badger.Txn
	d      *DB
	user   string
	action string
	now    time.Time
	post   []func() // run once the change is committed and on disk
}

// update runs fn in a read-write transaction and commits it with its
// audit entries. fn may run more than once (a conflicting concurrent
// change makes it retry against the newer records), so it must have no
// effect outside tx.
func (d *DB) update(user, action string, fn func(*tx) error) error {
	for attempt := 0; ; attempt++ {
		t := &tx{t: d.db.NewTransaction(true), d: d, user: user, action: action, now: d.now()}
		err := fn(t)
		if err == nil {
			err = t.t.Commit()
			if err == nil && d.sync != nil {
				err = d.sync.wait()
			}
			if err == nil {
				for _, f := range t.post {
					f()
				}
			}
		}
		t.t.Discard()
		if errors.Is(err, badger.ErrConflict) && attempt < 100 {
			continue
		}
		if errors.Is(err, badger.ErrTxnTooBig) {
			return fmt.Errorf("mes: %s: too many records in one change", action)
		}
		return err
	}
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
	return s.err
}

// view runs fn in a read-only transaction.
func (d *DB) view(fn func(*tx) error) error {
	t := &tx{t: d.db.NewTransaction(false), d: d, now: d.now()}
	defer t.t.Discard()
	return fn(t)
}

// get reads the record at key into v; false when there is none.
func (t *tx) get(key string, v any) (bool, error) {
	it, err := t.t.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, it.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

// must reads the record kind/id or returns a not-found error naming it.
func (t *tx) must(kind, id string, v any) error {
	ok, err := t.get(kind+"/"+id, v)
	if err == nil && !ok {
		err = fmt.Errorf("%s %q: %w", kindName[kind], id, ErrNotFound)
	}
	return err
}

// exists says whether key holds a record.
func (t *tx) exists(key string) (bool, error) {
	_, err := t.t.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// set writes v at key without an audit entry (indexes, derived data).
func (t *tx) set(key string, v any) error {
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return t.t.Set([]byte(key), b)
}

// put writes the record kind/id, whose previous value was before (nil
// for a new record), and its audit entry.
func (t *tx) put(kind, id string, before, after any) error {
	if kind == "order" && t.d.link != nil {
		// the twin learns of orders from the records: once committed
		b, a, now := asOrder(before), asOrder(after), t.now
		t.post = append(t.post, func() { t.d.link.order(b, a, now) })
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	if err := t.t.Set([]byte(kind+"/"+id), a); err != nil {
		return err
	}
	var b json.RawMessage
	if before != nil {
		if b, err = json.Marshal(before); err != nil {
			return err
		}
	}
	return t.auditEntry(kind, id, b, a)
}

func (t *tx) auditEntry(kind, id string, before, after json.RawMessage) error {
	seq, err := t.d.audit.Next()
	if err != nil {
		return err
	}
	e := AuditEntry{Seq: seq + 1, At: t.now, User: t.user, Action: t.action, Kind: kindName[kind], ID: id, Before: before, After: after}
	k := auditKey(e.Seq)
	if err := t.set(k, e); err != nil {
		return err
	}
	return t.t.Set([]byte("x/audit/"+kind+"/"+id+"/"+k[4:]), nil)
}

func auditKey(seq uint64) string { return fmt.Sprintf("aud/%016x", seq) }

// index records that record kind/id belongs to the owner (an order, a
// station, a serial, a lot): x/<by>/<owner>/<kind>/<id>.
func (t *tx) index(by, owner, kind, id string) error {
	if owner == "" {
		return nil
	}
	return t.t.Set([]byte("x/"+by+"/"+owner+"/"+kind+"/"+id), nil)
}

// nextID returns a new number for generated ids.
func (t *tx) nextID() (uint64, error) {
	n, err := t.d.ids.Next()
	return n + 1, err
}

// kindName is the record kind as the API and the audit log name it.
var kindName = map[string]string{
	"order": "order", "wo": "work_order", "op": "operation", "unit": "unit", "lot": "lot",
	"cons": "consumption", "iplan": "inspection_plan", "insp": "inspection", "nc": "nonconformance",
	"eq": "equipment", "mplan": "maintenance_plan", "mdone": "maintenance_completion",
	"lab": "labour", "clock": "clock", "flag": "flag", "user": "user", "token": "token", "sched": "schedule",
	"scan": "scan", "ovr": "override",
}

// Page is one page of a list and the cursor of the next ("" at the end).
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty" doc:"pass as cursor= for the next page"`
}

// list reads records under prefix in key order, starting after cursor,
// keeping those keep accepts, until limit are found.
func list[T any](t *tx, prefix, cursor string, limit int, keep func(*T) bool) (Page[T], error) {
	return scan(t, prefix, cursor, limit, func(k []byte, item *badger.Item) (*T, error) {
		v := new(T)
		if err := item.Value(func(b []byte) error { return json.Unmarshal(b, v) }); err != nil {
			return nil, err
		}
		if keep != nil && !keep(v) {
			return nil, nil
		}
		return v, nil
	})
}

// listIndex reads the records kind/<id> named by the index keys under
// prefix (x/<by>/<owner>/<kind>/).
func listIndex[T any](t *tx, prefix, kind, cursor string, limit int, keep func(*T) bool) (Page[T], error) {
	return scan(t, prefix, cursor, limit, func(k []byte, _ *badger.Item) (*T, error) {
		id := string(k[len(prefix):])
		v := new(T)
		ok, err := t.get(kind+"/"+id, v)
		if err != nil || !ok || keep != nil && !keep(v) {
			return nil, err
		}
		return v, nil
	})
}

func scan[T any](t *tx, prefix, cursor string, limit int, decode func([]byte, *badger.Item) (*T, error)) (Page[T], error) {
	page := Page[T]{Items: []T{}}
	if limit <= 0 {
		limit = 100
	}
	start := []byte(prefix)
	if cursor != "" {
		c, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !bytes.HasPrefix(c, []byte(prefix)) {
			return page, fieldErr("cursor", "not a cursor of this list")
		}
		start = append(c, 0)
	}
	opt := badger.DefaultIteratorOptions
	opt.Prefix = []byte(prefix)
	opt.PrefetchValues = false
	it := t.t.NewIterator(opt)
	defer it.Close()
	var last []byte
	for it.Seek(start); it.Valid(); it.Next() {
		k := it.Item().KeyCopy(nil)
		v, err := decode(k, it.Item())
		if err != nil {
			return page, err
		}
		if v == nil {
			continue
		}
		if len(page.Items) == limit {
			page.Next = base64.RawURLEncoding.EncodeToString(last)
			break
		}
		page.Items = append(page.Items, *v)
		last = k
	}
	return page, nil
}

// ids under a prefix (index keys), all of them.
func (t *tx) keys(prefix string) []string {
	opt := badger.DefaultIteratorOptions
	opt.Prefix = []byte(prefix)
	opt.PrefetchValues = false
	it := t.t.NewIterator(opt)
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, string(it.Item().Key()[len(prefix):]))
	}
	return out
}

// validID checks an id given by a client: it becomes part of keys.
func validID(field, id string) error {
	if id == "" {
		return fieldErr(field, "required")
	}
	if len(id) > 64 {
		return fieldErr(field, "longer than 64 characters")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return fieldErr(field, "%q has %q: use letters, digits and - _ . :", id, r)
		}
	}
	return nil
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
