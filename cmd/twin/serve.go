package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/forecast"
	"twin/twin/mes"
	"twin/twin/state"
	"twin/twin/store"
	"twin/viz/feed"
	"twin/viz/scene"
)

func init() {
	register(&Command{
		Name:  "serve",
		Usage: "--plant FILE --data DIR [--retention D] [--max-skew D] [--max-age D]",
		Short: "the live twin: follow a plant over MQTT, keep its history",
		Long: `Serve connects to the MQTT brokers and OPC UA servers named in the plant
file's tag map (JSON topics, Sparkplug B, monitored nodes; see
plant/FORMAT.md, "Tags"), folds every
observation into the live state and appends it to the history in DIR
(Badger; an event is acknowledged to the broker only once it is on disk).
It reconnects by itself after a broker restart or a network loss, and
prints a status line every few seconds until Ctrl-C.

Time: a reading keeps the time its source stamped it with; one without
a timestamp gets this computer's clock. A reading stamped more than
--max-skew (5m) ahead of this computer's clock, or more than --max-age
(720h, 30 days: a gateway's store-and-forward backlog after an outage is
real history) before it, is quarantined: kept in the history as a fault
with what was received, counted in the status line, and left out of the
live state, so a publisher with a wrong clock cannot move the twin's.
--retention is measured from this computer's clock too.

Beside the history it keeps the execution records in DIR/mes (orders,
work orders, operation cards, genealogy, equipment, quality, maintenance,
labour) and serves their JSON API at /api/v1/ on --http (OpenAPI document
at /api/v1/openapi.json; roles in twin/mes/ROLES.md). On the first start
it makes an account "admin" and prints its password once
($TWIN_ADMIN_PASSWORD sets it instead).

Passwords in the tag map may be written $NAME to read the environment.`,
		Run: runServe,
	})
	register(&Command{
		Name:  "replay",
		Usage: "--data DIR [--plant FILE] [--from T] [--to T] [--speed N]",
		Short: "play the history back: the state at any time, paced or at full speed",
		Long: `Replay reads the history in DIR from --from to --to (default: all of it),
starting from the state at --from (one snapshot plus the events after it),
and plays the events at --speed times real time (0: as fast as possible),
printing a status line every second; at the end it prints the machines
and the open orders as they were at --to. Times are written
2026-03-02T08:00 (the plant's time zone), RFC 3339, or -2h (before now).`,
		Run: runReplay,
	})
	register(&Command{
		Name:  "forecast",
		Usage: "--plant FILE --data DIR [--at T] [--horizon D] [--replications N] [--json]",
		Short: "simulate forward from the state in the history: order completion, bottleneck, energy",
		Long: `Forecast takes the plant's state at --at (default: the latest in the
history), forks a simulation of the plant from it and runs it --horizon
ahead, --replications times: the expected completion (mean and 90th
percentile) of each open order and the chance it is on time, the likely
bottleneck, the motors made, kWh, energy cost and CO2. Open orders
restart at their first operation, so the forecast errs late.`,
		Run: runForecast,
	})
}

func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["serve"], stdout)
	plantFile := fs.String("plant", "", "plant `file`")
	data := fs.String("data", "data", "history `directory`")
	liveOpt := liveFlags(fs)
	httpAddr := fs.String("http", "127.0.0.1:8080", "web view and WebSocket feed `address` (off: none)")
	token := tokenFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *plantFile == "" || fs.NArg() > 0 {
		return errUsage
	}
	p, err := plant.Load(*plantFile)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var wg sync.WaitGroup
	tw, err := startLive(ctx, p, *data, liveOpt(), log, &wg)
	if err != nil {
		return err
	}
	recs, err := openRecords(p, *data, tw, tw.in.Clock().Now, log, stdout)
	if err != nil {
		tw.close()
		return err
	}
	defer tw.close()
	defer recs.Close()
	if *httpAddr != "off" {
		layout := scene.NewLayout(p)
		src := feed.StoreHistory(tw.st, layout, liveScenes(withAlarms(recs, func() *scene.Scene { return layout.Build(tw.in.Snapshot()) })), log)
		wv, err := startWeb(*httpAddr, *token, src, mes.NewAPI(recs), log, stdout)
		if err != nil {
			return err
		}
		defer wv.close()
	}
	for _, b := range p.Tags.MQTT {
		fmt.Fprintf(stdout, "following %s: %d topics, Sparkplug %v\n", b.URL, len(b.Topics), b.Sparkplug != nil)
	}
	for _, s := range p.Tags.OPCUA {
		fmt.Fprintf(stdout, "following %s (%s/%s): %d nodes\n", s.Endpoint, s.Policy, s.Mode, len(s.Nodes))
	}
	every(ctx, 5*time.Second, func() {
		s := tw.in.Stats()
		fmt.Fprintf(stdout, "%s | events %d, stored %d, faults %d%s\n", status(p, tw.in.Snapshot()), s.Events, s.Stored, s.Faults, quarantined(s))
	})
	wg.Wait()
	return nil
}

