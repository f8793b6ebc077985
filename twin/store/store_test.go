package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"twin/plant/event"
	"twin/twin/state"
)

func open(t testing.TB, dir string, opt Options) *Store {
	t.Helper()
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var assets = []string{"qijiang/stator/stator-line/winding/W1", "qijiang/stator/stator-line/winding/W2", "qijiang/stator/stator-line/oven/OV1", "qijiang/final/final-line/eol/EOL1"}

// events makes a reproducible mixed stream with times from t0, a few
// seconds apart, some equal.
func events(seed uint64, n int, t0 int64) []event.Event {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]event.Event, n)
	t := t0
	for i := range out {
		t += int64(r.IntN(3)) * 1e9
		a := assets[r.IntN(len(assets))]
		switch r.IntN(5) {
		case 0:
			out[i] = event.Event{Time: t, Kind: event.State, Asset: a, Value: float64(1 + r.IntN(8))}
		case 1:
			out[i] = event.Event{Time: t, Kind: event.Counter, Asset: a, Name: "good", Value: float64(i)}
		case 2:
			out[i] = event.Event{Time: t, Kind: event.Measure, Asset: a, Name: "power_kw", Value: r.Float64() * 10}
		case 3:
			out[i] = event.Event{Time: t, Kind: event.Order, Asset: "YE3-100L-4", Name: "progress", Ref: "O" + strconv.Itoa(r.IntN(9)), Value: float64(r.IntN(50))}
		default:
			out[i] = event.Event{Time: t, Kind: event.Moved, Asset: a + "/buffer", Ref: fmt.Sprintf("O1/%d", i), Value: float64(r.IntN(40)), Quality: event.Uncertain}
		}
		// the same observation twice is one (the store keeps it once):
		// the stream has none
		for k := i - 1; k >= 0 && out[k].Time == t; k-- {
			if out[k] == out[i] {
				out[i].Quality = event.Uncertain
				out[i].Value += float64(i)
				break
			}
		}
	}
	return out
}

func fold(evs []event.Event, upTo int64) []byte {
	var st state.State
	for _, e := range evs {
		if e.Time <= upTo {
			st.Apply(e)
		}
	}
	b, _ := st.MarshalBinary()
	return b
}

func snap(st *state.State) []byte {
	b, _ := st.MarshalBinary()
	return b
}

