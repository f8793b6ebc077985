package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"twin/twin/backup"
	"twin/twin/datadir"
	"twin/twin/mes"
	"twin/twin/mes/recstore"
	"twin/twin/store"
)

func init() {
	register(&Command{
		Name:  "verify",
		Usage: "--data DIR [--repair] | FILE...",
		Short: "check a data directory offline, or backup files",
		Long: `Verify --data DIR checks the data directory of a stopped twin and says
exactly what is wrong:
  - the history: every event record decodes (an unreadable one is listed
    with its key and time), every snapshot equals the fold of the events
    up to its time, every per-asset index entry has its event;
  - the records: every record decodes (a damaged one is listed by its
    key), every index entry names a record that exists, every audit
    entry, work order and operation has its index entries;
  - the audit log: the hash chain is unbroken and matches its anchors
    (as twin audit verify).
It exits with status 1 when anything is wrong. --repair removes from the
history what is damaged (the unreadable records, the snapshots that are
not the fold of what is left, index entries without their event: every
read passes over them already); in the records it moves every record
that cannot be read to the quarantine (quarantine/..., with its raw
bytes: nothing is deleted), rebuilds the indexes (entries without their
record removed, missing ones written) and checks again. An audit entry
moved aside leaves the audit chain broken there, and verify goes on
saying so: the chain is never rewritten. Take a backup before --repair.

Verify FILE... checks backup files instead: each one's manifest and the
size and SHA-256 of every part. To check that a backup restores, restore
it into a scratch directory and verify that.`,
		Run: runVerify,
	})
}

func runVerify(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["verify"], stdout)
	data := fs.String("data", "", "the data `directory` of a stopped twin")
	repair := fs.Bool("repair", false, "remove from the history what is damaged (records that do not decode, snapshots that are not the fold of their events, index entries without their event), move the records that do not decode to the quarantine and rebuild their indexes; keep a backup first: what it removes from the history is gone")
	files, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if (len(files) > 0) == (*data != "") {
		return flagError{errors.New("give --data DIR (a data directory) or backup files, one of them")}
	}
	if len(files) > 0 {
		for _, f := range files {
			m, err := backup.Check(f)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: the manifest and the checksums of its %d parts check\n", f, len(m.Parts))
			printManifest(stdout, m)
		}
		return nil
	}
	return verifyDir(ctx, *data, *repair, stdout)
}

