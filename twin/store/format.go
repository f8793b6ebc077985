package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"twin/twin/build"
)

// FormatVersion is the version of the history's on-disk format (the keys
// and records of the package doc) that this build reads and writes. A
// store written before versions were kept is of version 1: its format is
// this one; it is marked when opened.
//
// A change to the format raises the version and adds the migration from
// the one before to formatMigrations; Open runs them in order, each in
// transactions of its own, logged, and safe to run again after a crash.
const FormatVersion = 1

// ErrNewer is a history written by a newer twin than this one.
var ErrNewer = errors.New("the history was written by a newer twin")

// metaFormat holds the format record, JSON:
//
//	{"version": 1, "written_by": "twin v0.3.0 (4f1c2a9e0b7d)"}
//
// written_by names the build that last raised the version (the main
// module's version and VCS revision).
var metaFormat = []byte("mfmt")

type formatRecord struct {
	Version   int    `json:"version"`
	WrittenBy string `json:"written_by"`
}

// formatMigrations[v] brings a store from version v to v+1.
var formatMigrations = map[int]func(s *Store) error{}

// checkFormat reads the store's format record: a newer version is
// refused, saying which build wrote it; an older one is migrated; a store
// without one is marked with this build's.
func (s *Store) checkFormat(dir string) error {
	var have formatRecord
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(metaFormat)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error { return json.Unmarshal(v, &have) })
	})
	if err != nil {
		return fmt.Errorf("the format record: %w", err)
	}
	if have.Version > FormatVersion {
		return fmt.Errorf("%w: %s is history format version %d, written by %s; this build (%s) reads up to version %d: run that release or a newer one, or restore a backup made for this one",
			ErrNewer, dir, have.Version, have.WrittenBy, build.Name(), FormatVersion)
	}
	if have.Version == FormatVersion {
		return nil
	}
	if have.Version == 0 {
		have.Version = 1 // before versions were kept: the format of version 1
	}
	for v := have.Version; v < FormatVersion; v++ {
		m := formatMigrations[v]
		if m == nil {
			return fmt.Errorf("no migration of the history from format version %d to %d", v, v+1)
		}
		s.log.Info("store: migrating the history", "dir", dir, "from", v, "to", v+1)
		if err := m(s); err != nil {
			return fmt.Errorf("migrating the history from format version %d to %d: %w", v, v+1, err)
		}
		if err := s.markFormat(v + 1); err != nil {
			return err
		}
	}
	return s.markFormat(FormatVersion)
}

func (s *Store) markFormat(v int) error {
	b, _ := json.Marshal(formatRecord{Version: v, WrittenBy: build.Name()})
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaFormat, b) }); err != nil {
		return fmt.Errorf("marking the history as format version %d: %w", v, err)
	}
	return nil
}