func TestRoundTripOrderAndAsset(t *testing.T) {
	s := open(t, t.TempDir(), Options{SnapshotEvery: -1})
	defer s.Close()
	evs := events(1, 5000, 1_700_000_000e9)
	for i := 0; i < len(evs); i += 500 {
		if err := s.Append(evs[i : i+500]); err != nil {
			t.Fatal(err)
		}
	}
	var got []event.Event
	if err := s.Range(evs[0].Time, evs[len(evs)-1].Time, func(e event.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Fatalf("%d events back, %d stored", len(got), len(evs))
	}
	for i := range evs { // times were appended in order: same order back, equal times by arrival
		if got[i] != evs[i] {
			t.Fatalf("event %d: got %+v want %+v", i, got[i], evs[i])
		}
	}
	// one asset, a window
	from, to := evs[1000].Time, evs[3000].Time
	var want, have []event.Event
	for _, e := range evs {
		if e.Asset == assets[1] && e.Time >= from && e.Time <= to {
			want = append(want, e)
		}
	}
	if err := s.AssetRange(assets[1], from, to, func(e event.Event) error { have = append(have, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(have) != len(want) || len(want) == 0 || have[0] != want[0] || have[len(have)-1] != want[len(want)-1] {
		t.Fatalf("asset range: %d events, want %d", len(have), len(want))
	}
	first, last, ok, err := s.Bounds()
	if err != nil || !ok || first != evs[0].Time || last != evs[len(evs)-1].Time {
		t.Errorf("bounds %d %d %v %v", first, last, ok, err)
	}
}

// TestStateAtIsFullFold: the state at any time, from snapshot plus tail,
// equals the fold of every event up to then; across a reopen too.
func TestStateAtIsFullFold(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{SnapshotEvery: 700})
	evs := events(2, 6000, 1_700_000_000e9)
	for i := 0; i < len(evs); i += 250 {
		if err := s.Append(evs[i : i+250]); err != nil {
			t.Fatal(err)
		}
		s.waitSnapshots() // a pass asked for while one runs is merged into the next
	}
	check := func(s *Store) {
		r := rand.New(rand.NewPCG(3, 3))
		for k := 0; k < 40; k++ {
			at := evs[0].Time + r.Int64N(evs[len(evs)-1].Time-evs[0].Time+2e9) - 1e9
			st, err := s.StateAt(at)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(snap(st), fold(evs, at)) {
				t.Fatalf("state at %d differs from the full fold", at)
			}
		}
	}
	check(s)
	n := countSnapshots(t, s)
	if n < 5 {
		t.Errorf("%d snapshots for 6000 events every 700", n)
	}
	s.Close()
	s = open(t, dir, Options{SnapshotEvery: 700})
	defer s.Close()
	if s.Seq() != 6000 {
		t.Errorf("sequence after reopen %d", s.Seq())
	}
	check(s)
}

// TestLateEvents: an event older than the snapshots invalidates them; the
// state stays exact.
func TestLateEvents(t *testing.T) {
	s := open(t, t.TempDir(), Options{SnapshotEvery: 100})
	defer s.Close()
	evs := events(4, 1000, 1_700_000_000e9)
	late := evs[500]
	rest := append(append([]event.Event(nil), evs[:500]...), evs[501:]...)
	if err := s.Append(rest); err != nil {
		t.Fatal(err)
	}
	s.waitSnapshots()
	if err := s.Snapshot(evs[900].Time); err != nil {
		t.Fatal(err)
	}
	if err := s.Append([]event.Event{late}); err != nil {
		t.Fatal(err)
	}
	s.waitSnapshots()
	// arrival order matters for equal times: the late one is applied after
	// its equal-time peers, so compare with that order
	order := append(append([]event.Event(nil), rest...), late)
	sortStable(order)
	for _, at := range []int64{late.Time - 1, late.Time, evs[900].Time, evs[999].Time} {
		st, err := s.StateAt(at)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(snap(st), fold(order, at)) {
			t.Fatalf("state at %d after a late event differs from the full fold", at)
		}
	}
}

func sortStable(evs []event.Event) {
	for i := 1; i < len(evs); i++ { // insertion sort: stable, small
		for j := i; j > 0 && evs[j].Time < evs[j-1].Time; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

// TestSnapshotItCannotRead: a snapshot this build cannot decode (a newer
// twin's version, or damaged bytes) is passed over for an older one or
// for the events themselves; StateAt stays exact instead of failing.
func TestSnapshotItCannotRead(t *testing.T) {
	s := open(t, t.TempDir(), Options{SnapshotEvery: -1})
	defer s.Close()
	evs := events(7, 3000, 1_700_000_000e9)
	if err := s.Append(evs); err != nil {
		t.Fatal(err)
	}
	put := func(at int64, b []byte) {
		t.Helper()
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(snapKey(at), b) }); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string) {
		t.Helper()
		for _, at := range []int64{evs[500].Time, evs[1500].Time, evs[2500].Time, evs[2999].Time} {
			st, err := s.StateAt(at)
			if err != nil {
				t.Fatalf("%s: state at %d: %v", what, at, err)
			}
			if !bytes.Equal(snap(st), fold(evs, at)) {
				t.Fatalf("%s: state at %d differs from the full fold", what, at)
			}
		}
	}
	// the only snapshot is of version 9: the events from the first
	good := fold(evs, evs[2000].Time)
	future := append([]byte{9}, good[1:]...)
	var probe state.State
	if err := probe.UnmarshalBinary(future); !errors.Is(err, state.ErrVersion) {
		t.Fatalf("a version 9 snapshot decodes with %v, want state.ErrVersion", err)
	}
	put(evs[2000].Time, future)
	check("a snapshot of a newer version")
	// a good one before it, and a damaged one after
	if err := s.Snapshot(evs[1000].Time); err != nil {
		t.Fatal(err)
	}
	put(evs[2800].Time, good[:len(good)/2])
	check("a good snapshot, one of a newer version, a damaged one")
}

func TestRetention(t *testing.T) {
	s := open(t, t.TempDir(), Options{SnapshotEvery: -1})
	defer s.Close()
	evs := events(5, 3000, 1_700_000_000e9)
	if err := s.Append(evs); err != nil {
		t.Fatal(err)
	}
	cut := evs[1500].Time
	if err := s.DropBefore(cut); err != nil {
		t.Fatal(err)
	}
	first, _, _, _ := s.Bounds()
	if first < cut {
		t.Errorf("oldest event %d before the cut %d", first, cut)
	}
	for _, at := range []int64{cut, evs[2000].Time, evs[2999].Time} {
		st, err := s.StateAt(at)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(snap(st), fold(evs, at)) {
			t.Fatalf("state at %d after retention differs", at)
		}
	}
	n := 0
	s.AssetRange(assets[0], evs[0].Time, cut-1, func(event.Event) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d indexed events before the cut", n)
	}
}

func TestReplayPaced(t *testing.T) {
	s := open(t, t.TempDir(), Options{SnapshotEvery: -1})
	defer s.Close()
	t0 := int64(1_700_000_000e9)
	var evs []event.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, event.Event{Time: t0 + int64(i)*1e9, Kind: event.Counter, Asset: "a", Name: "good", Value: float64(i)})
	}
	s.Append(evs)
	var got []event.Event
	var after []time.Duration
	begin := time.Now()
	n, err := s.Replay(context.Background(), t0, t0+4e9, 20, event.SinkFunc(func(e event.Event) {
		got = append(got, e)
		after = append(after, time.Since(begin))
	}))
	if err != nil || n != 5 || got[4].Value != 4 || got[0].Source != event.Replay {
		t.Fatalf("replay: %d %v %+v", n, err, got)
	}
	// a second of plant time at ×20 is 50 ms: event i is due 50·i ms after
	// the start, never sooner (a slow machine makes it later, not earlier)
	for i, d := range after {
		if due := time.Duration(i) * 50 * time.Millisecond; d < due {
			t.Errorf("event %d replayed %v after the start, before its time (%v)", i, d, due)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, e := range events(6, 20, 0) {
		f.Add(AppendEvent(nil, &e))
	}
	f.Add([]byte{1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e event.Event
		if err := DecodeEvent(b, &e); err != nil {
			return
		}
		var e2 event.Event
		if err := DecodeEvent(AppendEvent(nil, &e), &e2); err != nil || e2 != e && !(e.Value != e.Value && e2.Value != e2.Value) {
			t.Fatalf("re-encoded record decodes to %+v, want %+v (%v)", e2, e, err)
		}
	})
}

// TestKill9: a child process appends batches and prints the last sequence
// number of each acknowledged (Append returned) batch; the parent kills it
// with SIGKILL in mid-stream, reopens the store, and finds every
// acknowledged event.
func TestKill9(t *testing.T) {
	if os.Getenv("STORE_KILL9_CHILD") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.v")
	cmd.Env = append(os.Environ(), "STORE_KILL9_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var acked uint64
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "ACK "); ok {
			acked, _ = strconv.ParseUint(v, 10, 64)
			if acked >= 20_000 {
				break // mid-stream: the child is still appending
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if acked < 20_000 {
		t.Fatalf("the child acknowledged only %d events", acked)
	}
	s := open(t, dir, Options{SnapshotEvery: -1})
	defer s.Close()
	if s.Seq() < acked {
		t.Fatalf("sequence %d after restart, %d acknowledged", s.Seq(), acked)
	}
	want := events(7, 100_000, 1_700_000_000e9)[:acked]
	var got []event.Event
	if err := s.Range(want[0].Time, want[len(want)-1].Time, func(e event.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("reading after kill -9: %v", err)
	}
	if len(got) < len(want) {
		t.Fatalf("%d events after kill -9, %d acknowledged", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d after kill -9: %+v, want %+v", i, got[i], want[i])
		}
	}
	t.Logf("killed after %d acknowledged events; %d on disk, every acknowledged one intact", acked, s.Seq())
}

// TestKill9Child is the appending process of TestKill9.
func TestKill9Child(t *testing.T) {
	dir := os.Getenv("STORE_KILL9_CHILD")
	if dir == "" {
		t.Skip("run by TestKill9")
	}
	s, err := Open(dir, Options{SnapshotEvery: 5000})
	if err != nil {
		t.Fatal(err)
	}
	evs := events(7, 100_000, 1_700_000_000e9)
	for i := 0; i < len(evs); i += 100 {
		seq, err := s.AppendSeq(evs[i : i+100])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ACK %d\n", seq)
	}
	select {} // wait to be killed
}

func countSnapshots(t *testing.T, s *Store) int {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSnap}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRetentionFromTheClock: retention is measured from the clock, not
// from the newest event. One event stamped 2100 (what any publisher on
// the broker could send before the twin quarantined such readings) used
// to make the next snapshot pass delete the whole history before 2100.
func TestRetentionFromTheClock(t *testing.T) {
	s := open(t, t.TempDir(), Options{SnapshotEvery: 100, Retention: time.Hour})
	defer s.Close()
	now := time.Now()
	mk := func(n int, from time.Time, step time.Duration) []event.Event {
		evs := make([]event.Event, n)
		for i := range evs {
			evs[i] = event.Event{Time: from.Add(time.Duration(i) * step).UnixNano(), Kind: event.Counter, Asset: assets[0], Name: "good", Value: float64(i)}
		}
		return evs
	}
	old := mk(150, now.Add(-2*time.Hour), 10*time.Second)       // 2 h to 1 h 35 min ago: past the retention
	recent := mk(250, now.Add(-50*time.Minute), 10*time.Second) // the last 50 minutes
	poison := event.Event{Time: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Kind: event.Counter, Asset: assets[1], Name: "good", Value: 1}
	count := func(from, to int64) int {
		n := 0
		if err := s.Range(from, to, func(event.Event) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, b := range [][]event.Event{old, recent[:150], {poison}, recent[150:]} {
		if err := s.Append(b); err != nil {
			t.Fatal(err)
		}
		s.waitSnapshots() // the pass the batch started, if any
	}
	st := s.Stats()
	kept := count(recent[0].Time, recent[len(recent)-1].Time)
	t.Logf("%d snapshot passes; %d of %d events of the last hour kept, %d older dropped", st.Passes, kept, len(recent), st.Dropped)
	if st.Passes < 3 {
		t.Fatalf("%d snapshot passes, want 3 or more", st.Passes)
	}
	if kept != len(recent) {
		t.Errorf("retention deleted %d of the %d events of the last hour", len(recent)-kept, len(recent))
	}
	if n := count(old[0].Time, old[len(old)-1].Time); n != 0 || st.Dropped != uint64(len(old)) {
		t.Errorf("%d events older than the retention left, %d dropped; want 0 and %d", n, st.Dropped, len(old))
	}
	if count(poison.Time, poison.Time) != 1 {
		t.Error("the event stamped 2100 is gone")
	}
}
