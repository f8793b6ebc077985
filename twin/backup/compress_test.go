package backup_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/backup"
	"twin/twin/mes/recstore"
	"twin/twin/store"
)

// TestCompressed: a backup's Badger parts are compressed (format 2,
// zstd), their size and checksum those of the stored bytes, and a
// restore gives back every event and record. On this plant's kind of
// data (events of a few assets, JSON records) the parts are more than 3
// times smaller than Badger's stream.
func TestCompressed(t *testing.T) {
	p := openTwin(t)
	var evs []event.Event
	for i := range 5000 {
		evs = append(evs, event.Event{Time: 1_790_000_000e9 + int64(i)*1e9, Kind: event.Counter, Source: event.Live, Asset: fmt.Sprintf("qijiang/stator/W%d", i%4), Name: "good", Value: float64(i / 4)})
	}
	must(t, p.hist.Append(evs))
	for i := 1; i <= 500; i++ {
		id := fmt.Sprintf("PO-%04d", i)
		must(t, p.recs.Update("li", "order.create", func(t *recstore.Tx) error {
			return t.Put("order", id, nil, map[string]any{"id": id, "customer": "Chongqing Motors", "product": "YE3-100L-4", "quantity": i, "status": "planned"})
		}))
	}
	out := filepath.Join(t.TempDir(), "full.tar")
	m, err := backup.WriteFile(context.Background(), out, backup.Source{Dir: p.dir, History: p.hist, Records: p.recs}, backup.Options{})
	must(t, err)
	if m.Format != 2 {
		t.Errorf("format %d, want 2", m.Format)
	}
	for _, part := range m.Parts {
		if part.Kind != backup.KindBadger {
			continue
		}
		t.Logf("%s: %d bytes, %d decompressed (%.1f×)", part.Name, part.Size, part.RawSize, float64(part.RawSize)/float64(part.Size))
		if part.Compression != backup.CompressZstd || part.Size*3 > part.RawSize {
			t.Errorf("%s: compression %q, %d bytes of %d: want zstd, over 3 times smaller", part.Name, part.Compression, part.Size, part.RawSize)
		}
	}
	if _, err := backup.Check(out); err != nil {
		t.Fatal(err)
	}
	p.hist.Close()
	p.recs.Close()
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore([]string{out}, dst, backup.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	n, orders := restored(t, dst)
	if n != 5000 || orders != 500 {
		t.Errorf("restored %d events and %d orders, want 5000 and 500", n, orders)
	}
}

// restored counts the events and the orders of the data directory dir.
func restored(t *testing.T, dir string) (events, orders int) {
	t.Helper()
	h, err := store.Open(dir, store.Options{SnapshotEvery: -1, Logger: quiet})
	must(t, err)
	defer h.Close()
	must(t, h.Range(0, 1<<62, func(event.Event) error { events++; return nil }))
	r, err := recstore.Open(filepath.Join(dir, "mes", "db"), recstore.Options{ReadOnly: true, Version: 2, Logger: quiet})
	must(t, err)
	defer r.Close()
	must(t, r.View(func(t *recstore.Tx) error {
		t.Scan("order/", "", func(string, int64) bool { orders++; return true })
		return nil
	}))
	return events, orders
}

// TestRestoreFormat1: testdata/format1.tar was written by the build
// before compression (format 1: 300 events, 20 orders, the card key):
// this one checks and restores it whole.
func TestRestoreFormat1(t *testing.T) {
	m, err := backup.Check("testdata/format1.tar")
	must(t, err)
	if m.Format != 1 {
		t.Fatalf("the fixture's format %d, want 1", m.Format)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore([]string{"testdata/format1.tar"}, dst, backup.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, orders := restored(t, dst); n != 300 || orders != 20 {
		t.Errorf("restored %d events and %d orders, want 300 and 20", n, orders)
	}
	key, err := os.ReadFile(filepath.Join(dst, "mes", "card.key"))
	if err != nil || !bytes.Equal(key, []byte("0123456789abcdef0123456789abcdef")) {
		t.Errorf("the card key: %q, %v", key, err)
	}
}

// BenchmarkBackupCompression: a full backup of 200,000 events and
// 50,000 orders (each with its audit entry), compressed and not: the
// file's size and the time it takes, and the restore's. Run it with
// -benchtime 1x.
func BenchmarkBackupCompression(b *testing.B) {
	dir := b.TempDir()
	hist, err := store.Open(dir, store.Options{SnapshotEvery: -1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer hist.Close()
	recs, err := recstore.Open(filepath.Join(dir, "mes", "db"), recstore.Options{Kinds: map[string]string{"order": "order"}, Version: 2, Logger: quiet, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer recs.Close()
	for k := 0; k < 200_000; k += 10_000 {
		evs := make([]event.Event, 0, 10_000)
		for i := k; i < k+10_000; i++ {
			evs = append(evs, event.Event{Time: 1_790_000_000e9 + int64(i)*1e8, Kind: event.Measure, Source: event.Live, Asset: fmt.Sprintf("qijiang/stator/stator-line/winding/W%d", i%12), Name: "power_kw", Value: 7 + float64(i%97)/10})
		}
		if err := hist.Append(evs); err != nil {
			b.Fatal(err)
		}
	}
	for k := 1; k <= 50_000; k += 500 {
		err := recs.Update("li", "order.create", func(t *recstore.Tx) error {
			for i := k; i < k+500; i++ {
				id := fmt.Sprintf("PO-%06d", i)
				if err := t.Put("order", id, nil, map[string]any{"id": id, "customer": "Chongqing Motors", "priority": i % 3, "product": "YE3-100L-4", "quantity": 10 + i%90,
					"due": "2026-12-20T17:00:00+08:00", "status": "planned", "created": "2026-12-01T09:30:00.123456789+08:00"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		opt  backup.Options
	}{{"uncompressed", backup.Options{Uncompressed: true}}, {"zstd", backup.Options{}}} {
		b.Run(c.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "full.tar")
			c.opt.TempDir = filepath.Dir(out)
			for range b.N {
				_, err := backup.WriteFile(context.Background(), out, backup.Source{Dir: dir, History: hist, Records: recs}, c.opt)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				fi, _ := os.Stat(out)
				b.ReportMetric(float64(fi.Size())/1e6, "MB")
				dst := filepath.Join(b.TempDir(), "restored")
				t0 := time.Now()
				if _, err := backup.Restore([]string{out}, dst, backup.RestoreOptions{}); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(t0).Seconds(), "restore-s")
				b.StartTimer()
			}
		})
	}
}
