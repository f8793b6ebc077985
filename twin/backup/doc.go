// Package backup makes a consistent copy of a twin's data directory into
// one file, while the twin runs, and rebuilds a data directory from such
// files: a full backup and the increments taken after it, in order.
//
// A backup file is a tar archive. Its first entry, manifest.json, says
// what the file is (FORMAT.md beside this file): the format's version,
// the twin build that wrote it, when (plant time, with its zone), and for
// each part its size and SHA-256, and for the history and the records the
// Badger version the part reaches, the history's last sequence number and
// newest event time, the records' schema version and the audit chain's
// head. The parts follow in the manifest's order: the history and the
// records in Badger's own backup format (badger.DB.Backup, full or since
// the version a previous backup reached), then the files the twin keeps
// beside them (the audit anchors, the card-signing key, the plant file,
// DIR/tls).
//
// It is not a scheduler of its own beyond Schedule (the goroutine twin
// serve runs), and it does not check a restored store's contents: twin
// verify does (store.Verify, the records' audit chain).
//
//	m, err := backup.Write(ctx, f, backup.Source{Dir: dir, History: hist, Records: recs}, backup.Options{Zone: loc})
//	…
//	ms, err := backup.Restore([]string{"full.twb", "incr-1.twb"}, "/srv/twin/data", backup.RestoreOptions{})
package backup
