// Package mes holds the plant's execution records, the system of record
// beside the twin's history: production orders, the work orders released
// from them along the routings, operation cards and their scans, material
// lots and what went into each unit, the equipment ledger, quality
// inspections and nonconformances, maintenance plans and their completions,
// labour hours, the KPIs, and the users who may change them: the domain's
// rules. The records are kept by twin/mes/recstore (FORMAT.md there has
// every key); every change is one transaction with its audit entries.
// The HTTP API is twin/mes/api, the scheduler twin/mes/schedule.
//
// The records read the twin through two small interfaces: History (its
// event store: KPIs over machine time, the equipment history, the running
// hours missed while closed) and Live (the running twin: machine states,
// counters and energy meters as operations run, and the orders it learns
// of from the records). The live link (link.go) keeps running hours.
package mes

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/mes/recstore"
	"twin/twin/state"
	"twin/twin/window"
)

// History is the twin's event store, as the records read it.
type History = window.History

// Live is the running twin, as the records use it: its state, its events,
// and its input for the orders the records tell it of.
type Live interface {
	// Subscribe calls fn with every event the twin takes in, until cancel.
	Subscribe(fn func(event.Event)) (cancel func())
	// View calls fn with the twin's state, which fn must not keep.
	View(fn func(*state.State))
	// EmitBatch feeds events to the twin.
	EmitBatch(evs []event.Event, ack func(error))
}

// Options configure a DB.
type Options struct {
	Plant *plant.Plant // the plant the records are about (required)
	// History is the twin's event store, for KPIs over machine time and
	// the equipment history; nil: KPIs count only the records.
	History History
	// Live is the running twin: its events advance operations (the live
	// link); nil: no link.
	Live Live
	// Now is the clock records are stamped with when a request gives no
	// time (the plant clock in the demo); default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// NoSync returns before the disk has a write (benchmark set-up only).
	NoSync bool
	// HashPassword hashes a new password; nil: HashPassword. Tests that
	// make many accounts give one that reuses a real hash.
	HashPassword func(string) string
	// SignIn throttles sign-ins and bounds password hashing; its zero
	// fields are DefaultSignInOptions'.
	SignIn SignInOptions
	// Room, when not nil, is asked before every change (twin/disk.Guard.
	// Check): a disk without room refuses it with its error (disk.ErrFull),
	// the API answers 503; reads go on.
	Room func() error
}

// DB is the open records of a plant.
type DB struct {
	st   *recstore.Store
	p    *plant.Plant
	hist History
	now  func() time.Time
	log  *slog.Logger
	key  []byte // signs operation-card tokens
	link *link
	hash func(string) string
	// signin throttles sign-ins and holds the hashing slots
	signin *signIn

	scans scanStats
}

// Errors a caller can tell apart; the API maps them to status codes.
var (
	ErrNotFound  = recstore.ErrNotFound
	ErrConflict  = recstore.ErrConflict
	ErrForbidden = errors.New("forbidden") // the user's roles do not allow what the request asks (an override)
)

// FieldError is a request that cannot be carried out because of one field.
type FieldError = recstore.FieldError

// FieldErr returns a FieldError.
func FieldErr(field, format string, a ...any) error { return recstore.FieldErr(field, format, a...) }

// Page is one page of a list and the cursor of the next ("" at the end).
type Page[T any] = recstore.Page[T]

// AuditEntry is one change of one record in the audit log.
type AuditEntry = recstore.AuditEntry

// SchemaVersion is the version of the records' format this code reads
// and writes (recstore/FORMAT.md); migrations bring older ones to it.
const SchemaVersion = 2

// migrations bring records of older schema versions to SchemaVersion.
var migrations = []recstore.Migration{
	recstore.ChainAudit(1), // 1 → 2: the audit log becomes a hash chain
}

// AnchorFile is where the records' audit chain is anchored, in their
// directory (recstore.Anchor).
const AnchorFile = "audit-anchors.jsonl"