func openHistory(data, plantFile string) (*store.Store, *plant.Plant, error) {
	if _, err := os.Stat(data); err != nil {
		return nil, nil, fmt.Errorf("no history in %s: %w", data, err)
	}
	p, err := plant.Load(plantFile)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		return nil, nil, err
	}
	return st, p, nil
}

func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["replay"], stdout)
	data := fs.String("data", "data/demo", "history `directory`")
	plantFile := fs.String("plant", "testdata/plants/motor.yaml", "plant `file` (names the machines)")
	fromS := fs.String("from", "", "start `time` (default: the first event)")
	toS := fs.String("to", "", "end `time` (default: the last event)")
	speed := fs.Float64("speed", 0, "times real time; 0: as fast as possible")
	httpAddr := fs.String("http", "", "serve the web view of the replay on this `address` (and keep serving the end state until Ctrl-C)")
	token := tokenFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, p, err := openHistory(*data, *plantFile)
	if err != nil {
		return err
	}
	defer st.Close()
	first, last, ok, err := st.Bounds()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the history in %s is empty", *data)
	}
	from, to := first, last
	if *fromS != "" {
		if from, err = parseWhen(*fromS, p.Location); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	if *toS != "" {
		if to, err = parseWhen(*toS, p.Location); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	t0 := time.Now()
	s, err := st.StateAt(from - 1)
	if err != nil {
		return err
	}
	seek := time.Since(t0)
	var mu sync.Mutex
	sink := event.SinkFunc(func(e event.Event) {
		mu.Lock()
		s.Apply(e)
		mu.Unlock()
	})
	if *speed == 0 {
		*speed = math.Inf(1)
	}
	var wv *webView
	if *httpAddr != "" {
		layout := scene.NewLayout(p)
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		src := feed.StoreHistory(st, layout, liveScenes(func() *scene.Scene {
			mu.Lock()
			defer mu.Unlock()
			return layout.Build(s)
		}), log)
		wv, err = startWeb(*httpAddr, *token, src, nil, log, stdout)
		if err != nil {
			return err
		}
		defer wv.close()
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		every(rctx, time.Second, func() {
			mu.Lock()
			line := status(p, s)
			mu.Unlock()
			fmt.Fprintln(stdout, line)
		})
	}()
	t1 := time.Now()
	n, err := st.Replay(ctx, from, to, *speed, sink)
	el := time.Since(t1)
	cancel()
	<-done
	if err != nil && ctx.Err() == nil {
		return err
	}
	fmt.Fprintf(stdout, "replayed %d events from %s to %s in %v (%.0f events/s; the state at the start took %v)\n",
		n, time.Unix(0, from).In(p.Location).Format(time.DateTime), time.Unix(0, to).In(p.Location).Format(time.DateTime),
		el.Round(time.Millisecond), float64(n)/el.Seconds(), seek.Round(time.Microsecond))
	fmt.Fprintln(stdout, status(p, s))
	report(stdout, p, s)
	if wv != nil {
		fmt.Fprintln(stdout, "serving the end state of the replay; Ctrl-C to stop")
		<-ctx.Done()
	}
	return nil
}

func runForecast(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["forecast"], stdout)
	data := fs.String("data", "data/demo", "history `directory`")
	plantFile := fs.String("plant", "testdata/plants/motor.yaml", "plant `file`")
	atS := fs.String("at", "", "forecast from this `time` (default: the latest in the history)")
	horizon := fs.Duration("horizon", 8*time.Hour, "how far ahead")
	reps := fs.Int("replications", 10, "replications")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, p, err := openHistory(*data, *plantFile)
	if err != nil {
		return err
	}
	defer st.Close()
	_, at, ok, err := st.Bounds()
	if err != nil || !ok {
		return fmt.Errorf("the history in %s is empty", *data)
	}
	if *atS != "" {
		if at, err = parseWhen(*atS, p.Location); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	var s *state.State
	if s, err = st.StateAt(at); err != nil {
		return err
	}
	f, err := forecast.Run(ctx, p, s, forecast.Options{Horizon: *horizon, Replications: *reps})
	if err != nil {
		return err
	}
	if *asJSON {
		return jsonOut(stdout, f)
	}
	fmt.Fprintln(stdout, status(p, s))
	printForecast(stdout, p, f)
	return nil
}
