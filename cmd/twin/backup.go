package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"twin/twin/backup"
	"twin/twin/datadir"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/twin/mes/recstore"
	"twin/twin/store"
)

func init() {
	register(&Command{
		Name:  "backup",
		Usage: "--out FILE (--server URL | --data DIR) [--since FILE]",
		Short: "a consistent backup of the history, the records, the audit anchors and the card key",
		Long: `Backup writes one file (a tar archive, manifest.json first) holding the
history, the execution records, the audit chain's anchors, the card-signing
key, the plant file and DIR/tls: everything needed to rebuild the data
directory on a new machine with twin restore.

--server URL backs up a running twin while it ingests (an admin's API
token: --token or $TWIN_API_TOKEN; POST /api/v1/backup); --data DIR backs
up the directory of a stopped twin. With --since FILE the backup is an
increment: what changed since that backup (FILE's manifest says where it
reached), much smaller; a restore takes the full backup and each
increment after it, in order.

The file appears only once it is whole and its checksums check. twin
verify FILE checks one later; twin serve --backup-dir makes them on a
schedule.`,
		Run: runBackup,
	})
}

func runBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["backup"], stdout)
	data := fs.String("data", "", "back up the data `directory` of a stopped twin")
	out := fs.String("out", "", "the backup `file` to write")
	since := fs.String("since", "", "an increment since this backup `file` (default: a full backup)")
	mk := clientFlags(fs)
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(commands["backup"], pos); err != nil {
		return err
	}
	if *out == "" {
		return flagError{errors.New("--out FILE: where to write the backup")}
	}
	if flagSet(fs, "server") == (*data != "") {
		return flagError{errors.New("give --server URL (a running twin) or --data DIR (a stopped twin's directory), one of them")}
	}
	var prev *backup.Manifest
	if *since != "" {
		if prev, err = backup.Check(*since); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
	}
	t0 := time.Now()
	var m *backup.Manifest
	if *data != "" {
		m, err = backupDir(ctx, *data, *out, prev)
	} else {
		m, err = backupOver(ctx, mk(stdout), *out, prev)
	}
	if err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up into %s: %s, %.1f MB in %v\n", *out, m.Kind, float64(fi.Size())/1e6, time.Since(t0).Round(time.Millisecond))
	printManifest(stdout, m)
	return nil
}

// backupDir backs up a stopped twin's data directory.
func backupDir(ctx context.Context, data, out string, prev *backup.Manifest) (*backup.Manifest, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := datadir.CheckRecords(data); err != nil {
		return nil, err
	}
	hist, err := datadir.OpenHistory(data, store.Options{SnapshotEvery: -1, Logger: quiet})
	if err != nil {
		return nil, inUse(err, func(s *datadir.Server) []string { return apiWays(s, "backup --out "+out) })
	}
	defer hist.Close()
	dir := filepath.Join(data, datadir.Records)
	recs, err := recstore.Open(filepath.Join(dir, "db"), recstore.Options{Version: mes.SchemaVersion, Logger: quiet})
	if err != nil {
		return nil, inUse(datadir.Busy(data, err), func(s *datadir.Server) []string { return apiWays(s, "backup --out "+out) })
	}
	defer recs.Close()
	var loc *time.Location
	if p, err := datadir.LoadPlant(data, "", true); err == nil {
		loc = p.Location
	}
	return backup.WriteFile(ctx, out, backup.Source{Dir: data, History: hist, Records: recs}, backup.Options{Since: prev, Zone: loc, TempDir: filepath.Dir(out)})
}

// backupOver asks a running twin for a backup and checks it before it
// keeps it.
func backupOver(ctx context.Context, c *apiClient, out string, prev *backup.Manifest) (*backup.Manifest, error) {
	if c.err != nil {
		return nil, c.err
	}
	body, err := c.Stream(ctx, "POST", "/backup", api.BackupRequest{Since: prev})
	if err != nil {
		return nil, c.explain(err)
	}
	defer body.Close()
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	var m *backup.Manifest
	if err == nil {
		m, err = backup.Check(f.Name())
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("backup from %s into %s: %w", c.Server(), out, err)
	}
	return m, nil
}

// printManifest says what a backup holds, in the plant's time.
func printManifest(w io.Writer, m *backup.Manifest) {
	fmt.Fprintf(w, "  %s backup %s", m.Kind, m.ID)
	if m.Prev != "" {
		fmt.Fprintf(w, " (after %s)", m.Prev)
	}
	fmt.Fprintf(w, ", made %s (%s) by %s\n", m.Created, m.Zone, m.Build)
	for _, p := range m.Parts {
		size := fmt.Sprintf("%.1f MB", float64(p.Size)/1e6)
		if p.Compression != "" {
			size += fmt.Sprintf(", %s of %.1f MB", p.Compression, float64(p.RawSize)/1e6)
		}
		switch {
		case p.Hist != nil && p.Hist.Newest == "":
			fmt.Fprintf(w, "  history: no events yet\n")
		case p.Hist != nil:
			fmt.Fprintf(w, "  history: up to event %d, the newest of %s; %d events in this file (%s)\n", p.Hist.LastSeq, p.Hist.Newest, p.Hist.Events, size)
		case p.Recs != nil:
			fmt.Fprintf(w, "  records: schema %d, audit log up to entry %d (%.12s…); %d keys in this file (%s)\n", p.Recs.Schema, p.Recs.AuditSeq, p.Recs.AuditHash, p.Keys, size)
		default:
			fmt.Fprintf(w, "  %s (%d bytes)\n", p.Path, p.Size)
		}
	}
}
