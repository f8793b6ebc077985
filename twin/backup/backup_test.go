package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/goleak"

	"twin/plant/event"
	"twin/twin/backup"
	"twin/twin/mes/recstore"
	"twin/twin/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// plantTwin is a data directory with its history and records open, and
// writers that append events and change records until stopped.
type plantTwin struct {
	dir  string
	hist *store.Store
	recs *recstore.Store

	stop    chan struct{}
	wg      sync.WaitGroup
	events  atomic.Int64 // events appended
	changes atomic.Int64 // record changes committed
	errs    chan error
	limit   int64 // the writers stop at this many events (0: never)
}

func openTwin(t *testing.T) *plantTwin {
	t.Helper()
	dir := t.TempDir()
	hist, err := store.Open(dir, store.Options{SnapshotEvery: 500, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := recstore.Open(filepath.Join(dir, "mes", "db"), recstore.Options{Kinds: map[string]string{"order": "order"},
		Version: 2, Logger: quiet, Anchors: filepath.Join(dir, "mes", "audit-anchors.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "mes", "card.key"), bytes.Repeat([]byte{7}, 32), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "plant.yaml"), []byte("plant: test\n"), 0o644))
	return &plantTwin{dir: dir, hist: hist, recs: recs, stop: make(chan struct{}), errs: make(chan error, 2)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// write starts the writers: one appends batches of events, one changes
// records (each change an order and its audit entry).
func (p *plantTwin) write() {
	p.stop = make(chan struct{})
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		t0 := int64(1_764_000_000e9)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			n := p.events.Load()
			if p.limit > 0 && n >= p.limit {
				<-p.stop
				return
			}
			evs := make([]event.Event, 50)
			for i := range evs {
				evs[i] = event.Event{Time: t0 + (n+int64(i))*1e8, Kind: event.Counter, Asset: fmt.Sprintf("p/l/c/M%d", i%4), Name: "good", Value: float64(n + int64(i))}
			}
			if err := p.hist.Append(evs); err != nil {
				p.errs <- err
				return
			}
			p.events.Add(int64(len(evs)))
		}
	}()
	go func() {
		defer p.wg.Done()
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			n := p.changes.Load()
			if p.limit > 0 && n >= p.limit/20 {
				<-p.stop
				return
			}
			id := fmt.Sprintf("PO-%d", n%300) // new orders, then changes of them
			err := p.recs.Update("li", "order.save", func(tx *recstore.Tx) error {
				var before map[string]any
				if ok, err := tx.Get("order/"+id, &before); err != nil {
					return err
				} else if !ok {
					before = nil
				}
				after := map[string]any{"id": id, "n": n, "note": strings.Repeat("x", int(n%400))}
				if err := tx.Put("order", id, before, after); err != nil {
					return err
				}
				return tx.Mark(fmt.Sprintf("x/time/order/order/%016x/%s", n, id), nil)
			})
			if err != nil {
				p.errs <- err
				return
			}
			p.changes.Add(1)
		}
	}()
}

// pause stops the writers and waits for them.
func (p *plantTwin) pause(t *testing.T) {
	t.Helper()
	close(p.stop)
	p.wg.Wait()
	select {
	case err := <-p.errs:
		t.Fatal(err)
	default:
	}
}

func (p *plantTwin) close(t *testing.T) {
	t.Helper()
	must(t, errors.Join(p.hist.Close(), p.recs.Close()))
}

// reopen opens the closed stores again.
func (p *plantTwin) reopen(t *testing.T) backup.Source {
	t.Helper()
	var err error
	if p.hist, err = store.Open(p.dir, store.Options{SnapshotEvery: -1, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if p.recs, err = recstore.Open(filepath.Join(p.dir, "mes", "db"), recstore.Options{Version: 2, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	return p.source()
}

func (p *plantTwin) source() backup.Source {
	return backup.Source{Dir: p.dir, History: p.hist, Records: p.recs}
}

// waitFor waits until cond holds, at most 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60 s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// kv is one key's value in a Badger database at a version.
type kv struct {
	value []byte
	meta  byte
}

// at reads every key of the Badger database in dir as it stood at
// version v (math.MaxUint64: now), from every version the database
// still holds (none is compacted away in these small tests: nothing is
// flushed before the stores close, and they do not compact then).
func at(t *testing.T, dir string, v uint64) map[string]kv {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithCompactL0OnClose(false).WithNumVersionsToKeep(math.MaxInt32))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]kv{}
	err = db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.AllVersions = true
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := string(item.Key())
			if item.Version() > v {
				continue
			}
			if _, ok := out[k]; ok {
				continue // a newer version at or before v came first
			}
			if item.IsDeletedOrExpired() {
				out[k] = kv{meta: 1}
				continue
			}
			val, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			out[k] = kv{value: val}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, e := range out {
		if e.meta == 1 {
			delete(out, k)
		}
	}
	return out
}

// sameKVs reports the keys where got and want differ.
func sameKVs(t *testing.T, what string, got, want map[string]kv) {
	t.Helper()
	bad := 0
	for k, w := range want {
		g, ok := got[k]
		if !ok || !bytes.Equal(g.value, w.value) {
			if bad++; bad <= 5 {
				t.Errorf("%s: key %q: restored %q (present %v), want %q", what, k, trunc(g.value), ok, trunc(w.value))
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if bad++; bad <= 10 {
				t.Errorf("%s: key %q restored, but it was written after the backup", what, k)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d keys differ of %d", what, bad, len(want))
	}
}

func trunc(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}

// TestBackupUnderLoad: a full backup and an increment, each taken while
// events are appended and records changed, restore to exactly the state
// each reached: every key and value of both Badger databases as they
// stood at the version the manifest names, nothing written after it;
// and the manifest's facts are those of that state.
func TestBackupUnderLoad(t *testing.T) {
	p := openTwin(t)
	p.write()
	waitFor(t, "the first writes", func() bool { return p.events.Load() > 1000 && p.changes.Load() > 50 })
	out := t.TempDir()
	full := filepath.Join(out, "full.tar")
	ev0, ch0 := p.events.Load(), p.changes.Load()
	m1, err := backup.WriteFile(context.Background(), full, p.source(), backup.Options{Zone: time.FixedZone("CST", 8*3600)})
	if err != nil {
		t.Fatal(err)
	}
	if p.events.Load() == ev0 && p.changes.Load() == ch0 {
		t.Fatal("nothing was written while the backup ran: the test did not test a backup under load")
	}
	waitFor(t, "writes after the full backup", func() bool { return p.events.Load() > ev0+2000 && p.changes.Load() > ch0+100 })
	incr := filepath.Join(out, "incr.tar")
	m2, err := backup.WriteFile(context.Background(), incr, p.source(), backup.Options{Since: m1, Zone: time.FixedZone("CST", 8*3600)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes after the increment", func() bool { return p.events.Load() > ev0+4000 })
	p.pause(t)
	p.close(t)

	hp1, hp2 := part(t, m1, backup.HistoryPart), part(t, m2, backup.HistoryPart)
	rp1, rp2 := part(t, m1, backup.RecordsPart), part(t, m2, backup.RecordsPart)
	if m2.Kind != backup.Incremental || m2.Prev != m1.ID || hp2.Since != hp1.Reach+1 || rp2.Since != rp1.Reach+1 {
		t.Fatalf("the increment: kind %s prev %s since %d/%d; want incremental after %s from %d/%d", m2.Kind, m2.Prev, hp2.Since, rp2.Since, m1.ID, hp1.Reach+1, rp1.Reach+1)
	}
	if !strings.HasSuffix(m1.Created, "+08:00") || m1.Zone != "CST" {
		t.Errorf("created %s in %s; want the plant's zone, +08:00", m1.Created, m1.Zone)
	}

	histAll := map[uint64]map[string]kv{hp1.Reach: at(t, p.dir, hp1.Reach), hp2.Reach: at(t, p.dir, hp2.Reach)}
	recsAll := map[uint64]map[string]kv{rp1.Reach: at(t, filepath.Join(p.dir, "mes", "db"), rp1.Reach), rp2.Reach: at(t, filepath.Join(p.dir, "mes", "db"), rp2.Reach)}
	now := at(t, p.dir, math.MaxUint64)
	if len(now) <= len(histAll[hp2.Reach]) {
		t.Fatalf("the history holds %d keys now, %d at the increment: nothing was written after it", len(now), len(histAll[hp2.Reach]))
	}

	for _, c := range []struct {
		name  string
		files []string
		m     *backup.Manifest
	}{{"full", []string{full}, m1}, {"full+increment", []string{full, incr}, m2}} {
		t.Run(c.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "data")
			if _, err := backup.Restore(c.files, dst, backup.RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
			hp, rp := part(t, c.m, backup.HistoryPart), part(t, c.m, backup.RecordsPart)
			sameKVs(t, "history", at(t, dst, math.MaxUint64), histAll[hp.Reach])
			sameKVs(t, "records", at(t, filepath.Join(dst, "mes", "db"), math.MaxUint64), recsAll[rp.Reach])
			for _, f := range []string{"plant.yaml", "mes/card.key", "mes/audit-anchors.jsonl"} {
				want, _ := os.ReadFile(filepath.Join(p.dir, f))
				got, err := os.ReadFile(filepath.Join(dst, f))
				if f == "mes/audit-anchors.jsonl" {
					continue // the twin anchored again at its stop, after the backup
				}
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s restored %q (%v), want %q", f, got, err, want)
				}
			}

			h, err := store.Open(dst, store.Options{SnapshotEvery: -1, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if h.Seq() != hp.Hist.LastSeq {
				t.Errorf("the restored history's last sequence number is %d, its manifest says %d", h.Seq(), hp.Hist.LastSeq)
			}
			_, last, _, _ := h.Bounds()
			if got := time.Unix(0, last).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339Nano); got != hp.Hist.Newest {
				t.Errorf("the restored history's newest event is of %s, its manifest says %s", got, hp.Hist.Newest)
			}
			rep, err := h.Verify(context.Background())
			if err != nil || !rep.OK() {
				t.Errorf("the restored history does not verify: %+v %v", rep, err)
			}
			r, err := recstore.Open(filepath.Join(dst, "mes", "db"), recstore.Options{ReadOnly: true, Version: 2, Logger: quiet, Anchors: filepath.Join(dst, "mes", "audit-anchors.jsonl")})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			vr, err := r.VerifyAnchored()
			if err != nil {
				t.Errorf("the restored audit chain: %v", err)
			} else if vr.Last != rp.Recs.AuditSeq || r.Head().Hash != rp.Recs.AuditHash || rp.Recs.Schema != 2 {
				t.Errorf("the restored audit chain ends at %d %s, its manifest says %d %s (schema %d)", vr.Last, r.Head().Hash, rp.Recs.AuditSeq, rp.Recs.AuditHash, rp.Recs.Schema)
			}
		})
	}
}

func part(t *testing.T, m *backup.Manifest, name string) backup.Part {
	t.Helper()
	for _, p := range m.Parts {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("backup %s has no part %s", m.ID, name)
	return backup.Part{}
}

// TestRestoreRefuses: a damaged file is refused by its checksum before
// anything is written; an increment first, a gap, a wrong order and a
// non-empty directory are refused, naming the file.
func TestRestoreRefuses(t *testing.T) {
	p := openTwin(t)
	out := t.TempDir()
	var files []string
	var prev *backup.Manifest
	for i := range 3 {
		p.write()
		waitFor(t, "writes", func() bool { return p.events.Load() > int64(500*(i+1)) && p.changes.Load() > int64(20*(i+1)) })
		p.pause(t)
		f := filepath.Join(out, fmt.Sprintf("b%d.tar", i))
		m, err := backup.WriteFile(context.Background(), f, p.source(), backup.Options{Since: prev})
		if err != nil {
			t.Fatal(err)
		}
		files, prev = append(files, f), m
	}
	p.close(t)

	damaged := filepath.Join(out, "damaged.tar")
	b, _ := os.ReadFile(files[0])
	// a byte in the history's part, past the tar headers
	i := bytes.Index(b, []byte("mseq"))
	if i < 0 {
		t.Fatal("no mseq key in the backup")
	}
	b[i+6] ^= 0x40
	must(t, os.WriteFile(damaged, b, 0o600))

	dst := filepath.Join(t.TempDir(), "data")
	for _, c := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"damaged", []string{damaged, files[1]}, []string{damaged, "part history.badger is damaged", "SHA-256"}},
		{"increment first", []string{files[1], files[2]}, []string{files[1], "not a full backup", "give the full backup first"}},
		{"gap", []string{files[0], files[2]}, []string{files[2], "missing (a gap)"}},
		{"order", []string{files[0], files[2], files[1]}, []string{files[2], "out of order", "follows " + files[1]}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := backup.Restore(c.files, dst, backup.RestoreOptions{})
			if err == nil {
				t.Fatal("restored")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nwant it to say %q", err, w)
				}
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s was written (%v): a refused restore writes nothing", dst, err)
			}
		})
	}
	if _, err := backup.Check(damaged); !errors.As(err, new(*backup.ChecksumError)) {
		t.Errorf("Check of a damaged file: %v, want a *ChecksumError", err)
	}

	// the whole chain restores; again into the same directory only with --force
	if _, err := backup.Restore(files, dst, backup.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := backup.Restore(files, dst, backup.RestoreOptions{})
	if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("a restore into a restored directory: %v, want it refused as not empty, pointing to --force", err)
	}
	wiped := false
	if _, err := backup.Restore(files, dst, backup.RestoreOptions{Force: true, Wipe: func(d string) error { wiped = true; return os.RemoveAll(d) }}); err != nil || !wiped {
		t.Errorf("restore --force: %v (wiped %v)", err, wiped)
	}
}

// TestSchedule: scheduled backups run while the twin writes, a full one
// and then increments until the chain's full backup is FullEvery old;
// only the Keep newest chains stay; the newest chain restores; Stats
// says when the last one succeeded; Close joins the goroutine.
func TestSchedule(t *testing.T) {
	p := openTwin(t)
	p.limit = 5_000
	p.write()
	dir := t.TempDir()
	s, err := backup.StartSchedule(backup.ScheduleOptions{Dir: dir, Every: 30 * time.Millisecond, FullEvery: time.Hour, Keep: 1,
		Source: p.source(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "6 scheduled backups", func() bool { return s.Stats().Runs >= 6 })
	s.Close()
	s.Close()
	p.pause(t)
	p.close(t)
	st := s.Stats()
	if st.Failures > 0 || st.LastSuccess.IsZero() || st.LastBytes == 0 || st.Runs < 6 {
		t.Errorf("stats %+v: want successes only, the last one's time and size", st)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	fulls := 0
	for _, e := range ents {
		names = append(names, filepath.Join(dir, e.Name()))
		if strings.HasSuffix(e.Name(), "-full.tar") {
			fulls++
		}
	}
	if fulls != 1 || len(names) < 2 || !strings.HasSuffix(names[0], "-full.tar") {
		t.Fatalf("the backup directory holds %v: want one chain (Keep 1), a full backup and its increments", names)
	}
	ms, err := backup.Restore(names, filepath.Join(t.TempDir(), "data"), backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ms[len(ms)-1].ID; !strings.HasSuffix(st.LastFile, filepath.Base(names[len(names)-1])) {
		t.Errorf("the last backup %s (%s) is not the newest file %s", st.LastFile, got, names[len(names)-1])
	}

	// a full backup each time (FullEvery < 0), the 2 newest kept: the
	// chain above goes
	s, err = backup.StartSchedule(backup.ScheduleOptions{Dir: dir, Every: 10 * time.Millisecond, FullEvery: -1, Keep: 2,
		Source: p.reopen(t), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "4 more backups", func() bool { return s.Stats().Runs >= 4 })
	s.Close()
	p.close(t)
	ents, _ = os.ReadDir(dir)
	if len(ents) != 2 || !strings.HasSuffix(ents[0].Name(), "-full.tar") || !strings.HasSuffix(ents[1].Name(), "-full.tar") {
		t.Errorf("after full backups with Keep 2 the directory holds %v: want the 2 newest full backups", ents)
	}
}

// TestScheduleOverdue: backups that fail are counted, and once none has
// succeeded the schedule is overdue: Stats says so and Overdue is called.
func TestScheduleOverdue(t *testing.T) {
	called := make(chan bool, 10)
	s, err := backup.StartSchedule(backup.ScheduleOptions{Dir: t.TempDir(), Every: 10 * time.Millisecond, Logger: quiet,
		Source:  backup.Source{Dir: t.TempDir()}, // no databases: each backup fails
		Overdue: func(over bool, _ time.Duration) { called <- over }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case over := <-called:
		if !over {
			t.Errorf("Overdue(false) first")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Overdue not called in 20 s")
	}
	st := s.Stats()
	if !st.Overdue || st.Failures == 0 || !strings.Contains(st.LastError, "not open") {
		t.Errorf("stats %+v: want overdue, failures counted, the error", st)
	}
}
