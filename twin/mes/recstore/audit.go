package recstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// The audit log is a hash chain: every entry commits to the entry before
// it (its sequence number and hash), so an entry altered, removed or
// moved on disk breaks the chain at that entry, and Verify finds it.
// Entries are numbered and chained when their change commits, in commit
// order, under one lock (the commits of concurrent changes are
// serialised for that instant; their work and their disk syncs are not).
//
// hash = SHA-256(previous entry's hash, 32 bytes; zeros for the first ||
// the entry's JSON without its hash), in hex. Anchors (Anchor) are the
// chain's head written outside the database: a chain rewritten from an
// entry on no longer matches the anchors after it.

// AuditEntry is one change of one record in the audit log.
type AuditEntry struct {
	Seq    uint64          `json:"seq"`
	At     time.Time       `json:"at"`
	User   string          `json:"user"`
	Action string          `json:"action"`
	Kind   string          `json:"kind"`
	ID     string          `json:"id"`
	Before json.RawMessage `json:"before,omitempty" doc:"the record before (absent for a new record)"`
	After  json.RawMessage `json:"after"`
	Prev   uint64          `json:"prev,omitempty" doc:"the sequence number of the entry before (0: none)"`
	Hash   string          `json:"hash,omitempty" doc:"SHA-256 over the previous entry's hash and this entry without its hash (hex)"`
}

// pending is an audit entry of a change not yet committed.
type pending struct {
	kind, id      string
	before, after json.RawMessage
}

// head is the chain's last entry.
type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func auditKey(seq uint64) string { return fmt.Sprintf("aud/%016x", seq) }

func (t *Tx) auditEntry(kind, id string, before, after json.RawMessage) error {
	t.audits = append(t.audits, pending{kind, id, before, after})
	return nil
}

