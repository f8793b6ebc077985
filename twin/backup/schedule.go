package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ScheduleOptions configure scheduled backups (twin serve --backup-dir).
type ScheduleOptions struct {
	Dir   string        // where the backup files go
	Every time.Duration // how often (default 24h)
	// FullEvery starts a new chain with a full backup when the chain's
	// full backup is this old (default 7 days: a full backup weekly, an
	// increment at each other run); negative: a full backup every time.
	FullEvery time.Duration
	// Keep is how many chains (a full backup and its increments) are
	// kept: older ones are removed after a successful full backup
	// (default 4).
	Keep    int
	Source  Source
	Options Options // Zone, TempDir (Since is set by the schedule)
	Logger  *slog.Logger
	// Overdue is called when the last success becomes older than twice
	// Every (true), and again when a backup succeeds after that (false).
	Overdue func(overdue bool, age time.Duration)
}

// Schedule is the goroutine of scheduled backups. Close stops and joins it.
type Schedule struct {
	opt  ScheduleOptions
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	last    *Manifest // the newest backup in Dir, nil if none
	lastAt  time.Time // when it was made (its file's time)
	full    time.Time // when the chain's full backup was made
	stats   ScheduleStats
	overdue bool
}

// ScheduleStats is what the scheduled backups did (for /metrics).
type ScheduleStats struct {
	LastSuccess time.Time     `json:"last_success"` // zero: none yet
	Age         time.Duration `json:"age"`          // since it (0 when none)
	Overdue     bool          `json:"overdue"`      // no success for twice Every
	LastFile    string        `json:"last_file,omitempty"`
	LastBytes   int64         `json:"last_bytes"`
	LastTook    time.Duration `json:"last_took"`
	Runs        uint64        `json:"runs"`
	Failures    uint64        `json:"failures"`
	LastError   string        `json:"last_error,omitempty"`
}

// StartSchedule starts scheduled backups into opt.Dir: the first at once
// when the newest there is older than Every (or there is none), then
// every Every.
func StartSchedule(opt ScheduleOptions) (*Schedule, error) {
	if opt.Every <= 0 {
		opt.Every = 24 * time.Hour
	}
	if opt.FullEvery == 0 {
		opt.FullEvery = 7 * 24 * time.Hour
	}
	if opt.Keep <= 0 {
		opt.Keep = 4
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backups: %w", err)
	}
	s := &Schedule{opt: opt, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.scan(); err != nil {
		return nil, err
	}
	go s.loop()
	return s, nil
}

// Close stops the schedule, waiting for a backup in progress. It is safe
// to call twice.
func (s *Schedule) Close() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// Stats returns what the schedule did.
func (s *Schedule) Stats() ScheduleStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	if !st.LastSuccess.IsZero() {
		st.Age = time.Since(st.LastSuccess)
	}
	st.Overdue = s.overdueLocked()
	return st
}

func (s *Schedule) overdueLocked() bool {
	return s.stats.LastSuccess.IsZero() && s.stats.Failures > 0 || !s.stats.LastSuccess.IsZero() && time.Since(s.stats.LastSuccess) > 2*s.opt.Every
}

// backup files are named twin-<plant time>-full.tar or -incr.tar
const stamp = "20060102T150405.000"

// scan finds the newest backup of the directory and its chain's full one.
func (s *Schedule) scan() error {
	names, err := s.files()
	if err != nil {
		return err
	}
	for i := len(names) - 1; i >= 0; i-- {
		f := filepath.Join(s.opt.Dir, names[i])
		m, err := Check(f)
		if err != nil {
			s.opt.Logger.Warn("backups: a backup file that does not check; the next backup is a full one", "file", f, "err", err)
			return nil
		}
		fi, _ := os.Stat(f)
		s.last, s.lastAt = m, fi.ModTime()
		s.stats.LastSuccess, s.stats.LastFile, s.stats.LastBytes = fi.ModTime(), f, fi.Size()
		for j := i; j >= 0; j-- {
			if strings.HasSuffix(names[j], "-full.tar") {
				fj, _ := os.Stat(filepath.Join(s.opt.Dir, names[j]))
				s.full = fj.ModTime()
				break
			}
		}
		return nil
	}
	return nil
}

