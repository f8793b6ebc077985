package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"twin/twin/backup"
	"twin/twin/datadir"
)

func init() {
	register(&Command{
		Name:  "restore",
		Usage: "FILE... --data DIR [--force]",
		Short: "rebuild a data directory from a full backup and its increments",
		Long: `Restore rebuilds the data directory DIR from backup files (twin backup,
twin serve --backup-dir): the full backup first, then each increment
taken after it, in the order they were taken. It checks every file's
checksums and the order before it writes anything, and names the file
that is damaged, out of order or after a missing increment.

DIR must be new or empty; --force replaces what a twin wrote in it (not
a directory a running twin holds, nor one holding other files). Then
check it with twin verify --data DIR and start the twin on it:
twin serve --data DIR (the plant file comes with the backup).`,
		Run: runRestore,
	})
}

func runRestore(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["restore"], stdout)
	data := fs.String("data", "", "the data `directory` to rebuild")
	force := fs.Bool("force", false, "replace what a twin wrote in a non-empty DIR")
	files, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return flagError{fmt.Errorf("give the backup files: the full backup, then its increments in order")}
	}
	if *data == "" {
		return flagError{fmt.Errorf("--data DIR: the data directory to rebuild")}
	}
	t0 := time.Now()
	ms, err := backup.Restore(files, *data, backup.RestoreOptions{Force: *force, Wipe: datadir.Wipe})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %d backup files in %v:\n", *data, len(ms), time.Since(t0).Round(time.Millisecond))
	for i, m := range ms {
		fmt.Fprintf(stdout, "%s\n", files[i])
		printManifest(stdout, m)
	}
	fmt.Fprintf(stdout, "check it with: twin verify --data %s\n", *data)
	return nil
}