// chain hashes entry e after the entry whose hash is prev.
func chain(prev string, e AuditEntry) (string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	p, err := hex.DecodeString(prev)
	if err != nil || len(p) != 0 && len(p) != sha256.Size {
		return "", fmt.Errorf("records: audit chain: a hash %q", prev)
	}
	if len(p) == 0 {
		p = make([]byte, sha256.Size)
	}
	h := sha256.New()
	h.Write(p)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeAudit numbers, chains and writes the change's audit entries after
// h; it runs under the store's chain lock, just before the commit.
func (t *Tx) writeAudit(h head) (head, error) {
	for _, p := range t.audits {
		e := AuditEntry{Seq: h.Seq + 1, At: t.Now, User: t.User, Action: t.Action, Kind: t.s.Kind(p.kind), ID: p.id,
			Before: p.before, After: p.after, Prev: h.Seq}
		var err error
		if e.Hash, err = chain(h.Hash, e); err != nil {
			return h, err
		}
		k := auditKey(e.Seq)
		if err := t.Set(k, e); err != nil {
			return h, err
		}
		if err := t.Mark("x/audit/"+p.kind+"/"+p.id+"/"+k[4:], nil); err != nil {
			return h, err
		}
		h = head{e.Seq, e.Hash}
	}
	return h, nil
}

// lastEntry reads the chain's head: the last audit entry. A damaged last
// entry (or one Repair moved to the quarantine) still holds its number:
// the next entry is numbered after it, and links to it with an unknown
// hash, so that Verify reports the break there instead of a chain that
// goes on as if nothing were missing.
func (s *Store) lastEntry() (head, error) {
	var h head
	err := s.View(func(t *Tx) error {
		opt := badger.DefaultIteratorOptions
		opt.Reverse = true
		opt.Prefix = []byte("aud/")
		it := t.t.NewIterator(opt)
		defer it.Close()
		it.Seek([]byte("aud/\xff"))
		if it.Valid() {
			k := string(it.Item().Key())
			var e AuditEntry
			if err := it.Item().Value(func(b []byte) error { return decodeInto(b, &e) }); err != nil {
				seq, perr := strconv.ParseUint(strings.TrimPrefix(k, "aud/"), 16, 64)
				if perr != nil {
					return s.damaged(k, err)
				}
				s.damaged(k, err)
				h = head{Seq: seq}
			} else {
				h = head{e.Seq, e.Hash}
			}
		}
		if q := t.quarantinedAudit(); q > h.Seq {
			h = head{Seq: q}
		}
		return nil
	})
	return h, err
}

// AuditOf returns the audit entries of the record kind/id (kind its key
// prefix), oldest first.
func (t *Tx) AuditOf(kind, id string) ([]AuditEntry, error) {
	var out []AuditEntry
	for _, k := range t.Keys("x/audit/" + kind + "/" + id + "/") {
		var a AuditEntry
		ok, err := t.Get("aud/"+k, &a)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// Audit lists audit entries in order, within [from, to) where a bound is
// not zero; kind and id narrow it to one record's (kind as the audit log
// names it, e.g. "work_order").
func (s *Store) Audit(kind, id string, from, to time.Time, cursor string, limit int) (Page[AuditEntry], error) {
	var p Page[AuditEntry]
	keep := func(a *AuditEntry) bool {
		return (from.IsZero() || !a.At.Before(from)) && (to.IsZero() || a.At.Before(to)) &&
			(kind == "" || a.Kind == kind) && (id == "" || a.ID == id)
	}
	err := s.View(func(t *Tx) (err error) {
		if kind != "" && id != "" {
			k := s.kindPrefix(kind)
			if k == "" {
				return FieldErr("kind", "%q is not a record kind", kind)
			}
			p, err = ListIndex(t, "x/audit/"+k+"/"+id+"/", "aud", cursor, limit, keep)
			return err
		}
		p, err = List(t, "aud/", cursor, limit, keep)
		return err
	})
	return p, err
}

// ErrTampered is an audit log whose chain is broken.
var ErrTampered = errors.New("the audit log has been tampered with")

// Broken is where the audit chain breaks.
type Broken struct {
	Seq  uint64 // the entry at or after which the chain breaks
	What string // altered, removed, reordered, not anchored …
}

func (b *Broken) Error() string {
	return fmt.Sprintf("audit entry %d: %s (%v)", b.Seq, b.What, ErrTampered)
}

func (b *Broken) Unwrap() error { return ErrTampered }

// VerifyReport is what Verify found.
type VerifyReport struct {
	Entries  int       // entries checked
	Last     uint64    // the last entry's number
	LastAt   time.Time // and its time
	Anchors  int       // anchors checked
	Anchored time.Time // the latest anchor's time
}

// Verify walks the audit chain from its first entry and checks each
// entry's hash and its link to the entry before, and that every anchor
// given matches the chain. It returns a *Broken (ErrTampered) naming the
// first entry altered, removed or reordered.
func (s *Store) Verify(anchors []Anchor) (*VerifyReport, error) {
	rep := &VerifyReport{}
	at := map[uint64]string{} // anchored seq → hash
	for _, a := range anchors {
		at[a.Seq] = a.Hash
		if a.At.After(rep.Anchored) {
			rep.Anchored = a.At
		}
	}
	var broken *Broken
	err := s.View(func(t *Tx) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte("aud/")
		it := t.t.NewIterator(opt)
		defer it.Close()
		prev := head{}
		for it.Rewind(); it.Valid(); it.Next() {
			var e AuditEntry
			key := string(it.Item().Key())
			err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &e) })
			switch {
			case err != nil:
				broken = &Broken{prev.Seq + 1, "unreadable at " + key}
			case key != auditKey(e.Seq):
				broken = &Broken{e.Seq, "reordered: entry " + fmt.Sprint(e.Seq) + " is kept at " + key}
			case e.Prev != prev.Seq && e.Prev > prev.Seq:
				broken = &Broken{e.Prev, fmt.Sprintf("removed: entry %d follows entry %d, which is missing", e.Seq, e.Prev)}
			case e.Prev != prev.Seq:
				broken = &Broken{e.Seq, fmt.Sprintf("reordered: entry %d says it follows %d, but follows %d", e.Seq, e.Prev, prev.Seq)}
			}
			if broken == nil {
				want, err := chain(prev.Hash, e)
				if err != nil || want != e.Hash {
					broken = &Broken{e.Seq, "altered: its hash does not match its contents and the entry before"}
				}
			}
			if broken == nil {
				if h, ok := at[e.Seq]; ok {
					if h != e.Hash {
						broken = &Broken{e.Seq, "altered: the chain does not match its anchor (rewritten since it was anchored)"}
					}
					rep.Anchors++
					delete(at, e.Seq)
				}
			}
			if broken != nil {
				return nil
			}
			prev = head{e.Seq, e.Hash}
			rep.Entries++
			rep.Last, rep.LastAt = e.Seq, e.At
		}
		for seq := range at {
			if seq > prev.Seq {
				broken = &Broken{prev.Seq + 1, fmt.Sprintf("removed: the log ends at entry %d, but entry %d was anchored", prev.Seq, seq)}
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if broken != nil {
		return rep, broken
	}
	return rep, nil
}
