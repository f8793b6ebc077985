package recstore

import (
	"encoding/json"
	"fmt"
	"time"
)

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
}

func auditKey(seq uint64) string { return fmt.Sprintf("aud/%016x", seq) }

func (t *Tx) auditEntry(kind, id string, before, after json.RawMessage) error {
	seq, err := t.s.audit.Next()
	if err != nil {
		return fmt.Errorf("records: audit sequence: %w", err)
	}
	e := AuditEntry{Seq: seq + 1, At: t.Now, User: t.User, Action: t.Action, Kind: t.s.Kind(kind), ID: id, Before: before, After: after}
	k := auditKey(e.Seq)
	if err := t.Set(k, e); err != nil {
		return err
	}
	return t.Mark("x/audit/"+kind+"/"+id+"/"+k[4:], nil)
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
