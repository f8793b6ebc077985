package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Badger is a store that writes Badger's online backup of itself
// (store.Store and recstore.Store): every key version from since on, at
// one instant, returning the highest version written (0: none).
type Badger interface {
	Backup(w io.Writer, since uint64) (uint64, error)
}

// Source is what a backup copies: the data directory (its files are read
// from it) and its two Badger databases, open (a running twin's) or
// opened for the backup (a stopped one's).
type Source struct {
	Dir     string
	History Badger
	Records Badger
}

// Options configure a backup.
type Options struct {
	// Since makes an increment of the backup it describes: the key
	// versions written after it. nil: a full backup.
	Since *Manifest
	// Zone is the plant's, for the times in the manifest (default UTC).
	Zone *time.Location
	// Now is the clock of the manifest's creation time (default time.Now).
	Now func() time.Time
	// TempDir holds the Badger parts while they are written, before they
	// go into the file (their sizes head their tar entries); default
	// os.TempDir().
	TempDir string
	// Uncompressed writes the Badger parts as they are (format 1, which
	// older builds read), not compressed with zstd.
	Uncompressed bool
}

// Files are the files of a data directory a backup copies besides its
// databases, slash-separated from the directory; a directory is copied
// with everything in it. Those missing are left out.
var Files = []string{"plant.yaml", "mes/card.key", "mes/audit-anchors.jsonl", "tls"}

