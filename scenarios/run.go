package scenarios

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
)

// Options configure Run. The zero value runs everything on every core.
type Options struct {
	// Workers is the number of runs at a time; 0 means
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
	// Shard selects the runs to do; the zero value selects all.
	Shard Shard
	// Progress, if not nil, is called after each run with the runs done
	// and the runs to do. Calls do not overlap.
	Progress func(done, total int)
	// Events receives the event log the scenario asks for (Scenario.Events)
	// as JSON Lines, if that run is in the shard; nil: no log.
	Events io.Writer
}

// Shard is one of Count slices of a batch: the runs whose index (variant ×
// replications + replication − 1) is Index modulo Count. Shards run apart
// (on other machines) and Merge combines them.
type Shard struct{ Index, Count int }

// ParseShard parses "i/n" (0 ≤ i < n).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("bad shard %q: want i/n with 0 ≤ i < n, like 0/4", s)
	}
	return Shard{i, n}, nil
}

func (sh Shard) String() string {
	if sh.Count <= 1 {
		return "0/1"
	}
	return fmt.Sprintf("%d/%d", sh.Index, sh.Count)
}

// Has reports whether the run with index task belongs to the shard.
func (sh Shard) Has(task int) bool { return sh.Count <= 1 || task%sh.Count == sh.Index }

// RunSeed returns the master seed of replication rep (from 1) of variant
// v: the same for every variant with common random numbers, independent
// streams per variant without.
func (s *Scenario) RunSeed(v, rep int) uint64 {
	base := s.Seed
	if !s.CRN {
		base = sim.Key(s.Seed, uint64(v)+1, 0x5ce7a210, 0)
	}
	return sim.ReplicationSeed(base, rep)
}

// Tasks returns the number of runs of the whole batch.
func (s *Scenario) Tasks() int { return len(s.Variants) * s.Replications }

// EventRun reports the index of the run whose events the scenario asks for,
// and whether it is in shard sh.
func (s *Scenario) EventRun(sh Shard) (task int, ok bool) {
	if s.Events == nil {
		return -1, false
	}
	for v, vr := range s.Variants {
		if vr.Name == s.Events.Variant {
			t := v*s.Replications + s.Events.Replication - 1
			return t, sh.Has(t)
		}
	}
	return -1, false
}

// chunk is how far a run advances between checks of its context.
const chunk = sim.Day

