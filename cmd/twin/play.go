package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"twin/scenarios"
	"twin/twin/state"
	"twin/viz/feed"
	"twin/viz/scene"
)

func init() {
	register(&Command{
		Name:  "play",
		Usage: "[--variant NAME] [--replication N] [--speed X] [--http ADDR] [--token T] [--for D] FILE",
		Short: "play one run of a scenario in the web view, with a timeline to scrub",
		Long: `Play runs one replication of one variant of a scenario file (the
baseline's first by default, with the seed a batch run gives it), keeps
its events in memory, and serves the run on the web view and the
WebSocket feed, marked "scenario": the playhead moves at --speed times
real time (3600: an hour a second) from the start of the run, and every
viewer can scrub the timeline back and forth or follow the playhead.
The desktop viewer (twin-view --connect) follows the same feed.`,
		Run: runPlay,
	})
}

func runPlay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["play"], stdout)
	variant := fs.String("variant", "", "the variant to play (default: the baseline)")
	rep := fs.Int("replication", 1, "the replication to play, from 1")
	speed := fs.Float64("speed", 3600, "the playhead's speed, times real time")
	httpAddr := fs.String("http", "127.0.0.1:8080", "web view `address` (a free port if taken)")
	token := tokenFlag(fs)
	dur := fs.Duration("for", 0, "stop after this wall `duration` (default: until Ctrl-C)")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	sc, err := scenarios.Load(pos[0])
	if err != nil {
		return fileHint(err)
	}
	v := sc.Baseline
	if *variant != "" {
		if v = sc.Variant(*variant); v < 0 {
			names := ""
			for _, x := range sc.Variants {
				names += " " + x.Name
			}
			return fmt.Errorf("--variant: %s has no variant %q (it has:%s)", pos[0], *variant, names)
		}
	}
	tape := state.NewTape(0)
	t0 := time.Now()
	r, err := sc.Play(ctx, v, *rep, tape)
	if err != nil {
		return err
	}
	from, to := tape.Span()
	p := sc.Variants[v].Plant
	fmt.Fprintf(stdout, "%s, variant %s, replication %d (seed %d): %d events from %s to %s, simulated in %v\n",
		sc.Name, sc.Variants[v].Name, *rep, r.Seed, tape.Len(),
		time.Unix(0, from).In(p.Location).Format(time.DateTime), time.Unix(0, to).In(p.Location).Format(time.DateTime),
		time.Since(t0).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  %s\n", zoneNote(p.Location, time.Unix(0, from)))
	for _, m := range r.Metrics {
		if m.Name == "throughput" || m.Name == "lead_time_mean" || m.Name == "wip" || m.Name == "energy_per_unit" || m.Name == "co2_per_unit" || m.Name == "on_time" {
			fmt.Fprintf(stdout, "  %-16s %10.3f %s\n", m.Name, float64(m.Value), m.Unit)
		}
	}
	layout := scene.NewLayout(p)
	start := time.Now()
	var h *feed.History
	playhead := func() int64 {
		t := from + int64(float64(time.Since(start))*(*speed))
		return min(max(t, from), to)
	}
	var once sync.Once
	h = feed.TapeHistory(tape, layout, liveScenes(func() *scene.Scene {
		t := playhead()
		if t == to {
			once.Do(func() {
				fmt.Fprintln(stdout, "the playhead reached the end of the run; scrub the timeline to look back")
			})
		}
		return h.SceneAt(t)
	}))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	wv, err := startWeb(*httpAddr, *token, h, nil, nil, log, stdout)
	if err != nil {
		return err
	}
	defer wv.close()
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	<-ctx.Done()
	return nil
}
