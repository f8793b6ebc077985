package api

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"twin/twin/backup"
	"twin/twin/mes"
	"twin/twin/mes/recstore"
)

// BenchmarkBackupMillion backs up the records of a million orders (the
// loader of BenchmarkMillion), restores them and checks their indexes:
// the figures of issue 22 for a plant's records after years of orders.
// Run it with -benchtime 1x.
func BenchmarkBackupMillion(b *testing.B) {
	r := newRig(b, b.TempDir())
	const n = 1_000_000
	loadMillion(b, r, n)
	out := filepath.Join(b.TempDir(), "full.tar")
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		m, err := backup.WriteFile(context.Background(), out, backup.Source{Dir: r.dir, History: r.st, Records: r.db.Store()}, backup.Options{TempDir: filepath.Dir(out)})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(t0)
		fi, _ := os.Stat(out)
		dst := filepath.Join(b.TempDir(), "restored")
		t1 := time.Now()
		if _, err := backup.Restore([]string{out}, dst, backup.RestoreOptions{}); err != nil {
			b.Fatal(err)
		}
		restore := time.Since(t1)
		st, err := recstore.Open(filepath.Join(dst, "mes", "db"), recstore.Options{ReadOnly: true, Version: mes.SchemaVersion, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		rep, err := mes.VerifyIndexes(st)
		verify := time.Since(t2)
		st.Close()
		if err != nil || len(rep.Problems) > 0 {
			b.Fatalf("the restored records' indexes: %v %v", err, rep.Problems)
		}
		b.ReportMetric(took.Seconds(), "backup-s")
		b.ReportMetric(float64(fi.Size())/1e6, "backup-MB")
		b.ReportMetric(restore.Seconds(), "restore-s")
		b.ReportMetric(verify.Seconds(), "verify-s")
		b.Logf("%d records keys: backup %v, %.0f MB; restore %v; index check of %d entries %v", part(m).Keys, took.Round(time.Millisecond), float64(fi.Size())/1e6, restore.Round(time.Millisecond), rep.Indexes, verify.Round(time.Millisecond))
	}
}

func part(m *backup.Manifest) backup.Part {
	for _, p := range m.Parts {
		if p.Name == backup.RecordsPart {
			return p
		}
	}
	return backup.Part{}
}
