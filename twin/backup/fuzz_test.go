package backup

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/mes/recstore"
	"twin/twin/store"
)

// sample is a real backup file of a small data directory.
func sample(f *testing.F) []byte {
	f.Helper()
	dir := f.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := store.Open(dir, store.Options{SnapshotEvery: -1, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer h.Close()
	if err := h.Append([]event.Event{{Time: 1e18, Kind: event.Counter, Asset: "a/b", Name: "good", Value: 1}}); err != nil {
		f.Fatal(err)
	}
	r, err := recstore.Open(filepath.Join(dir, "mes", "db"), recstore.Options{Kinds: map[string]string{"order": "order"}, Version: 2, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close()
	if err := r.Update("li", "order.create", func(t *recstore.Tx) error { return t.Put("order", "PO-1", nil, map[string]string{"id": "PO-1"}) }); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mes", "card.key"), make([]byte, 32), 0o600); err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := Write(context.Background(), &b, Source{Dir: dir, History: h, Records: r}, Options{}); err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}

// FuzzRead: reading a backup file, its manifest and its Badger streams,
// never panics, whatever the bytes; a file that reads has parts that
// check.
func FuzzRead(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := read("fuzz.tar", bytes.NewReader(b), func(p *Part, r io.Reader) error {
			if p.Kind == KindBadger {
				d, err := decompress(p, r)
				if err != nil {
					return err
				}
				_, _, err = historyFacts(d, time.UTC, nil)
				return err
			}
			return nil
		})
		if err == nil && m == nil {
			t.Fatal("no error and no manifest")
		}
	})
}
