package recstore

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Anchor is the audit chain's head at a time, written outside the
// database: one JSON object per line of the anchor file,
// {"seq":…,"hash":"…","at":"…"}. Keep a copy where the plant's IT keeps
// logs (syslog, a write-once share): a chain rewritten on disk from an
// entry on no longer matches the anchors after it.
type Anchor struct {
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

// Head is the audit chain's last entry now.
func (s *Store) Head() Anchor {
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	return Anchor{Seq: s.head.Seq, Hash: s.head.Hash, At: s.now()}
}

// Anchor appends the chain's head to the anchor file (synced), if it
// moved since the last anchor, and logs it.
func (s *Store) Anchor() error {
	if s.anchors == "" {
		return nil
	}
	s.anchorMu.Lock()
	defer s.anchorMu.Unlock()
	a := s.Head()
	if a.Seq == 0 || a.Seq == s.anchored.Seq && a.Hash == s.anchored.Hash {
		return nil
	}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(s.anchors, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("records: anchor: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("records: anchor: %w", err)
	}
	s.anchored = head{a.Seq, a.Hash}
	s.log.Info("records: audit chain anchored", "seq", a.Seq, "hash", a.Hash, "file", s.anchors)
	return nil
}

// VerifyAnchored is Verify against the anchors in the store's anchor
// file (Options.Anchors).
func (s *Store) VerifyAnchored() (*VerifyReport, error) {
	as, err := ReadAnchors(s.anchors)
	if err != nil {
		return nil, err
	}
	return s.Verify(as)
}

// ReadAnchors reads an anchor file; a missing file has none.
func ReadAnchors(path string) ([]Anchor, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("records: anchors: %w", err)
	}
	defer f.Close()
	var out []Anchor
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var a Anchor
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("records: %s line %d: not an anchor: %w", path, n, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("records: anchors: %w", err)
	}
	return out, nil
}

// ChainAudit is the migration that chains an audit log written before
// the chain: every entry, in order, gets the number of the entry before
// it and its hash. It runs in transactions of 1,000 entries and, run
// again, writes the same chain.
func ChainAudit(from int) Migration {
	return Migration{From: from, What: "the audit log becomes a hash chain", Run: (*Store).rechain}
}

func (s *Store) rechain() error {
	prev := head{}
	after := ""
	for {
		var keys []string
		err := s.View(func(t *Tx) error {
			t.Scan("aud/", after, func(rest string, _ int64) bool {
				if rest != after {
					keys = append(keys, rest)
				}
				return len(keys) < 1000
			})
			return nil
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		err = s.Update("system", "migrate", func(t *Tx) error {
			p := prev
			for _, k := range keys {
				var e AuditEntry
				if _, err := t.Get("aud/"+k, &e); err != nil {
					return err
				}
				e.Prev = p.Seq
				h, err := chain(p.Hash, e)
				if err != nil {
					return err
				}
				e.Hash = h
				if err := t.Set("aud/"+k, e); err != nil {
					return err
				}
				p = head{e.Seq, e.Hash}
			}
			prev = p
			return nil
		})
		if err != nil {
			return err
		}
		after = keys[len(keys)-1]
	}
}
