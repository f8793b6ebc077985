package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"twin/scenarios"
)

func init() {
	register(&Command{
		Name:  "run",
		Usage: "[--out DIR] [--workers N] [--shard i/n] [--replications N] [--quiet] FILE…\n       twin run --merge [--out DIR] SHARD…",
		Short: "run scenario files: replications of each variant, in parallel",
		Long: `Run simulates every variant of each scenario file (see scenarios/FORMAT.md)
for its replications, on all cores, and writes the results into
OUT/<scenario name>/:

  results.json   per variant: each KPI's mean, 95% CI, n, min, max, its value
                 in every replication, its difference from the baseline
  results.csv    one row per variant and KPI
  events.jsonl   the event log of one run, if the scenario asks for it

and prints a summary of the key KPIs. OUT is --out, or "out" in the
working directory. All files are checked before anything runs; any
error stops the command with a non-zero status and the error's file:line.

With --shard i/n only the runs whose index is i modulo n are done, and
their raw results written to OUT/<name>/shard-i-of-n.json; "twin run
--merge OUT/<name>/shard-*.json" combines the n shard files into the
results an unsharded run gives, byte for byte, in OUT/<name> (or --out).
Run the shards wherever a batch system puts them.

Progress goes to stderr: one updating line on a terminal, an occasional
line otherwise; --quiet turns it off.`,
		Run: runRun,
	})
}

func runRun(ctx context.Context, args []string, stdout io.Writer) error {
	c := commands["run"]
	fs := newFlags(c, stdout)
	out := fs.String("out", "", "output `directory` (default: out, in the working directory)")
	workers := fs.Int("workers", 0, "runs at a time (default: all cores)")
	shardFlag := fs.String("shard", "", "run only shard `i/n` of the runs and write a shard file")
	merge := fs.Bool("merge", false, "merge shard files given as arguments into results")
	reps := fs.Int("replications", 0, "replications per variant, instead of the scenario's")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	files, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errUsage
	}
	var progress io.Writer = os.Stderr
	if *quiet {
		progress = nil
	}
	if *merge {
		if *shardFlag != "" || *reps != 0 {
			return fmt.Errorf("--merge takes shard files only: no --shard or --replications")
		}
		return mergeShards(files, *out, stdout)
	}
	var shard scenarios.Shard
	if *shardFlag != "" {
		var err error
		if shard, err = scenarios.ParseShard(*shardFlag); err != nil {
			return err
		}
	}
	if *reps < 0 || *reps > scenarios.MaxReplications {
		return fmt.Errorf("--replications: want 1 to %d", scenarios.MaxReplications)
	}

	// Check every file before running any.
	var list []*scenarios.Scenario
	var errs []error
	for _, f := range files {
		s, err := scenarios.Load(f)
		if err != nil {
			errs = append(errs, fileHint(err))
			continue
		}
		if *reps > 0 {
			s.Replications = *reps
			if s.Events != nil && s.Events.Replication > s.Replications {
				errs = append(errs, fmt.Errorf("%s: events.replication %d, but --replications %d", f, s.Events.Replication, *reps))
			}
		}
		list = append(list, s)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, s := range list {
		if err := runScenario(ctx, s, *out, *workers, shard, progress, stdout); err != nil {
			return err
		}
	}
	return nil
}

// defaultOut is where twin run writes without --out: the same place for
// every scenario file and every shard, where the README's merge line
// (twin run --merge out/<study>/shard-*.json) looks.
const defaultOut = "out"

// outDir is where the files of scenario s go.
func outDir(s *scenarios.Scenario, out string) string {
	if out == "" {
		out = defaultOut
	}
	return filepath.Join(out, s.Name)
}

func runScenario(ctx context.Context, s *scenarios.Scenario, out string, workers int, shard scenarios.Shard, progress, stdout io.Writer) (err error) {
	dir := outDir(s, out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	opt := scenarios.Options{Workers: workers, Shard: shard}
	if _, ok := s.EventRun(shard); ok {
		f, err := os.Create(filepath.Join(dir, s.Events.File))
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, f.Close()) }()
		opt.Events = f
	}
	if progress != nil {
		p := startProgress(progress, s.Name, isTerminal(progress))
		opt.Progress = p.update
		defer p.stop()
	}
	b, err := scenarios.Run(ctx, s, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", s.File, err)
	}
	if shard.Count > 1 {
		name := filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.json", shard.Index, shard.Count))
		if err := writeFile(name, b.WriteJSON); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: shard %s: %d runs in %s\n", s.Name, shard, len(b.Runs), name)
		fmt.Fprintf(stdout, "  when all %d shards are done: twin run --merge %s\n", shard.Count, filepath.Join(dir, "shard-*.json"))
		return nil
	}
	res, err := scenarios.Summarize(b)
	if err != nil {
		return err
	}
	return writeResults(res, dir, stdout)
}

