package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"twin/twin/datadir"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/twin/mes/recstore"
)

func init() {
	register(&Command{
		Name:  "audit",
		Usage: "verify [--data DIR | --server URL]",
		Short: "check that the records' audit log has not been tampered with",
		Long: `Audit verify walks the records' audit log, a hash chain (each entry commits
to the one before it), and checks every entry and the anchors the twin
appends to DIR/mes/` + mes.AnchorFile + ` (every 10 minutes and at each stop). It
reports the first entry altered, removed or reordered on disk, and exits
with status 1 when it finds one. It reads the directory of a stopped twin;
on a running one, --server URL asks it (a manager's or an admin's token).

Keep a copy of the anchor file where the plant's IT keeps logs: a chain
rewritten on disk no longer matches the anchors taken before.`,
		Run: runAudit,
	})
}

func runAudit(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["audit"], stdout)
	data := fs.String("data", "data", "the twin's data `directory`")
	mk := clientFlags(fs)
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "verify" {
		return errUsage
	}
	if flagSet(fs, "server") {
		c := mk(stdout)
		var got api.AuditCheck
		if err := c.call(ctx, "GET", "/audit/verify", nil, &got); err != nil {
			return err
		}
		return auditResult(stdout, c.Server(), c.Zone(), got)
	}
	if err := datadir.CheckRecords(*data); err != nil {
		return err
	}
	dir := filepath.Join(*data, datadir.Records)
	st, err := recstore.Open(filepath.Join(dir, "db"), recstore.Options{ReadOnly: true, Version: mes.SchemaVersion, Anchors: filepath.Join(dir, mes.AnchorFile)})
	if err != nil {
		return inUse(datadir.Busy(*data, err), func(s *datadir.Server) []string { return apiWays(s, "audit verify") })
	}
	defer st.Close()
	rep, err := st.VerifyAnchored()
	got := api.AuditCheck{Intact: err == nil}
	if rep != nil {
		got.Entries, got.Last, got.LastAt, got.Anchors, got.Anchored = rep.Entries, rep.Last, rep.LastAt, rep.Anchors, rep.Anchored
	}
	if b, ok := errors.AsType[*recstore.Broken](err); ok {
		got.BrokenAt, got.Broken = b.Seq, b.What
	} else if err != nil {
		return err
	}
	var loc *time.Location
	if p, err := datadir.LoadPlant(*data, "", true); err == nil {
		loc = p.Location
	}
	return auditResult(stdout, dir, loc, got)
}

// auditResult prints what the check found, in plant time; a broken
// chain is an error.
func auditResult(w io.Writer, where string, loc *time.Location, c api.AuditCheck) error {
	if loc == nil {
		loc = time.Local
	}
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05") }
	fmt.Fprintln(w, zoneNote(loc, c.LastAt))
	if !c.Intact {
		return fmt.Errorf("the audit log of %s is broken at entry %d: %s. The %d entries before it hold. Keep the directory as it is for the investigation, and compare with a backup and the anchors kept elsewhere", where, c.BrokenAt, c.Broken, c.Entries)
	}
	anch := "no anchors yet (the twin writes one every 10 minutes and when it stops)"
	if c.Anchors > 0 {
		anch = fmt.Sprintf("%d anchors match, the latest of %s", c.Anchors, when(c.Anchored))
	}
	last := ""
	if c.Entries > 0 {
		last = fmt.Sprintf(" (the last, %d, of %s)", c.Last, when(c.LastAt))
	}
	fmt.Fprintf(w, "audit log of %s: %d entries, the chain is intact%s; %s\n", where, c.Entries, last, anch)
	return nil
}

// flagSet says whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
