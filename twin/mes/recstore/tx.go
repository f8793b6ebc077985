package recstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Tx is one change (or one read): a Badger transaction and the audit
// entries it writes.
type Tx struct {
	t *badger.Txn
	s *Store
	// User and Action are what the audit entries say of the change; a
	// change may name its action more closely as it learns what it is
	// ("scan" → "scan.confirm").
	User, Action string
	// Now is the store's clock when the transaction began.
	Now    time.Time
	post   []func()
	audits []pending // written at the commit
	// write: a change (Update), which a damaged record refuses; a read
	// (View) passes over it
	write bool
	// passed is the damaged record a read passed over last (Must names it)
	passed *DamagedError
}

// AfterCommit runs f once the change is committed and on disk (not when
// it fails or is retried): what the world outside the records learns of
// the change.
func (t *Tx) AfterCommit(f func()) { t.post = append(t.post, f) }

// Get reads the record at key into v; false when there is none. A
// damaged record (one that cannot be read or decoded: a *DamagedError)
// is passed over by a read (View: false, counted, logged) and refuses a
// change (Update: its error).
func (t *Tx) Get(key string, v any) (bool, error) {
	ok, err := t.get(key, v)
	if d, is := errors.AsType[*DamagedError](err); is && !t.write {
		t.passed = d
		return false, nil
	}
	return ok, err
}

// get is Get that returns the *DamagedError of a damaged record in a
// read too (the schema version must not be taken for missing).
func (t *Tx) get(key string, v any) (bool, error) {
	it, err := t.t.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("records: read %s: %w", key, err)
	}
	if err := it.Value(func(b []byte) error { return decodeInto(b, v) }); err != nil {
		return false, t.s.damaged(key, err)
	}
	return true, nil
}

// PassedOver returns the *DamagedError of key if the last record this
// read passed over (Get) was key's, else nil.
func (t *Tx) PassedOver(key string) error {
	if t.passed != nil && t.passed.Key == key {
		return t.passed
	}
	return nil
}

// Must reads the record kind/id or returns a not-found error naming it
// (one that says so when the record is damaged).
func (t *Tx) Must(kind, id string, v any) error {
	key := kind + "/" + id
	ok, err := t.Get(key, v)
	if err == nil && !ok {
		if t.passed != nil && t.passed.Key == key {
			return fmt.Errorf("%s %q: %w", t.s.Kind(kind), id, t.passed)
		}
		err = fmt.Errorf("%s %q: %w", t.s.Kind(kind), id, ErrNotFound)
	}
	return err
}

// Exists says whether key holds a value.
func (t *Tx) Exists(key string) (bool, error) {
	_, err := t.t.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("records: read %s: %w", key, err)
	}
	return true, nil
}

// Set writes v as JSON at key without an audit entry (derived data); a
// nil v writes an empty value.
func (t *Tx) Set(key string, v any) error {
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return fmt.Errorf("records: encoding %s: %w", key, err)
		}
	}
	return t.Mark(key, b)
}

// Mark writes the raw value b at key (an index entry or a flag; nil for
// an empty value).
func (t *Tx) Mark(key string, b []byte) error {
	if err := t.t.Set([]byte(key), b); err != nil {
		return fmt.Errorf("records: write %s: %w", key, err)
	}
	return nil
}

// Delete removes key (an index entry; records are never deleted).
func (t *Tx) Delete(key string) error {
	if err := t.t.Delete([]byte(key)); err != nil {
		return fmt.Errorf("records: delete %s: %w", key, err)
	}
	return nil
}

// Put writes the record kind/id, whose previous value was before (nil
// for a new record), and its audit entry.
func (t *Tx) Put(kind, id string, before, after any) error {
	a, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("records: encoding %s %s: %w", kind, id, err)
	}
	if err := t.Mark(kind+"/"+id, a); err != nil {
		return err
	}
	return t.audit(kind, id, before, a)
}

// Audit writes the audit entry of a change of the record kind/id kept
// by Set under another key (a token under its hash, audited under its
// short id).
func (t *Tx) Audit(kind, id string, before, after any) error {
	a, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("records: encoding %s %s: %w", kind, id, err)
	}
	return t.audit(kind, id, before, a)
}

func (t *Tx) audit(kind, id string, before any, after json.RawMessage) error {
	var b json.RawMessage
	if before != nil {
		var err error
		if b, err = json.Marshal(before); err != nil {
			return fmt.Errorf("records: encoding %s %s: %w", kind, id, err)
		}
		if string(b) == "null" { // a nil pointer: a new record
			b = nil
		}
	}
	return t.auditEntry(kind, id, b, after)
}

// Index records that record kind/id belongs to the owner (an order, a
// station, a serial, a lot): x/<by>/<owner>/<kind>/<id>. An empty owner
// indexes nothing.
func (t *Tx) Index(by, owner, kind, id string) error {
	if owner == "" {
		return nil
	}
	return t.Mark("x/"+by+"/"+owner+"/"+kind+"/"+id, nil)
}

// NextID returns a new number for generated ids (1, 2, …; never reused).
func (t *Tx) NextID() (uint64, error) {
	n, err := t.s.ids.Next()
	if err != nil {
		return 0, fmt.Errorf("records: next id: %w", err)
	}
	return n + 1, nil
}

// Keys returns the rest of every key under prefix, in order (index
// entries).
func (t *Tx) Keys(prefix string) []string {
	var out []string
	t.Scan(prefix, "", func(rest string, _ int64) bool { out = append(out, rest); return true })
	return out
}

// Scan calls fn with the rest of each key under prefix, from the key
// prefix+from on, and the size of its value, until fn returns false.
// Values are not read.
func (t *Tx) Scan(prefix, from string, fn func(rest string, size int64) bool) {
	opt := badger.DefaultIteratorOptions
	opt.Prefix, opt.PrefetchValues = []byte(prefix), false
	it := t.t.NewIterator(opt)
	defer it.Close()
	for it.Seek([]byte(prefix + from)); it.Valid(); it.Next() {
		if !fn(string(it.Item().Key()[len(prefix):]), it.Item().ValueSize()) {
			return
		}
	}
}

// TimeKey is the key of id in a time index: its time as 16 hex digits
// of Unix nanoseconds, "/", the id; keys sort by time.
func TimeKey(at time.Time, id string) string { return fmt.Sprintf("%016x/%s", at.UnixNano(), id) }

// During returns the ids in the time index under prefix (keys
// prefix+TimeKey) from from to before to; a zero bound is open. It reads
// only that stretch of the index.
func (t *Tx) During(prefix string, from, to time.Time) []string {
	start := ""
	if !from.IsZero() {
		start = TimeKey(from, "")
	}
	var ids []string
	t.Scan(prefix, start, func(k string, _ int64) bool {
		if len(k) < 17 || k[16] != '/' {
			return true
		}
		ns, err := strconv.ParseUint(k[:16], 16, 64)
		if err != nil {
			return true
		}
		if !to.IsZero() && int64(ns) >= to.UnixNano() {
			return false
		}
		ids = append(ids, k[17:])
		return true
	})
	return ids
}