// shardFiles are the shard files named by args: a pattern that reached
// twin run unexpanded (quoted, or a shell that leaves an unmatched glob as
// it is) is expanded here; one that matches nothing, or a missing file, is
// an error that says where shard files are written.
func shardFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		if _, err := os.Stat(a); err == nil {
			files = append(files, a)
			continue
		}
		if strings.ContainsAny(a, "*?[") {
			m, err := filepath.Glob(a)
			if err == nil && len(m) > 0 {
				files = append(files, m...)
				continue
			}
		}
		where := ""
		if wd, err := os.Getwd(); err == nil && !filepath.IsAbs(a) {
			where = " (in " + wd + ")"
		}
		return nil, fmt.Errorf("--merge: no shard file matches %s%s. twin run --shard i/n FILE writes OUT/<scenario name>/shard-i-of-n.json, OUT being --out or %s in the directory it ran in: run the shards first (or copy their files here), then merge those files", a, where, defaultOut)
	}
	return files, nil
}

func mergeShards(args []string, out string, stdout io.Writer) error {
	files, err := shardFiles(args)
	if err != nil {
		return err
	}
	var shards []*scenarios.Batch
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return err
		}
		b, err := scenarios.ReadBatch(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		shards = append(shards, b)
	}
	b, err := scenarios.Merge(shards)
	if err != nil {
		return err
	}
	res, err := scenarios.Summarize(b)
	if err != nil {
		return err
	}
	dir := filepath.Dir(files[0])
	if out != "" {
		dir = filepath.Join(out, b.Scenario.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeResults(res, dir, stdout)
}

func writeResults(res *scenarios.Results, dir string, stdout io.Writer) error {
	if err := writeFile(filepath.Join(dir, "results.json"), res.WriteJSON); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "results.csv"), res.WriteCSV); err != nil {
		return err
	}
	if err := res.WriteSummary(stdout); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "results in %s\n\n", dir)
	return err
}

// writeFile writes a file through a temporary one, so that a failed run
// never leaves a half-written result behind.
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows how far a batch is: on a terminal one line redrawn four
// times a second, elsewhere a line at each tenth of the runs.
type progress struct {
	w     io.Writer
	name  string
	tty   bool
	start time.Time

	mu          sync.Mutex
	done, total int
	tenth       int

	stopc, donec chan struct{}
	once         sync.Once
}

func startProgress(w io.Writer, name string, tty bool) *progress {
	p := &progress{w: w, name: name, tty: tty, start: time.Now(), stopc: make(chan struct{}), donec: make(chan struct{})}
	if !tty {
		close(p.donec)
		return p
	}
	go func() {
		defer close(p.donec)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stopc:
				return
			case <-t.C:
				p.mu.Lock()
				p.drawLocked()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// update is Options.Progress.
func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	if p.tty {
		return
	}
	if t := done * 10 / total; t > p.tenth || done == total {
		p.tenth = t
		fmt.Fprintln(p.w, p.lineLocked())
	}
}

// stop ends the display; it is safe to call twice.
func (p *progress) stop() {
	p.once.Do(func() {
		close(p.stopc)
		<-p.donec
		if p.tty {
			p.mu.Lock()
			p.drawLocked()
			fmt.Fprintln(p.w)
			p.mu.Unlock()
		}
	})
}

func (p *progress) drawLocked() {
	fmt.Fprintf(p.w, "\r\033[K%s", p.lineLocked())
}

func (p *progress) lineLocked() string {
	el := time.Since(p.start)
	s := fmt.Sprintf("%s: %d/%d runs, %s", p.name, p.done, p.total, roughly(el))
	if p.done > 0 && p.done < p.total {
		eta := time.Duration(float64(el) / float64(p.done) * float64(p.total-p.done))
		s += ", about " + roughly(eta) + " left"
	}
	return s
}

// roughly formats d to the second.
func roughly(d time.Duration) string {
	switch {
	case d < time.Second:
		return "<1s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