// Write writes a backup of src to w and returns its manifest. The files
// are read first, then the history, then the records, each at its own
// instant: the audit anchors copied are never ahead of the records'
// audit chain.
func Write(ctx context.Context, w io.Writer, src Source, opt Options) (*Manifest, error) {
	if opt.Zone == nil {
		opt.Zone = time.UTC
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	format := FormatVersion
	if opt.Uncompressed {
		format = 1
	}
	m := &Manifest{Format: format, Build: build(), ID: newID(), Kind: Full,
		Created: opt.Now().In(opt.Zone).Format(time.RFC3339), Zone: opt.Zone.String()}
	var prevHist, prevRecs *Part
	if p := opt.Since; p != nil {
		m.Kind, m.Prev = Incremental, p.ID
		if prevHist, prevRecs = p.part(HistoryPart), p.part(RecordsPart); prevHist == nil || prevRecs == nil {
			return nil, fmt.Errorf("backup %s (%s) has no history or no records part: an increment needs both", p.ID, p.Created)
		}
	}
	files, contents, err := readFiles(src.Dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hist, err := spool(src.History, HistoryPart, "", prevHist, opt)
	if err != nil {
		return nil, fmt.Errorf("backing up the history of %s: %w", src.Dir, err)
	}
	defer hist.remove()
	var prevH *Historical
	if prevHist != nil {
		prevH = prevHist.Hist
	}
	if hist.part.Hist, hist.part.Keys, err = historyFacts(hist.plain(), opt.Zone, prevH); err != nil {
		return nil, fmt.Errorf("reading back the history's backup: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs, err := spool(src.Records, RecordsPart, "mes/db", prevRecs, opt)
	if err != nil {
		return nil, fmt.Errorf("backing up the records of %s: %w", src.Dir, err)
	}
	defer recs.remove()
	var prevR *Records
	if prevRecs != nil {
		prevR = prevRecs.Recs
	}
	if recs.part.Recs, recs.part.Keys, err = recordFacts(recs.plain(), prevR); err != nil {
		return nil, fmt.Errorf("reading back the records' backup: %w", err)
	}
	m.Parts = append(append(m.Parts, hist.part, recs.part), files...)

	tw := tar.NewWriter(w)
	mb, _ := json.MarshalIndent(m, "", "  ")
	mtime := opt.Now()
	put := func(name string, size int64, mode int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: mode, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := put(ManifestName, int64(len(mb)), 0o600, bytes.NewReader(mb)); err != nil {
		return nil, fmt.Errorf("writing the backup: %w", err)
	}
	for _, s := range []*spooled{hist, recs} {
		if err := put(s.part.Name, s.part.Size, 0o600, s.reader()); err != nil {
			return nil, fmt.Errorf("writing the backup: %s: %w", s.part.Name, err)
		}
	}
	for i, p := range files {
		if err := put(p.Name, p.Size, int64(p.Mode), bytes.NewReader(contents[i])); err != nil {
			return nil, fmt.Errorf("writing the backup: %s: %w", p.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("writing the backup: %w", err)
	}
	return m, nil
}

// WriteFile writes a backup of src into the file name, through a
// temporary file beside it: name appears only whole and synced.
func WriteFile(ctx context.Context, name string, src Source, opt Options) (*Manifest, error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m, err := Write(ctx, f, src, opt)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("backup into %s: %w", name, err)
	}
	return m, nil
}

// spooled is a Badger part written to a temporary file.
type spooled struct {
	f    *os.File
	part Part
}

func (s *spooled) reader() io.Reader {
	return io.NewSectionReader(s.f, 0, s.part.Size)
}

// plain reads the part decompressed.
func (s *spooled) plain() io.Reader {
	r, err := decompress(&s.part, s.reader())
	if err != nil {
		return errReader{err}
	}
	return r
}

func (s *spooled) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// newEncoder compresses a Badger part: zstd at its default level (about
// gzip's best ratio, several times its speed), on the calling goroutine
// (a backup runs beside the twin's own work: one core is enough).
func newEncoder(w io.Writer) (*zstd.Encoder, error) {
	return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
}

// decompress reads part p's bytes r as they were before compression
// (r itself when p is not compressed: format 1).
func decompress(p *Part, r io.Reader) (io.Reader, error) {
	switch p.Compression {
	case "":
		return r, nil
	case CompressZstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, err
		}
		return zstdReader{d}, nil
	}
	return nil, fmt.Errorf("part %s is compressed with %q, which this build (%s) does not know", p.Name, p.Compression, build())
}

// zstdReader frees its decoder at the end of the stream (a synchronous
// decoder holds no goroutine; Close only frees its buffers).
type zstdReader struct{ d *zstd.Decoder }

func (z zstdReader) Read(b []byte) (int, error) {
	n, err := z.d.Read(b)
	if err != nil {
		z.d.Close()
	}
	return n, err
}

// spool writes db's backup from where prev reached into a temporary file.
func spool(db Badger, name, path string, prev *Part, opt Options) (*spooled, error) {
	if db == nil {
		return nil, errors.New("not open")
	}
	f, err := os.CreateTemp(opt.TempDir, "twin-backup-*")
	if err != nil {
		return nil, err
	}
	s := &spooled{f: f, part: Part{Name: name, Kind: KindBadger, Path: path}}
	if prev != nil {
		s.part.Since = prev.Reach + 1
	}
	h := sha256.New()
	cw := &counter{w: io.MultiWriter(f, h)} // the bytes as stored
	var w io.Writer = cw
	var enc *zstd.Encoder
	raw := &counter{}
	if !opt.Uncompressed {
		if enc, err = newEncoder(cw); err != nil {
			s.remove()
			return nil, err
		}
		raw.w = enc
		w = raw
		s.part.Compression = CompressZstd
	}
	v, err := db.Backup(w, s.part.Since)
	if err == nil && enc != nil {
		err = enc.Close()
		s.part.RawSize = raw.n
	}
	if err != nil {
		s.remove()
		return nil, err
	}
	s.part.Reach = v
	if prev != nil && v < prev.Reach {
		s.part.Reach = prev.Reach // nothing changed since
	}
	s.part.Size, s.part.SHA256 = cw.n, hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// readFiles reads the Files of the data directory dir.
func readFiles(dir string) ([]Part, [][]byte, error) {
	var parts []Part
	var contents [][]byte
	add := func(rel string) error {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		b, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		fi, err := os.Stat(full)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		parts = append(parts, Part{Name: rel, Kind: KindFile, Path: rel, Mode: uint32(fi.Mode().Perm()), Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
		contents = append(contents, b)
		return nil
	}
	for _, rel := range Files {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		fi, err := os.Stat(full)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("backup: %w", err)
		}
		if !fi.IsDir() {
			err = add(rel)
		} else {
			err = filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !d.Type().IsRegular() {
					return err
				}
				r, err := filepath.Rel(dir, p)
				if err != nil {
					return err
				}
				return add(filepath.ToSlash(r))
			})
		}
		if err != nil {
			return nil, nil, fmt.Errorf("backup: %w", err)
		}
	}
	return parts, contents, nil
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// build names this build of the twin (the main module's version and VCS
// revision), as the history's format record does.
func build() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "twin (unknown build)"
	}
	rev := ""
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
			rev = " (" + kv.Value[:12] + ")"
		}
	}
	return "twin " + bi.Main.Version + rev
}