// Open opens (creating if needed) the records in dir: the database in
// dir/db, the card-signing key in dir/card.key.
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
		return nil, fmt.Errorf("mes: %w", err)
	}
	key, err := secret(filepath.Join(dir, "card.key"))
	if err != nil {
		return nil, err
	}
	st, err := recstore.Open(filepath.Join(dir, "db"), recstore.Options{Kinds: kindName, Version: SchemaVersion,
		Migrations: migrations, Now: opt.Now, Logger: opt.Logger, NoSync: opt.NoSync, Anchors: filepath.Join(dir, AnchorFile), Room: opt.Room})
	if err != nil {
		return nil, fmt.Errorf("mes: %w", err)
	}
	if opt.HashPassword == nil {
		opt.HashPassword = HashPassword
	}
	d := &DB{st: st, p: opt.Plant, hist: opt.History, now: opt.Now, log: opt.Logger, key: key, hash: opt.HashPassword,
		signin: newSignIn(opt.SignIn.withDefaults(runtime.NumCPU()))}
	err = d.seedLedger()
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
	if d.link != nil {
		d.link.stop()
		d.link = nil
	}
	return d.st.Close()
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
		return nil, fmt.Errorf("mes: card key: %w", err)
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("mes: card key: %w", err)
	}
	return b, nil
}

// tx is one change of the records: the store's transaction and the
// records it is about.
type tx struct {
	*recstore.Tx
	d *DB
}

// update runs fn in a read-write transaction and commits it with its
// audit entries (recstore.Store.Update: fn may run more than once).
func (d *DB) update(user, action string, fn func(*tx) error) error {
	return d.st.Update(user, action, func(t *recstore.Tx) error { return fn(&tx{Tx: t, d: d}) })
}

// view runs fn in a read-only transaction.
func (d *DB) view(fn func(*tx) error) error {
	return d.st.View(func(t *recstore.Tx) error { return fn(&tx{Tx: t, d: d}) })
}

// put writes the record kind/id and its audit entry; the twin learns of
// a changed order once the change is on disk.
func (t *tx) put(kind, id string, before, after any) error {
	if kind == "order" && t.d.link != nil {
		b, a, now, l := asOrder(before), asOrder(after), t.Now, t.d.link
		t.AfterCommit(func() { l.order(b, a, now) })
	}
	return t.Put(kind, id, before, after)
}

// kindName is the record kind (its key prefix) as the API and the audit
// log name it.
var kindName = map[string]string{
	"order": "order", "wo": "work_order", "op": "operation", "unit": "unit", "lot": "lot",
	"cons": "consumption", "iplan": "inspection_plan", "insp": "inspection", "nc": "nonconformance",
	"eq": "equipment", "mplan": "maintenance_plan", "mdone": "maintenance_completion",
	"lab": "labour", "clock": "clock", "flag": "flag", "user": "user", "token": "token", "sched": "schedule",
	"scan": "scan", "ovr": "override", "cnt": "count", "dt": "downtime", "lock": "lockout", "srclock": "source_lockout",
}

func list[T any](t *tx, prefix, cursor string, limit int, keep func(*T) bool) (Page[T], error) {
	return recstore.List(t.Tx, prefix, cursor, limit, keep)
}

func listIndex[T any](t *tx, prefix, kind, cursor string, limit int, keep func(*T) bool) (Page[T], error) {
	return recstore.ListIndex(t.Tx, prefix, kind, cursor, limit, keep)
}

// validID checks an id given by a client: it becomes part of keys.
func validID(field, id string) error {
	if id == "" {
		return FieldErr(field, "required")
	}
	if len(id) > 64 {
		return FieldErr(field, "longer than 64 characters")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return FieldErr(field, "%q has %q: use letters, digits and - _ . :", id, r)
		}
	}
	return nil
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// Store returns the record store, for tools and tests that load or count
// the records' keys (recstore/FORMAT.md).
func (d *DB) Store() *recstore.Store { return d.st }

// Keep writes the record kind/id of a kind another package computes (a
// schedule: twin/mes/schedule), with its audit entry.
func (d *DB) Keep(user, action, kind, id string, v any) error {
	return d.update(user, action, func(t *tx) error {
		var old json.RawMessage
		if ok, err := t.Get(kind+"/"+id, &old); err != nil {
			return err
		} else if !ok {
			return t.Put(kind, id, nil, v)
		}
		return t.Put(kind, id, old, v)
	})
}

// Read reads the record kind/id into v, or returns a not-found error.
func (d *DB) Read(kind, id string, v any) error {
	return d.view(func(t *tx) error { return t.Must(kind, id, v) })
}

// History returns the twin's event store the records read (nil: none).
func (d *DB) History() History { return d.hist }

// Logger returns the records' logger.
func (d *DB) Logger() *slog.Logger { return d.log }

// VerifyAudit checks the records' audit chain against its anchors
// (recstore.Store.Verify): nil, or a *recstore.Broken naming the first
// entry altered, removed or reordered.
func (d *DB) VerifyAudit() (*recstore.VerifyReport, error) { return d.st.VerifyAnchored() }
