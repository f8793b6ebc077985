package mes

import (
	"slices"
	"testing"
	"time"
)

// TestDuring: a time index read between two times gives the ids from the
// first (included) to the second (excluded), open where a bound is zero.
func TestDuring(t *testing.T) {
	r := newRig(t, t.TempDir())
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	err := r.db.update("test", "test", func(t *tx) error {
		for h, id := range []string{"a", "b", "c", "d"} {
			if err := t.index("time", "test", "x", tkey(at(h), id)); err != nil {
				return err
			}
		}
		return t.index("time", "other", "x", tkey(at(1), "z")) // another index: never read
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
		r.db.view(func(t *tx) error { got = t.during("x/time/test/x/", c.from, c.to); return nil })
		if !slices.Equal(got, c.want) {
			t.Errorf("during [%v, %v): %v, want %v", c.from, c.to, got, c.want)
		}
	}
}
