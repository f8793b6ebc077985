package recstore

import (
	"errors"
	"strings"
	"testing"
	"twin/twin/build"
)

// legacy makes a database as the twin wrote it before the schema
// version: records, and no version key.
func legacy(t *testing.T, dir string) {
	s := open(t, dir, Options{})
	err := s.Update("ann", "rec.new", func(t *Tx) error {
		for _, id := range []string{"a", "b", "c"} {
			if err := t.Put("rec", id, nil, map[string]any{"name": id}); err != nil {
				return err
			}
		}
		return t.Delete(schemaKey)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestSchemaVersion: a new database is stamped with the caller's version;
// one written before the version key is version 1 and is migrated step by
// step, once; a migration that fails leaves the version as it was (and
// runs again on the next open); a database of a newer version is refused.
func TestSchemaVersion(t *testing.T) {
	s := open(t, t.TempDir(), Options{Version: 3})
	if s.Version() != 3 {
		t.Errorf("a new database: version %d, want 3", s.Version())
	}
	s.Close()

	dir := t.TempDir()
	legacy(t, dir)
	s = open(t, dir, Options{Version: 1})
	if s.Version() != 1 {
		t.Errorf("a database before versions: %d, want 1", s.Version())
	}
	s.Close()

	// v1 → v2 adds a field to every record, v2 → v3 renames a key
	runs := map[int]int{}
	ms := []Migration{
		{From: 2, What: "rec/ → item/", Run: func(s *Store) error {
			runs[2]++
			return s.Update("system", "migrate", func(t *Tx) error {
				for _, id := range t.Keys("rec/") {
					var v map[string]any
					if _, err := t.Get("rec/"+id, &v); err != nil {
						return err
					}
					if err := t.Set("item/"+id, v); err != nil {
						return err
					}
					if err := t.Delete("rec/" + id); err != nil {
						return err
					}
				}
				return nil
			})
		}},
		{From: 1, What: "records get a unit", Run: func(s *Store) error {
			runs[1]++
			return s.Update("system", "migrate", func(t *Tx) error {
				for _, id := range t.Keys("rec/") {
					var v map[string]any
					if _, err := t.Get("rec/"+id, &v); err != nil {
						return err
					}
					v["unit"] = "pcs"
					if err := t.Set("rec/"+id, v); err != nil {
						return err
					}
				}
				return nil
			})
		}},
	}
	failing := append([]Migration{{From: 1, What: "fails", Run: func(s *Store) error {
		return errors.New("disk full")
	}}}, ms[0])
	if _, err := Open(dir, Options{Kinds: kinds, Logger: quiet, Version: 3, Migrations: failing}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a failing migration: %v", err)
	}
	s = open(t, dir, Options{Version: 1})
	if s.Version() != 1 {
		t.Errorf("after a failed migration: version %d, want 1", s.Version())
	}
	s.Close()

	s = open(t, dir, Options{Version: 3, Migrations: ms})
	if s.Version() != 3 || runs[1] != 1 || runs[2] != 1 {
		t.Fatalf("migrated to %d, runs %v", s.Version(), runs)
	}
	var v map[string]any
	s.View(func(t *Tx) error { _, err := t.Get("item/b", &v); return err })
	if v["name"] != "b" || v["unit"] != "pcs" {
		t.Errorf("item/b after the migrations: %v", v)
	}
	if n := len(func() (k []string) { s.View(func(t *Tx) error { k = t.Keys("rec/"); return nil }); return }()); n != 0 {
		t.Errorf("%d rec/ keys left", n)
	}
	s.Close()
	s = open(t, dir, Options{Version: 3, Migrations: ms})
	s.Close()
	if runs[1] != 1 || runs[2] != 1 {
		t.Errorf("reopened: migrations ran again: %v", runs)
	}

	_, err := Open(dir, Options{Kinds: kinds, Logger: quiet, Version: 2})
	if !errors.Is(err, ErrNewer) || !strings.Contains(err.Error(), "schema version 3, written by "+build.Name()) || !strings.Contains(err.Error(), "reads up to 2") {
		t.Errorf("a newer database: %v", err)
	}
	_, err = Open(dir, Options{Kinds: kinds, Logger: quiet, Version: 4})
	if err == nil || !strings.Contains(err.Error(), "no migration from schema version 3") {
		t.Errorf("no migration: %v", err)
	}
}
