package recstore

import (
	"errors"
	"fmt"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"twin/twin/build"
)

// schemaKey holds the schema version of the database's records, a JSON
// number. A database written before the key existed is version 1.
// writtenByKey names the build that stamped it (a JSON string, see
// twin/build), so that an older build refusing the records can say which
// release to run.
const (
	schemaKey    = "meta/schema"
	writtenByKey = "meta/written_by"
)

// writer is "written by <build>" of the database, or "written by a newer
// twin" when it does not say.
func (s *Store) writer() string {
	by := ""
	s.View(func(t *Tx) error {
		_, err := t.get(writtenByKey, &by)
		return err
	})
	if by == "" {
		return "written by a newer twin"
	}
	return "written by " + by
}

// ErrNewer is a database written by a newer twin than this one.
var ErrNewer = errors.New("the records were written by a newer twin")

// Migration brings a database from schema version From to From+1: it
// rewrites what changed, in as many transactions as it needs (Update). It
// must be safe to run again from the start, because a migration stopped
// half way (a power cut) runs again on the next open; the version moves
// on once Run returned without error. What says in a line what changes.
type Migration struct {
	From int
	What string
	Run  func(*Store) error
}

// migrate brings the database to version, stamping a new one.
func (s *Store) migrate(version int, ms []Migration) error {
	var have int
	var stamped bool
	err := s.View(func(t *Tx) error {
		var err error
		stamped, err = t.get(schemaKey, &have)
		return err
	})
	if err != nil {
		return err
	}
	if !stamped {
		have = version // a new database is the current version
		if s.hasRecords() {
			have = 1
		}
	}
	if have > version {
		return fmt.Errorf("%w: schema version %d, %s; this build (%s) reads up to %d: run that release (or a newer one), or restore a backup made for this one", ErrNewer, have, s.writer(), build.Name(), version)
	}
	for have < version {
		i := -1
		for j, m := range ms {
			if m.From == have {
				i = j
			}
		}
		if i < 0 {
			return fmt.Errorf("no migration from schema version %d to %d", have, have+1)
		}
		s.log.Info("records: migrating", "from", have, "to", have+1, "what", ms[i].What)
		if err := ms[i].Run(s); err != nil {
			return fmt.Errorf("migration %d → %d (%s): %w", have, have+1, ms[i].What, err)
		}
		have++
		if err := s.stamp(have); err != nil {
			return err
		}
		stamped = true
	}
	if !stamped {
		if err := s.stamp(have); err != nil {
			return err
		}
	}
	s.version = have
	return nil
}

func (s *Store) stamp(v int) error {
	return s.Update("system", "schema", func(t *Tx) error {
		if err := t.Set(writtenByKey, build.Name()); err != nil {
			return err
		}
		return t.Set(schemaKey, v)
	})
}

// checkVersion refuses a database of another version than version.
func (s *Store) checkVersion(version int) error {
	have := 1
	err := s.View(func(t *Tx) error {
		ok, err := t.get(schemaKey, &have)
		if err == nil && !ok {
			have = 1
		}
		return err
	})
	if err != nil {
		return err
	}
	s.version = have
	switch {
	case have > version:
		return fmt.Errorf("%w: schema version %d, %s; this build (%s) reads up to %d", ErrNewer, have, s.writer(), build.Name(), version)
	case have < version:
		return fmt.Errorf("the records are of schema version %d: start the twin on them once (twin serve) to bring them to version %d", have, version)
	}
	return nil
}

// hasRecords says whether the database holds anything but the schema
// version and the sequences' leases.
func (s *Store) hasRecords() bool {
	found := false
	s.View(func(t *Tx) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		it := t.t.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key())
			if !strings.HasPrefix(k, "seq/") && !strings.HasPrefix(k, "meta/") {
				found = true
				return nil
			}
		}
		return nil
	})
	return found
}