func verifyDir(ctx context.Context, data string, repair bool, stdout io.Writer) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	loc := time.UTC
	if p, err := datadir.LoadPlant(data, "", true); err == nil {
		loc = p.Location
	}
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05.000") }
	var wrong []string
	ways := func(s *datadir.Server) []string { return apiWays(s, "audit verify") }

	hist, err := datadir.OpenHistory(data, store.Options{SnapshotEvery: -1, Logger: quiet})
	if err != nil {
		return inUse(err, ways)
	}
	t0 := time.Now()
	hr, err := hist.Verify(ctx)
	if err == nil && repair && !hr.OK() {
		var n int
		n, hr, err = hist.Repair(ctx, hr)
		fmt.Fprintf(stdout, "history: repaired: %d damaged keys removed\n", n)
	}
	hist.Close()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, zoneNote(loc, time.Now()))
	base := ""
	if !hr.Base.IsZero() {
		base = ", folded from the snapshot of " + when(hr.Base) + " (retention dropped the events before it)"
	}
	fmt.Fprintf(stdout, "history: %d events, %d snapshots compared with the fold of their events%s (%v)\n", hr.Events, hr.Snapshots, base, time.Since(t0).Round(time.Millisecond))
	for _, p := range hr.Unreadable {
		wrong = append(wrong, fmt.Sprintf("history: unreadable record %s of %s: %s", p.Key, when(p.Time), p.What))
	}
	for _, p := range hr.Mismatched {
		wrong = append(wrong, fmt.Sprintf("history: %s of %s: %s", p.Key, when(p.Time), p.What))
	}

	if err := datadir.CheckRecords(data); err != nil {
		return err
	}
	dir := filepath.Join(data, datadir.Records)
	if repair {
		if err := repairRecords(filepath.Join(dir, "db"), quiet, stdout); err != nil {
			return inUse(datadir.Busy(data, err), ways)
		}
	}
	rs, err := recstore.Open(filepath.Join(dir, "db"), recstore.Options{ReadOnly: true, Version: mes.SchemaVersion, Logger: quiet, Anchors: filepath.Join(dir, mes.AnchorFile)})
	if err != nil {
		return inUse(datadir.Busy(data, err), ways)
	}
	defer rs.Close()
	t0 = time.Now()
	dr, damaged, err := rs.Damaged()
	if err != nil {
		return err
	}
	for _, q := range damaged {
		wrong = append(wrong, fmt.Sprintf("records: %s does not decode: %s (reads pass over it; --repair moves it to the quarantine)", q.Key, q.What))
	}
	for _, k := range dr.Kept {
		wrong = append(wrong, "records: "+k)
	}
	ir, err := mes.VerifyIndexes(rs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "records: %d values decoded, %d index entries and %d records and audit entries checked (%v)\n", dr.Checked, ir.Indexes, ir.Records, time.Since(t0).Round(time.Millisecond))
	for _, p := range ir.Problems {
		wrong = append(wrong, "records: "+p)
	}
	t0 = time.Now()
	ar, err := rs.VerifyAnchored()
	var broken *recstore.Broken
	switch {
	case errors.As(err, &broken):
		wrong = append(wrong, fmt.Sprintf("audit log: broken at entry %d: %s (the %d entries before it hold)", broken.Seq, broken.What, ar.Entries))
	case err != nil:
		return err
	default:
		fmt.Fprintf(stdout, "audit log: %d entries, the chain is intact, %d anchors match (%v)\n", ar.Entries, ar.Anchors, time.Since(t0).Round(time.Millisecond))
	}
	if len(wrong) > 0 {
		return fmt.Errorf("%s: %d things are wrong:\n  %s\nKeep the directory as it is; restore the latest backup into another directory (twin restore) and verify that", data, len(wrong), strings.Join(wrong, "\n  "))
	}
	fmt.Fprintf(stdout, "%s: everything checks\n", data)
	return nil
}

// repairRecords moves the records' damaged values to the quarantine and
// rebuilds the indexes (recstore.Store.Repair, mes.RepairIndexes). It
// opens the database without its anchors: the anchors are the chain as
// it was, and a repair adds none.
func repairRecords(db string, log *slog.Logger, stdout io.Writer) error {
	rw, err := recstore.Open(db, recstore.Options{Version: mes.SchemaVersion, Logger: log})
	if err != nil {
		return err
	}
	rr, err := rw.Repair()
	var fx mes.IndexFixes
	if err == nil {
		fx, err = mes.RepairIndexes(rw)
	}
	if cerr := rw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	audit := 0
	for _, q := range rr.Moved {
		fmt.Fprintf(stdout, "records: moved to the quarantine: %s (%s)\n", q.Key, q.What)
		if strings.HasPrefix(q.Key, "aud/") {
			audit++
		}
	}
	for _, k := range rr.Kept {
		fmt.Fprintf(stdout, "records: not repaired: %s\n", k)
	}
	fmt.Fprintf(stdout, "records: repaired: %d of %d values damaged, moved to the quarantine with their raw bytes; indexes rebuilt: %d entries removed, %d written\n",
		len(rr.Moved), rr.Checked, fx.Removed, fx.Added)
	if audit > 0 {
		fmt.Fprintf(stdout, "audit log: %d entries moved to the quarantine: the chain stays broken there and is reported below (it is never rewritten)\n", audit)
	}
	return nil
}
