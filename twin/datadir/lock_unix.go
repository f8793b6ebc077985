//go:build unix

package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// held tells whether another open of the history or the records in dir
// holds Badger's lock (flock on the directory, as Badger takes it). It
// takes the lock for an instant when it is free: call it only after an
// open failed.
func held(dir string) bool {
	for _, d := range []string{dir, filepath.Join(dir, Records, "db")} {
		f, err := os.Open(d)
		if err != nil {
			continue
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return true
		}
	}
	return false
}
