package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// ChecksumError is a part of a backup file whose bytes are not those its
// manifest names: the file is damaged.
type ChecksumError struct {
	File, Part string
	Want, Got  string // SHA-256, hex; or sizes
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: part %s is damaged: its manifest says SHA-256 %s, its bytes hash to %s; use another copy of this backup", e.File, e.Part, e.Want, e.Got)
}

// Check reads the backup file name whole and returns its manifest once
// every part's size and SHA-256 match it, a *ChecksumError naming the
// part that does not.
func Check(name string) (*Manifest, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	return read(name, f, func(*Part, io.Reader) error { return nil })
}

// read reads a backup file: its manifest, then each part, which it gives
// to fn (which may read it or not) and checks against the manifest.
func read(name string, r io.Reader, fn func(*Part, io.Reader) error) (*Manifest, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil || h.Name != ManifestName {
		return nil, fmt.Errorf("%s is not a twin backup (a tar archive whose first entry is %s)", name, ManifestName)
	}
	mb, err := io.ReadAll(io.LimitReader(tr, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, err := decodeManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	seen := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: cut short or damaged after %d of %d parts: %w", name, seen, len(m.Parts), err)
		}
		p := m.part(h.Name)
		if p == nil {
			return nil, fmt.Errorf("%s: holds %s, which its manifest does not list", name, h.Name)
		}
		sum := sha256.New()
		cr := &counter{w: sum}
		tee := io.TeeReader(tr, cr)
		if err := fn(p, tee); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, p.Name, err)
		}
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, p.Name, err)
		}
		if got := hex.EncodeToString(sum.Sum(nil)); cr.n != p.Size || got != p.SHA256 {
			return nil, &ChecksumError{File: name, Part: p.Name, Want: fmt.Sprintf("%s (%d bytes)", p.SHA256, p.Size), Got: fmt.Sprintf("%s (%d bytes)", got, cr.n)}
		}
		seen++
	}
	if seen != len(m.Parts) {
		return nil, fmt.Errorf("%s: cut short: %d of the %d parts its manifest lists", name, seen, len(m.Parts))
	}
	return m, nil
}

// RestoreOptions configure a restore.
type RestoreOptions struct {
	// Force restores into a data directory that is not empty: what a
	// twin wrote there is removed first (Wipe). Without it such a
	// directory is refused.
	Force bool
	// Wipe empties a data directory (datadir.Wipe, which refuses one a
	// twin holds or one holding what a twin does not write).
	Wipe func(dir string) error
}

// Restore rebuilds the data directory dir from backup files: a full
// backup, then the increments taken after it, each following the one
// before. It first checks every file's checksums and the order, naming
// the file that is damaged, out of order or after a gap, and writes
// nothing until they hold. It returns the manifests, in order.
func Restore(files []string, dir string, opt RestoreOptions) ([]*Manifest, error) {
	if len(files) == 0 {
		return nil, errors.New("no backup files: give a full backup, then its increments in order")
	}
	ms := make([]*Manifest, len(files))
	byID := map[string]string{}
	for i, f := range files {
		m, err := Check(f)
		if err != nil {
			return nil, err
		}
		ms[i] = m
		byID[m.ID] = f
	}
	for i, m := range ms {
		switch {
		case i == 0 && m.Kind != Full:
			hint := ""
			if f, ok := byID[m.Prev]; ok {
				hint = fmt.Sprintf(" (it follows %s: give that one before it)", f)
			}
			return nil, fmt.Errorf("%s is an increment of backup %s, not a full backup: give the full backup first, then its increments in the order they were taken%s", files[0], m.Prev, hint)
		case i > 0 && m.Kind == Full:
			return nil, fmt.Errorf("%s is a full backup of its own: give one full backup, then its increments (restore %s alone for its state)", files[i], files[i])
		case i > 0 && m.Prev != ms[i-1].ID:
			if f, ok := byID[m.Prev]; ok {
				return nil, fmt.Errorf("%s is out of order: it follows %s, not %s; give the files in the order they were taken", files[i], f, files[i-1])
			}
			return nil, fmt.Errorf("%s does not follow %s: it is an increment of backup %s, which is missing (a gap): give every increment, in order", files[i], files[i-1], m.Prev)
		}
		if i > 0 {
			for _, name := range []string{HistoryPart, RecordsPart} {
				if p, q := m.part(name), ms[i-1].part(name); p == nil || q == nil || p.Since != q.Reach+1 {
					return nil, fmt.Errorf("%s: its %s does not start where %s's ends", files[i], name, files[i-1])
				}
			}
		}
	}
	if err := emptyDir(dir, opt); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "mes"), 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	hist, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(false).
		WithMemTableSize(16 << 20).WithNumMemtables(2).WithValueLogFileSize(64 << 20).WithCompactL0OnClose(false))
	if err != nil {
		return nil, fmt.Errorf("restore: the history in %s: %w", dir, err)
	}
	recs, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "mes", "db")).WithLogger(nil).WithSyncWrites(false).
		WithMemTableSize(32 << 20).WithNumMemtables(2).WithValueLogFileSize(64 << 20).WithValueThreshold(256).WithCompactL0OnClose(false))
	if err != nil {
		hist.Close()
		return nil, fmt.Errorf("restore: the records in %s: %w", dir, err)
	}
	last := map[string][]byte{} // the files, as the latest backup has them
	mode := map[string]fs.FileMode{}
	for _, f := range files {
		err = func() error {
			r, err := os.Open(f)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = read(f, r, func(p *Part, r io.Reader) error {
				switch {
				case p.Kind == KindBadger && p.Name == HistoryPart:
					d, err := decompress(p, r)
					if err != nil {
						return err
					}
					return hist.Load(d, 256)
				case p.Kind == KindBadger && p.Name == RecordsPart:
					d, err := decompress(p, r)
					if err != nil {
						return err
					}
					return recs.Load(d, 256)
				case p.Kind == KindFile:
					clean := path.Clean(p.Path)
					if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
						return fmt.Errorf("a file outside the data directory (%s)", p.Path)
					}
					b, err := io.ReadAll(r)
					last[clean], mode[clean] = b, fs.FileMode(p.Mode&0o777)
					return err
				}
				return nil
			})
			return err
		}()
		if err != nil {
			break
		}
	}
	err = errors.Join(err, hist.Close(), recs.Close())
	if err != nil {
		return nil, fmt.Errorf("restore into %s: %w", dir, err)
	}
	for rel, b := range last {
		name := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		m := mode[rel]
		if m == 0 {
			m = 0o600
		}
		if err := os.WriteFile(name, b, m); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	return ms, nil
}

// emptyDir makes sure dir is empty or absent, wiping it with --force.
func emptyDir(dir string, opt RestoreOptions) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(ents) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !opt.Force {
		return fmt.Errorf("%s is not empty (it holds %s…): restore into a new or empty directory, or give --force to replace what a twin wrote there", dir, ents[0].Name())
	}
	if opt.Wipe == nil {
		return fmt.Errorf("%s is not empty, and there is nothing to empty it with", dir)
	}
	return opt.Wipe(dir)
}