// files lists the backup files of the directory, oldest first.
func (s *Schedule) files() ([]string, error) {
	ents, err := os.ReadDir(s.opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("backups: %w", err)
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "twin-") && (strings.HasSuffix(n, "-full.tar") || strings.HasSuffix(n, "-incr.tar")) {
			out = append(out, n)
		}
	}
	slices.Sort(out) // the names sort by time
	return out, nil
}

func (s *Schedule) loop() {
	defer close(s.done)
	s.mu.Lock()
	wait := time.Duration(0)
	if s.last != nil {
		wait = max(0, s.opt.Every-time.Since(s.lastAt))
	}
	s.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	check := time.NewTicker(min(s.opt.Every, time.Minute))
	defer check.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-check.C:
			s.noteOverdue()
		case <-t.C:
			s.run()
			t.Reset(s.opt.Every)
		}
	}
}

// noteOverdue calls Overdue when the state changes.
func (s *Schedule) noteOverdue() {
	s.mu.Lock()
	now, was := s.overdueLocked(), s.overdue
	s.overdue = now
	age := time.Since(s.stats.LastSuccess)
	s.mu.Unlock()
	if now != was {
		if now {
			s.opt.Logger.Error("backups: overdue: no backup succeeded for twice the interval", "dir", s.opt.Dir, "every", s.opt.Every, "last", s.Stats().LastSuccess)
		}
		if s.opt.Overdue != nil {
			s.opt.Overdue(now, age)
		}
	}
}

// run makes one backup: a full one when there is no chain or its full
// backup is FullEvery old, else an increment of the last.
func (s *Schedule) run() {
	s.mu.Lock()
	since := s.last
	full := since == nil || s.opt.FullEvery < 0 || time.Since(s.full) >= s.opt.FullEvery
	s.mu.Unlock()
	o := s.opt.Options
	o.Since = nil
	kind := "full"
	if !full {
		o.Since, kind = since, "incr"
	}
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	now := time.Now()
	name := filepath.Join(s.opt.Dir, "twin-"+now.In(zone).Format(stamp)+"-"+kind+".tar")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // a stop ends a backup between its parts
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	m, err := WriteFile(ctx, name, s.opt.Source, o)
	cancel()
	took := time.Since(now)
	if errors.Is(err, context.Canceled) {
		return // stopped: not a run
	}
	s.mu.Lock()
	s.stats.Runs++
	if err != nil {
		s.stats.Failures++
		s.stats.LastError = err.Error()
		s.mu.Unlock()
		s.opt.Logger.Error("backups: a scheduled backup failed", "file", name, "err", err)
		s.noteOverdue()
		return
	}
	fi, _ := os.Stat(name)
	s.last, s.lastAt = m, now
	if full {
		s.full = now
	}
	s.stats.LastSuccess, s.stats.LastFile, s.stats.LastTook, s.stats.LastError = now, name, took, ""
	if fi != nil {
		s.stats.LastBytes = fi.Size()
	}
	s.mu.Unlock()
	s.opt.Logger.Info("backups: backed up", "file", name, "kind", kind, "bytes", s.stats.LastBytes, "took", took.Round(time.Millisecond))
	s.noteOverdue()
	if full {
		s.prune()
	}
}

// prune removes the chains older than the Keep newest.
func (s *Schedule) prune() {
	names, err := s.files()
	if err != nil {
		s.opt.Logger.Warn("backups: retention", "err", err)
		return
	}
	fulls := 0
	for i := len(names) - 1; i >= 0; i-- {
		if fulls >= s.opt.Keep {
			if err := os.Remove(filepath.Join(s.opt.Dir, names[i])); err != nil {
				s.opt.Logger.Warn("backups: retention", "err", err)
			} else {
				s.opt.Logger.Info("backups: removed an old backup", "file", names[i])
			}
			continue
		}
		if strings.HasSuffix(names[i], "-full.tar") {
			fulls++
		}
	}
}
