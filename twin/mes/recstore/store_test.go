package recstore

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var kinds = map[string]string{"rec": "record", "wo": "work_order"}

func open(t testing.TB, dir string, o Options) *Store {
	t.Helper()
	if o.Kinds == nil {
		o.Kinds = kinds
	}
	o.Logger = quiet
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDuring: a time index read between two times gives the ids from the
// first (included) to the second (excluded), open where a bound is zero.
func TestDuring(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	err := s.Update("test", "test", func(t *Tx) error {
		for h, id := range []string{"a", "b", "c", "d"} {
			if err := t.Index("time", "test", "x", TimeKey(at(h), id)); err != nil {
				return err
			}
		}
		return t.Index("time", "other", "x", TimeKey(at(1), "z")) // another index: never read
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from, to time.Time
		want     []string
	}{
		{time.Time{}, time.Time{}, []string{"a", "b", "c", "d"}},
		{at(1), at(3), []string{"b", "c"}},
		{at(1).Add(time.Nanosecond), time.Time{}, []string{"c", "d"}},
		{time.Time{}, at(1), []string{"a"}},
		{at(4), time.Time{}, nil},
	} {
		var got []string
		s.View(func(t *Tx) error { got = t.During("x/time/test/x/", c.from, c.to); return nil })
		if !slices.Equal(got, c.want) {
			t.Errorf("during [%v, %v): %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

// TestValueLogGC: records changed many times leave stale values in the
// value log; collecting rewrites the stale files, and every record still
// reads its last value.
func TestValueLogGC(t *testing.T) {
	defer func(t func(badger.Options) badger.Options) { Tune = t }(Tune)
	Tune = func(o badger.Options) badger.Options {
		return o.WithValueLogFileSize(1 << 20).WithNumLevelZeroTables(1).WithNumCompactors(0)
	}
	dir := t.TempDir()
	vlogBytes := func() (n int64) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	s := open(t, dir, Options{})
	const keys, rounds = 50, 40
	round := func(r int) {
		for k := range keys {
			v := map[string]any{"round": r, "pad": strings.Repeat("x", 2000)}
			if err := s.Update("test", "test", func(t *Tx) error { return t.Set("tst/"+strconv.Itoa(k), v) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	for r := range rounds {
		if r == rounds/2 { // the memtable on disk as a table, and later another
			s.Close()
			s = open(t, dir, Options{})
		}
		round(r)
	}
	last := rounds - 1
	// Compacting the tables drops the stale versions and counts them for
	// the gc, unless the compaction runs before Badger has noted that the
	// reads of the open are over (its read watermark moves on in a
	// goroutine of its own): then it keeps every version, and one more
	// round and compaction, a few milliseconds later, drops them.
	var n int
	var before, after int64
	for attempt := 1; attempt <= 3 && n == 0; attempt++ {
		if attempt > 1 {
			t.Logf("attempt %d: the compaction kept the stale versions", attempt)
			last++
			round(last)
		}
		s.Close()
		s = open(t, dir, Options{})
		if err := s.Flatten(1); err != nil {
			t.Fatal(err)
		}
		before = vlogBytes()
		n = s.Collect()
		after = vlogBytes()
	}
	defer s.Close()
	t.Logf("value log: %d files rewritten, %d KiB before, %d KiB after", n, before>>10, after>>10)
	if n == 0 || after > before/2 {
		t.Fatalf("value log gc: %d files rewritten, %d bytes before, %d after", n, before, after)
	}
	for k := range keys {
		var v struct{ Round int }
		if err := s.View(func(t *Tx) error { _, err := t.Get("tst/"+strconv.Itoa(k), &v); return err }); err != nil || v.Round != last {
			t.Fatalf("key %d after gc: round %d, %v", k, v.Round, err)
		}
	}
}

// TestAudit: every Put writes an audit entry with the record before and
// after, readable by record and in order; a failed change writes none.
func TestAudit(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	type rec struct{ N int }
	for n := range 3 {
		err := s.Update("ann", "rec.set", func(t *Tx) error {
			var before *rec
			var old rec
			if ok, err := t.Get("rec/a", &old); err != nil {
				return err
			} else if ok {
				before = &old
			}
			return t.Put("rec", "a", before, rec{n})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	if err := s.Update("bob", "rec.set", func(t *Tx) error {
		if err := t.Put("rec", "b", nil, rec{9}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failed change: %v", err)
	}
	p, err := s.Audit("record", "a", time.Time{}, time.Time{}, "", 10)
	if err != nil || len(p.Items) != 3 {
		t.Fatalf("audit of rec a: %v %+v", err, p)
	}
	for i, e := range p.Items {
		if e.User != "ann" || e.Kind != "record" || string(e.After) != `{"N":`+strconv.Itoa(i)+`}` || (i == 0) != (e.Before == nil) {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	all, _ := s.Audit("", "", time.Time{}, time.Time{}, "", 10)
	if len(all.Items) != 3 {
		t.Errorf("the failed change left %d entries, want 3 in all", len(all.Items))
	}
	if _, err := s.Audit("nothing", "a", time.Time{}, time.Time{}, "", 10); err == nil {
		t.Error("an unknown kind is not refused")
	}
	var v rec
	err = s.View(func(t *Tx) error { return t.Must("wo", "W1", &v) })
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `work_order "W1"`) {
		t.Errorf("Must of a missing record: %v", err)
	}
}

// TestConflictsRetryThenGiveUp: concurrent changes of one record all land
// (retried against each other); a change that conflicts on every attempt
// gives up with ErrBusy, a conflict.
func TestConflictsRetryThenGiveUp(t *testing.T) {
	s := open(t, t.TempDir(), Options{NoSync: true})
	defer s.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := s.Update("u", "inc", func(t *Tx) error {
				var n int
				if _, err := t.Get("rec/n", &n); err != nil {
					return err
				}
				return t.Set("rec/n", n+1)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var n int
	s.View(func(t *Tx) error { _, err := t.Get("rec/n", &n); return err })
	if n != 20 {
		t.Fatalf("20 concurrent increments gave %d", n)
	}
	attempts := 0
	err := s.Update("u", "always", func(t *Tx) error {
		attempts++
		var v int
		t.Get("rec/n", &v)
		// a change committed between this read and the commit, every time
		if err := s.Update("v", "other", func(t *Tx) error { return t.Set("rec/n", v+attempts) }); err != nil {
			return err
		}
		return t.Set("rec/n", -1)
	})
	if !errors.Is(err, ErrBusy) || !errors.Is(err, ErrConflict) || attempts != maxAttempts {
		t.Fatalf("a change in conflict on every attempt: %v after %d attempts", err, attempts)
	}
}
