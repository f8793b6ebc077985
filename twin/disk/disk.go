// Package disk says whether there is room to write in the twin's data
// directory, so that a filling disk is a fault the twin rides out rather
// than a crash.
//
// Badger writes its memtables and value logs through memory-mapped files
// that it sizes ahead (sparse): when the filesystem has no block left for
// a page written there, the process gets SIGBUS and dies, again on every
// restart while the disk stays full. The only defence is not to write
// near the end: a Guard keeps a reserve (Options.Reserve, 512 MiB by
// default: both stores' memtables and value-log files with room to spare)
// and refuses writes (ErrFull) while the free space is below it, before
// Badger is asked. The stores ask it before every write; the twin then
// stops acknowledging (readings stay with their broker, scans are
// answered 503), keeps serving reads, and carries on by itself once the
// free space is back above the reserve plus a margin (Options.Resume).
//
// The free space is read with statfs(2) at most every Options.Every by
// Check (a microsecond each) and by the Guard's own goroutine, which
// notices the space coming back; Close stops it.
package disk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrFull is a write refused because the disk is (nearly) full.
var ErrFull = errors.New("the data directory's disk is full")

// FullError says how full.
type FullError struct {
	Dir           string
	Free, Reserve uint64 // bytes
}

func (e *FullError) Error() string {
	return fmt.Sprintf("%s: %s free on the disk of %s, below the %s the twin keeps in reserve: writes wait until space is freed",
		ErrFull, bytes(e.Free), e.Dir, bytes(e.Reserve))
}

func (e *FullError) Unwrap() error { return ErrFull }

// bytes prints n in MiB or GiB.
func bytes(n uint64) string {
	if n >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// Options configure a Guard.
type Options struct {
	// Reserve is the free space below which writes are refused; 0:
	// DefaultReserve.
	Reserve uint64
	// Resume is the free space at which writes resume after a refusal;
	// 0: Reserve plus a quarter (a margin, so that it does not flap).
	Resume uint64
	// Every is how often the free space is read; 0: 250 ms.
	Every  time.Duration
	Logger *slog.Logger
}

// DefaultReserve is the reserve of a Guard whose options name none.
const DefaultReserve = 512 << 20

// Stats say what a Guard has seen.
type Stats struct {
	Full       bool      `json:"full"`
	Since      time.Time `json:"since,omitzero"` // when it became full (zero: not full)
	FreeBytes  uint64    `json:"free_bytes"`
	TotalBytes uint64    `json:"total_bytes"`
	Reserve    uint64    `json:"reserve_bytes"`
	Refused    uint64    `json:"refused"`    // writes refused
	Episodes   uint64    `json:"full_times"` // times it became full
}

// Guard watches the free space of one directory's filesystem.
type Guard struct {
	dir string
	opt Options
	log *slog.Logger

	mu       sync.Mutex
	read     time.Time // when the free space was last read
	full     bool
	since    time.Time
	free     uint64
	total    uint64
	changed  chan struct{} // closed (and replaced) when full changes
	refused  atomic.Uint64
	episodes atomic.Uint64

	stop chan struct{}
	done chan struct{}
}

// New reads the free space of dir's filesystem and starts watching it.
func New(dir string, opt Options) (*Guard, error) {
	if opt.Reserve == 0 {
		opt.Reserve = DefaultReserve
	}
	if opt.Resume < opt.Reserve {
		opt.Resume = opt.Reserve + opt.Reserve/4
	}
	if opt.Every <= 0 {
		opt.Every = 250 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	g := &Guard{dir: dir, opt: opt, log: opt.Logger, changed: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	g.mu.Lock()
	err := g.readLocked(time.Now())
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	go g.watch()
	return g, nil
}

// Close stops watching.
func (g *Guard) Close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	<-g.done
}

func (g *Guard) watch() {
	defer close(g.done)
	t := time.NewTicker(g.opt.Every)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case now := <-t.C:
			g.mu.Lock()
			if err := g.readLocked(now); err != nil {
				g.log.Warn("disk: cannot read the free space", "dir", g.dir, "err", err)
			}
			g.mu.Unlock()
		}
	}
}

// readLocked reads the free space and says when the disk becomes full or
// has room again.
func (g *Guard) readLocked(now time.Time) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(g.dir, &st); err != nil {
		return fmt.Errorf("disk: statfs %s: %w", g.dir, err)
	}
	g.read = now
	g.free = st.Bavail * uint64(st.Bsize)
	g.total = st.Blocks * uint64(st.Bsize)
	switch {
	case !g.full && g.free < g.opt.Reserve:
		g.setLocked(true, now)
		g.log.Error("disk: the data directory's disk is full: the twin stops writing (readings wait at their source, scans are refused) until space is freed",
			"dir", g.dir, "free", bytes(g.free), "reserve", bytes(g.opt.Reserve), "resumes_at", bytes(g.opt.Resume))
	case g.full && g.free >= g.opt.Resume:
		g.log.Warn("disk: space is back: the twin writes again", "dir", g.dir, "free", bytes(g.free), "full_for", now.Sub(g.since).Round(time.Second))
		g.setLocked(false, now)
	}
	return nil
}

func (g *Guard) setLocked(full bool, now time.Time) {
	g.full = full
	if full {
		g.since = now
		g.episodes.Add(1)
	} else {
		g.since = time.Time{}
	}
	close(g.changed)
	g.changed = make(chan struct{})
}

// Check returns nil when a write may go ahead, a *FullError (ErrFull)
// when the disk is below its reserve. It reads the free space again when
// the last reading is older than Options.Every.
func (g *Guard) Check() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := time.Now(); now.Sub(g.read) >= g.opt.Every {
		if err := g.readLocked(now); err != nil {
			g.log.Warn("disk: cannot read the free space", "dir", g.dir, "err", err)
		}
	}
	if !g.full {
		return nil
	}
	g.refused.Add(1)
	return &FullError{Dir: g.dir, Free: g.free, Reserve: g.opt.Reserve}
}

// Failed reports whether err is a write refused (ErrFull) or failed for
// lack of space; a write that ran out of space (ENOSPC, EDQUOT) makes the
// disk full now, whatever statfs said.
func (g *Guard) Failed(err error) bool {
	if errors.Is(err, ErrFull) {
		return true
	}
	if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.full {
		g.setLocked(true, time.Now())
		g.log.Error("disk: a write ran out of space: the twin stops writing until space is freed", "dir", g.dir, "err", err)
	}
	return true
}

// Wait returns once the disk has room (at once when it has), or with
// ctx's error.
func (g *Guard) Wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		full, ch := g.full, g.changed
		g.mu.Unlock()
		if !full {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats returns what the guard has seen.
func (g *Guard) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Stats{Full: g.full, Since: g.since, FreeBytes: g.free, TotalBytes: g.total, Reserve: g.opt.Reserve,
		Refused: g.refused.Load(), Episodes: g.episodes.Load()}
}
