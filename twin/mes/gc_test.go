package mes

import (
	badger "github.com/dgraph-io/badger/v4"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValueLogGC: records changed many times leave stale values in the
// value log; collecting rewrites the stale files, and every record still
// reads its last value.
func TestValueLogGC(t *testing.T) {
	defer func(t func(badger.Options) badger.Options) { tune = t }(tune)
	tune = func(o badger.Options) badger.Options {
		return o.WithValueLogFileSize(1 << 20).WithNumLevelZeroTables(1).WithNumCompactors(0)
	}
	dir, p := t.TempDir(), loadPlant(t)
	open := func() *DB {
		d, err := Open(dir, Options{Plant: p, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	vlogBytes := func() (n int64) {
		files, _ := filepath.Glob(filepath.Join(dir, "db", "*.vlog"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	d := open()
	const keys, rounds = 50, 40
	for r := range rounds {
		if r == rounds/2 { // the memtable on disk as a table, and later another
			d.Close()
			d = open()
		}
		for k := range keys {
			v := map[string]any{"round": r, "pad": strings.Repeat("x", 2000)}
			if err := d.update("test", "test", func(t *tx) error { return t.set("tst/"+itoa(uint64(k)), v) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	d.Close()
	d = open()
	defer d.Close()
	if err := d.db.Flatten(1); err != nil { // compacting the two counts the stale values
		t.Fatal(err)
	}
	before := vlogBytes()
	n := d.collect()
	after := vlogBytes()
	t.Logf("value log: %d files rewritten, %d KiB before, %d KiB after", n, before>>10, after>>10)
	if n == 0 || after > before/2 {
		t.Fatalf("value log gc: %d files rewritten, %d bytes before, %d after", n, before, after)
	}
	for k := range keys {
		var v struct{ Round int }
		if err := d.view(func(t *tx) error { _, err := t.get("tst/"+itoa(uint64(k)), &v); return err }); err != nil || v.Round != rounds-1 {
			t.Fatalf("key %d after gc: round %d, %v", k, v.Round, err)
		}
	}
}
