package store

import (
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"twin/plant/event"
)

var update = flag.Bool("update", false, "rewrite testdata/history-v1 (only when the format's version is raised: it stands for the release that wrote it)")

// onDisk edits a closed store's Badger database directly, as damage on
// disk would.
func onDisk(t *testing.T, dir string, fn func(txn *badger.Txn) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// A damaged event record (its version byte changed on disk) is passed
// over by every read, counted and logged with its key; the reads go on
// (before, Range, Replay and StateAt stopped at it with 0 events).
func TestUnreadableRecordPassedOver(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{SnapshotEvery: -1})
	evs := events(3, 1000, 1_700_000_000e9)
	if err := s.Append(evs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	bad := evs[400]
	onDisk(t, dir, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: eventKey(nil, bad.Time, 0)[:9]})
		defer it.Close()
		it.Rewind()
		if !it.Valid() {
			return errors.New("the event is not on disk")
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		v[0] = 9 // a version this build does not know
		return txn.Set(it.Item().KeyCopy(nil), v)
	})
	var logs strings.Builder
	s = open(t, dir, Options{SnapshotEvery: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer s.Close()
	n := 0
	if err := s.Range(evs[0].Time, evs[999].Time, func(event.Event) error { n++; return nil }); err != nil {
		t.Fatalf("Range: %v", err)
	}
	if n != 999 {
		t.Errorf("Range read %d events, want 999 (one passed over)", n)
	}
	sent, err := s.Replay(t.Context(), evs[0].Time, evs[999].Time, 0, event.SinkFunc(func(event.Event) {}))
	if err != nil || sent != 999 {
		t.Errorf("Replay: %d events, %v; want 999", sent, err)
	}
	if _, err := s.StateAt(evs[999].Time); err != nil {
		t.Errorf("StateAt: %v", err)
	}
	m := 0
	if err := s.AssetRange(bad.Asset, evs[0].Time, evs[999].Time, func(event.Event) error { m++; return nil }); err != nil {
		t.Errorf("AssetRange: %v", err)
	}
	if got := s.Stats().Unreadable; got != 4 {
		t.Errorf("unreadable counted %d times, want 4 (one per read)", got)
	}
	if !strings.Contains(logs.String(), "does not decode") || !strings.Contains(logs.String(), "key=65") {
		t.Errorf("the damage is not logged with its key:\n%s", logs.String())
	}
}

// A history of a newer format version is refused, naming the version and
// the build that wrote it; one without a format record (written before
// versions were kept) is marked as version 1 and opens.
func TestFormatVersion(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{SnapshotEvery: -1})
	if err := s.Append(events(1, 10, 1_700_000_000e9)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var rec formatRecord
	onDisk(t, dir, func(txn *badger.Txn) error {
		it, err := txn.Get(metaFormat)
		if err != nil {
			return err
		}
		v, _ := it.ValueCopy(nil)
		return json.Unmarshal(v, &rec)
	})
	if rec.Version != FormatVersion || !strings.HasPrefix(rec.WrittenBy, "twin ") {
		t.Fatalf("format record %+v", rec)
	}
	onDisk(t, dir, func(txn *badger.Txn) error {
		return txn.Set(metaFormat, []byte(`{"version": 7, "written_by": "twin v9.1.0 (abcdef012345)"}`))
	})
	_, err := Open(dir, Options{SnapshotEvery: -1})
	if !errors.Is(err, ErrNewer) || !strings.Contains(err.Error(), "format version 7") || !strings.Contains(err.Error(), "twin v9.1.0 (abcdef012345)") {
		t.Fatalf("a newer history opened with %v", err)
	}
	onDisk(t, dir, func(txn *badger.Txn) error { return txn.Delete(metaFormat) })
	s = open(t, dir, Options{SnapshotEvery: -1})
	n := 0
	s.Range(0, 1<<62, func(event.Event) error { n++; return nil })
	s.Close()
	if n != 10 {
		t.Errorf("the unmarked history has %d events, want 10", n)
	}
}

// A history of format version 1 as a release wrote it (testdata/
// history-v1, kept as it was written: the next release must open it)
// opens with this build and reads the events it was given.
func TestFormatFixture(t *testing.T) {
	fixture := filepath.Join("testdata", "history-v1")
	want := events(11, 300, 1_700_000_000e9)
	if *update {
		os.RemoveAll(fixture)
		s := open(t, fixture, Options{SnapshotEvery: 100})
		if err := s.Append(want); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatalf("copying the fixture: %v", err)
	}
	s := open(t, dir, Options{SnapshotEvery: -1})
	defer s.Close()
	var got []event.Event
	if err := s.Range(0, 1<<62, func(e event.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	sortStable(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the fixture reads %d events, not the %d it was written with", len(got), len(want))
	}
	st, err := s.StateAt(want[150].Time)
	if err != nil || string(snap(st)) != string(fold(want, want[150].Time)) {
		t.Errorf("state from the fixture's snapshot: %v", err)
	}
}

// A broker redelivers, after the twin restarts, what it had sent just
// before a crash: stored, not acknowledged. The store keeps each
// observation once (before: 2,224 readings stored twice in a crash test),
// and still stores a late reading it did not have.
func TestRedeliveryStoredOnce(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{SnapshotEvery: -1})
	evs := events(5, 2000, 1_700_000_000e9)
	if err := s.Append(evs[:1500]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, Options{SnapshotEvery: -1})
	defer s.Close()
	late := event.Event{Time: evs[700].Time, Kind: event.Measure, Asset: assets[0], Name: "power_kw", Value: 123.25}
	redelivered := append(append([]event.Event{}, evs[1200:1500]...), late)
	redelivered = append(redelivered, evs[1500:]...)
	if err := s.Append(redelivered); err != nil {
		t.Fatal(err)
	}
	var got []event.Event
	if err := s.Range(0, 1<<62, func(e event.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2001 {
		t.Errorf("%d events stored, want 2,001 (2,000 once each and the late one)", len(got))
	}
	if r := s.Stats().Repeats; r != 300 {
		t.Errorf("%d repeats counted, want 300", r)
	}
	if !slices.Contains(got, late) {
		t.Error("the late reading was taken for a repeat")
	}
	if redelivered[0] != evs[1200] {
		t.Error("Append changed the caller's slice")
	}
}