// Run runs the replications of every variant of s (built by Load or
// Resolve) in opt.Shard, opt.Workers at a time, and returns their
// outcomes ordered by variant, then replication: the same whatever the
// number of workers and the order they finish in. It stops early, with
// the context's error, when ctx is cancelled.
func Run(ctx context.Context, s *Scenario, opt Options) (*Batch, error) {
	for _, v := range s.Variants {
		if v.Plant == nil {
			return nil, fmt.Errorf("scenarios: variant %s has no plant: call Load or Resolve first", v.Name)
		}
	}
	if opt.Shard.Count > 1 && (opt.Shard.Index < 0 || opt.Shard.Index >= opt.Shard.Count) {
		return nil, fmt.Errorf("scenarios: bad shard %d/%d", opt.Shard.Index, opt.Shard.Count)
	}
	if s.Events != nil && s.Events.Replication > s.Replications {
		return nil, fmt.Errorf("scenarios: event log of replication %d, but %d replications", s.Events.Replication, s.Replications)
	}
	var tasks []int
	for t := range s.Tasks() {
		if opt.Shard.Has(t) {
			tasks = append(tasks, t)
		}
	}
	b := &Batch{Scenario: s.header(), Shard: opt.Shard, Runs: make([]RunResult, len(tasks))}
	if b.Shard.Count <= 1 {
		b.Shard = Shard{0, 1}
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(tasks))
	evTask, _ := s.EventRun(opt.Shard)
	filter := newFilter(s.Metrics)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		progress sync.Mutex
		done     int
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(tasks) {
					return
				}
				var ev io.Writer
				if tasks[i] == evTask {
					ev = opt.Events
				}
				if err := s.runOne(ctx, tasks[i], ev, filter, &b.Runs[i]); err != nil {
					cancel(err)
					return
				}
				if opt.Progress != nil {
					progress.Lock()
					done++
					opt.Progress(done, len(tasks))
					progress.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// runOne runs task t into r.
func (s *Scenario) runOne(ctx context.Context, t int, events io.Writer, filter *filter, r *RunResult) (err error) {
	return s.runInto(ctx, t, events, nil, filter, r)
}

// Play runs replication rep (from 1) of variant v, with the seed a batch
// run gives it, handing every event to sink (marked as scenario events):
// the playback the views show. It returns the run's KPIs.
func (s *Scenario) Play(ctx context.Context, v, rep int, sink event.Sink) (RunResult, error) {
	var r RunResult
	if v < 0 || v >= len(s.Variants) {
		return r, fmt.Errorf("scenarios: no variant %d (%d variants)", v, len(s.Variants))
	}
	if rep < 1 || rep > s.Replications {
		return r, fmt.Errorf("scenarios: no replication %d (1 to %d)", rep, s.Replications)
	}
	if s.Variants[v].Plant == nil {
		return r, fmt.Errorf("scenarios: variant %s has no plant: call Load or Resolve first", s.Variants[v].Name)
	}
	err := s.runInto(ctx, v*s.Replications+rep-1, nil, sink, nil, &r)
	return r, err
}

// Variant returns the index of the variant named name, or -1.
func (s *Scenario) Variant(name string) int {
	for i, v := range s.Variants {
		if v.Name == name {
			return i
		}
	}
	return -1
}

func (s *Scenario) runInto(ctx context.Context, t int, events io.Writer, sink event.Sink, filter *filter, r *RunResult) (err error) {
	v, rep := t/s.Replications, t%s.Replications+1
	seed := s.RunSeed(v, rep)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("variant %s, replication %d (seed %d): model panicked: %v\n%s", s.Variants[v].Name, rep, seed, p, debug.Stack())
		}
	}()
	opt := model.Options{Seed: seed, Warmup: s.Warmup, Horizon: s.Horizon}
	var ew *EventWriter
	if events != nil {
		ew = NewEventWriter(events)
		opt.Sink = ew
	} else if sink != nil {
		opt.Sink = sink
	}
	m, err := model.New(s.Variants[v].Plant, opt)
	if err != nil {
		return fmt.Errorf("variant %s: %w", s.Variants[v].Name, err)
	}
	end := s.Warmup + s.Horizon
	for at := min(chunk, end); ; at = min(at+chunk, end) {
		m.RunUntil(at)
		if err := ctx.Err(); err != nil {
			return err
		}
		if at == end {
			break
		}
	}
	res := m.Result()
	if ew != nil {
		if err := ew.Flush(); err != nil {
			return fmt.Errorf("write event log: %w", err)
		}
	}
	*r = RunResult{Variant: v, Replication: rep, Seed: seed, Bottleneck: res.Bottleneck}
	for _, mt := range res.Metrics() {
		if filter.match(mt.Name) {
			r.Metrics = append(r.Metrics, Value{Name: mt.Name, Unit: mt.Unit, Value: Num(mt.Value)})
		}
	}
	return nil
}

// filter matches metric names against patterns in which * stands for any
// run of characters ("utilisation/*", "energy*").
type filter struct{ patterns []string }

func newFilter(patterns []string) *filter { return &filter{patterns} }

func (f *filter) match(name string) bool {
	if f == nil || len(f.patterns) == 0 {
		return true
	}
	for _, p := range f.patterns {
		if wildcard(p, name) {
			return true
		}
	}
	return false
}

// wildcard reports whether s matches pattern p, where * matches any run
// of characters (slashes included) and every other byte itself.
func wildcard(p, s string) bool {
	// Greedy with backtracking to the last star: linear in practice.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
