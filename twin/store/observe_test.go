package store

import (
	"testing"

	"twin/plant/event"
)

// count is an Observer that keeps what it was given.
type count struct{ n, zero int }

func (c *count) Observe(s float64) {
	c.n++
	if s <= 0 {
		c.zero++
	}
}

// TestStatsLateAndLatency: each append is measured once (its whole and
// its commit, both longer than nothing: a sync happened), events older
// than the newest before them count as late, and Closed says when the
// store is.
func TestStatsLateAndLatency(t *testing.T) {
	var app, com count
	s, err := Open(t.TempDir(), Options{SnapshotEvery: -1, AppendLatency: &app, CommitLatency: &com})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(ts int64) event.Event {
		return event.Event{Time: ts, Kind: event.Counter, Asset: "M1", Name: "good", Value: 1}
	}
	for _, b := range [][]event.Event{{ev(10), ev(20)}, {ev(30)}, {ev(15), ev(40), ev(35)}} {
		if err := s.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Late != 2 || st.Seq != 6 {
		t.Errorf("late %d (want 2: 15 after 30, 35 after 40), seq %d (want 6)", st.Late, st.Seq)
	}
	if app.n != 3 || com.n != 3 || app.zero+com.zero != 0 {
		t.Errorf("appends measured %d, commits %d (want 3 each), %d of them 0 s", app.n, com.n, app.zero+com.zero)
	}
	if s.Closed() {
		t.Fatal("an open store says it is closed")
	}
	s.Close()
	if !s.Closed() {
		t.Fatal("a closed store does not say so")
	}
}
