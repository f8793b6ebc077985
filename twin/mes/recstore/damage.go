package recstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Damage: a value that Badger cannot read (a value log file missing or
// cut short) or that does not decode (a copy of a live directory cut a
// record short: "unexpected end of JSON input") is a damaged record.
// Reads pass over it (a list leaves it out, Get of it in View finds
// nothing, Must says it is damaged), count it (Store.Unreadable) and log
// its key once. A change that reads it is refused (ErrDamaged): nothing
// is decided on a record that cannot be read, and nothing overwrites it.
// Repair moves damaged values to the quarantine (FORMAT.md) with their
// raw bytes.

// ErrDamaged is a record whose stored value cannot be read or decoded.
var ErrDamaged = errors.New("damaged on disk")

// DamagedError is the damaged record at Key. It is ErrDamaged and, for
// the API's answer, ErrNotFound (the record cannot be found as it was).
type DamagedError struct {
	Key string
	Err error // what Badger or the JSON decoder said
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("records: %s is damaged on disk and cannot be read (%v): reads pass over it, changes of it are refused; stop the twin and run twin verify --data DIR --repair to move it to the quarantine, or restore a backup", e.Key, e.Err)
}

func (e *DamagedError) Unwrap() []error { return []error{ErrDamaged, ErrNotFound} }

// damage counts and logs (once per key) a value that cannot be read.
type damage struct {
	mu     sync.Mutex
	n      uint64
	logged map[string]bool
}

// maxLoggedKeys bounds the keys whose damage is remembered as logged.
const maxLoggedKeys = 10000

// damaged counts a damaged value at key, logs it the first time, and
// returns its error.
func (s *Store) damaged(key string, err error) *DamagedError {
	s.dmg.mu.Lock()
	s.dmg.n++
	first := !s.dmg.logged[key]
	if first && len(s.dmg.logged) < maxLoggedKeys {
		if s.dmg.logged == nil {
			s.dmg.logged = map[string]bool{}
		}
		s.dmg.logged[key] = true
	}
	n := s.dmg.n
	s.dmg.mu.Unlock()
	if first {
		s.log.Error("records: a record does not decode; reads pass over it", "key", key, "err", err, "unreadable", n)
	}
	return &DamagedError{Key: key, Err: err}
}

// Unreadable counts the times a read met a damaged record (and passed
// over it, or refused the change that read it).
func (s *Store) Unreadable() uint64 {
	s.dmg.mu.Lock()
	defer s.dmg.mu.Unlock()
	return s.dmg.n
}

// QuarantinePrefix is the key space of damaged values moved aside by
// Repair: quarantine/<16 hex digits of the repair's Unix ns>/<key>.
const QuarantinePrefix = "quarantine/"

// Quarantined is a damaged value moved aside: the quarantine's value.
type Quarantined struct {
	Key string    `json:"key"` // where it was
	At  time.Time `json:"at"`  // when it was moved
	// What is why it was moved: what Badger or the JSON decoder said.
	What string `json:"what"`
	// Raw is the value as it was stored (absent when Badger could not
	// read it).
	Raw []byte `json:"raw,omitempty"`
}

// RepairReport is what Repair found and did.
type RepairReport struct {
	Checked int           // values read
	Moved   []Quarantined // moved to the quarantine (Raw left out)
	// Kept are damaged values Repair leaves where they are, with why
	// (the schema version: moving it would run the migrations again).
	Kept []string
}

// skipRepair tells which keys are not JSON records: index entries and
// flags (empty or one byte), sequences (binary), the quarantine itself.
func skipRepair(k string) bool {
	return strings.HasPrefix(k, "x/") || strings.HasPrefix(k, "seq/") || strings.HasPrefix(k, QuarantinePrefix)
}

// Damaged finds every damaged value (one Badger cannot read, or one
// that is not JSON) outside the index entries, the sequences and the
// quarantine, in one read: what Repair would move (Raw holds the bytes
// as stored) and the damaged values it would keep (the schema version).
func (s *Store) Damaged() (*RepairReport, []Quarantined, error) {
	rep := &RepairReport{}
	var found []Quarantined
	err := s.View(func(t *Tx) error {
		it := t.t.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key())
			if skipRepair(k) {
				continue
			}
			rep.Checked++
			raw, err := it.Item().ValueCopy(nil)
			what := ""
			switch {
			case err != nil:
				what, raw = err.Error(), nil
			case !json.Valid(raw):
				var v any
				what = "not JSON"
				if err := json.Unmarshal(raw, &v); err != nil {
					what = err.Error()
				}
			default:
				continue
			}
			if strings.HasPrefix(k, "meta/") {
				rep.Kept = append(rep.Kept, fmt.Sprintf("%s: %s (the schema version: restore a backup; moving it would run the migrations again)", k, what))
				continue
			}
			found = append(found, Quarantined{Key: k, What: what, Raw: raw})
		}
		return nil
	})
	if err != nil {
		return rep, nil, fmt.Errorf("records: looking for damaged records: %w", err)
	}
	return rep, found, nil
}

// Repair moves every damaged value (Damaged) to the quarantine, with its
// raw bytes, and removes it from its key: nothing is deleted, and reads
// no longer meet it. The schema version (meta/) is reported, not moved.
// An audit entry moved aside breaks the chain there: Verify reports it
// (the chain is not rewritten), and the entries written after the
// repair go on numbering after it. The index entries of the moved
// records are the domain's to rebuild (mes.RepairIndexes). Run it on a
// stopped twin, after a backup.
func (s *Store) Repair() (*RepairReport, error) {
	if s.ro {
		return nil, errors.New("records: repair: the records are open read-only")
	}
	rep, found, err := s.Damaged()
	if err != nil {
		return rep, err
	}
	at := s.now()
	for len(found) > 0 {
		n := min(len(found), 500)
		err := s.Update("system", "verify.repair", func(t *Tx) error {
			for _, q := range found[:n] {
				q.At = at
				if err := t.Set(QuarantinePrefix+fmt.Sprintf("%016x/", at.UnixNano())+q.Key, q); err != nil {
					return err
				}
				if err := t.Delete(q.Key); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("records: repair: %w", err)
		}
		for _, q := range found[:n] {
			s.log.Warn("records: a damaged record moved to the quarantine", "key", q.Key, "what", q.What)
			q.At, q.Raw = at, nil
			rep.Moved = append(rep.Moved, q)
		}
		found = found[n:]
	}
	return rep, nil
}

// QuarantinedAudit returns the largest sequence number of an audit
// entry in the quarantine (0: none): the chain's numbering goes on after
// it.
func (t *Tx) quarantinedAudit() uint64 {
	var max uint64
	t.Scan(QuarantinePrefix, "", func(rest string, _ int64) bool {
		// <16 hex>/aud/<16 hex>
		if i := strings.Index(rest, "/aud/"); i == 16 {
			if n, err := strconv.ParseUint(rest[i+5:], 16, 64); err == nil && n > max {
				max = n
			}
		}
		return true
	})
	return max
}
