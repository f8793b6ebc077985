package store

import (
	"fmt"
	"io"
)

// Backup writes every version of the history's keys from version since on
// to w in Badger's backup format (badger.DB.Backup; since 0: all of it),
// while appends go on, and returns the highest version written (0 when
// none is). The backup is the history at one instant: it is read in one
// Badger read transaction (one stream goroutine), so it holds every
// append committed before it began and none after. twin/backup wraps it
// in a backup file.
func (s *Store) Backup(w io.Writer, since uint64) (uint64, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	st := s.db.NewStream()
	st.NumGo = 1 // each stream goroutine reads in a transaction of its own
	if since > 0 {
		// the stream reads versions above SinceTs, so DB.Backup(w, v+1)
		// would leave out version v+1, the first commit after a backup
		// that reached v (found by twin/backup's TestBackupUnderLoad)
		st.SinceTs = since - 1
	}
	st.LogPrefix = "store.Backup"
	v, err := st.Backup(w, since)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	return v, nil
}
