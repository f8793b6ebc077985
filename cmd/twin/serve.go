package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/backup"
	"twin/twin/datadir"
	"twin/twin/forecast"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/twin/mes/schedule"
	"twin/twin/metrics"
	"twin/twin/state"
	"twin/twin/store"
	"twin/viz/feed"
	"twin/viz/overlay"
	"twin/viz/scene"
)

func init() {
	register(&Command{
		Name:  "serve",
		Usage: "--plant FILE --data DIR [--retention D] [--max-skew D] [--max-age D] [--disk-reserve MIB] [--http ADDR] [--tls-cert FILE --tls-key FILE | --tls-host NAMES | --http-only] [--metrics-token T] [--backup-dir DIR --backup-every D --backup-keep N]",
		Short: "the live twin: follow a plant over MQTT, keep its history",
		Long: `Serve connects to the MQTT brokers and OPC UA servers named in the plant
file's tag map (JSON topics, Sparkplug B, monitored nodes; see
plant/FORMAT.md, "Tags"), folds every
observation into the live state and appends it to the history in DIR
(Badger; an event is acknowledged to the broker only once it is on disk).
It reconnects by itself after a broker restart or a network loss, and
prints a status line every few seconds until Ctrl-C. While an OPC UA
server is lost, its machines carry the alarm opcua/offline (their values
are stale). An OPC UA server's certificate is trusted on first use and
pinned in DIR/opcua/trusted-servers.txt (an endpoint and a SHA-256
fingerprint a line; write a line beforehand to pin one, add one when a
server's certificate is renewed).

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
at /api/v1/openapi.json; roles in twin/mes/api/ROLES.md). On the first start
it makes an account "admin", prints its password and keeps it in
DIR/mes/admin-password (readable by you only) until it is changed
($TWIN_ADMIN_PASSWORD sets it instead); see twin help users to reset it.

HTTPS: --http serves HTTPS (TLS 1.2 at least; HSTS, Secure cookies) with
the certificate of --tls-cert and --tls-key, or else one made and kept in
DIR/tls: a local CA (DIR/tls/ca.pem, its key ca.key readable by you only)
signs a certificate for this machine's host name, its LAN addresses,
localhost, 127.0.0.1 and the names of --tls-host. Later starts reuse it;
it is made anew when the names change and 30 days before it ends (the
CA stays). Every start prints its SHA-256 and the CA's path: install the
CA once on phones and browsers (it is also served at /ca.pem); the
command line trusts it with --ca DIR/tls/ca.pem or $TWIN_CA. --http-only
serves plain HTTP instead (behind a TLS proxy, or on loopback only).

On --http it also serves /healthz (200 while it answers), /readyz (200
once every connector is connected and subscribed and the history and the
records are open, else 503 with JSON naming what is not) and /metrics
(Prometheus; the metrics are listed in twin/metrics/METRICS.md). /metrics
answers only on this computer (loopback) unless --metrics-token (or
$TWIN_METRICS_TOKEN) is set: then it wants Authorization: Bearer TOKEN
from every peer.

--backup-dir DIR makes a backup into DIR every --backup-every (24h) while
it runs, the first at once when the newest there is older: a full one
weekly, an increment of the one before at each other time; it keeps the
--backup-keep (4) newest weeks. An admin can take one at any time with
twin backup --server URL --out FILE. twin help restore says how to use
them.

DIR remembers the plant file (DIR/plant.yaml): without --plant, serve
starts again with it. While serve runs, DIR/serve.json says where, for the
commands that find DIR in use.

Passwords in the tag map may be written $NAME to read the environment.`,
		Run: runServe,
	})
	register(&Command{
		Name:  "replay",
		Usage: "--data DIR [--plant FILE] [--from T] [--to T] [--speed N] [--http ADDR]",
		Short: "play the history back: the state at any time, paced or at full speed",
		Long: `Replay reads the history in DIR from --from to --to (default: all of it),
starting from the state at --from (one snapshot plus the events after it),
and plays the events at --speed times real time (0: as fast as possible),
printing a status line every second; at the end it prints the machines
and the open orders as they were at --to. Times are written
2026-03-02T08:00 (the plant's time zone), RFC 3339, or -2h (two hours before the end of the history).`,
		Run: runReplay,
	})
	register(&Command{
		Name:  "forecast",
		Usage: "--data DIR [--plant FILE] [--at T] [--horizon D] [--replications N] [--json]",
		Short: "simulate forward from where the plant stands: order completion, bottleneck, energy",
		Long: `Forecast takes where the plant stood at --at (default: the latest in the
history): its open orders with every unit where the history says it is
(in a buffer, on a machine and for how long, waiting for parts), the
machines down. It forks a simulation of the plant from there and runs it,
--replications times, until the open orders are done (or --horizon), with
the new orders the plant's demand would bring meanwhile: the expected
completion of each open order (the median of the futures, with their 10th
and 90th percentiles) and the chance it is done by its due date, the
likely bottleneck, the units made, kWh, energy cost and CO2.`,
		Run: runForecast,
	})
}

func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["serve"], stdout)
	plantFile := fs.String("plant", "", "plant `file` (default: the plant DIR remembers from the last twin serve on it)")
	data := fs.String("data", "data", "history `directory`")
	liveOpt := liveFlags(fs)
	httpAddr := fs.String("http", "127.0.0.1:8080", "web view, WebSocket feed and records API `address`, on HTTPS unless --http-only (off: none)")
	token := tokenFlag(fs)
	newMetrics := metricsTokenFlag(fs)
	tlsOpt := addTLSFlags(fs)
	bkDir := fs.String("backup-dir", "", "make scheduled backups into this `directory` (twin help backup)")
	bkEvery := fs.Duration("backup-every", 24*time.Hour, "how often to back up into --backup-dir (a full backup weekly, an increment each other time)")
	bkKeep := fs.Int("backup-keep", 4, "how many weeks of backups (a full backup and its increments) to keep in --backup-dir")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(commands["serve"], pos); err != nil {
		return err
	}
	pl, err := loadPlant(stdout, *data, *plantFile, false)
	if err != nil {
		return err
	}
	p := pl.Plant
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	lo := liveOpt()
	lo.Metrics = newMetrics()
	tw, err := startLive(ctx, p, *data, lo, log, &wg)
	if err != nil {
		cancel()
		wg.Wait() // the connectors it started before it failed
		return inUse(datadir.Busy(*data, err), webWays)
	}
	defer tw.close()
	defer func() { cancel(); wg.Wait() }() // on every return the connectors end before the twin closes
	if err := datadir.SavePlant(*data, pl.Src); err != nil {
		log.Warn("the data directory will not remember its plant", "err", err)
	}
	recs, err := openRecords(p, *data, tw, tw.in.Clock().Now, log, stdout)
	if err != nil {
		return err
	}
	defer recs.Close()
	watchRecords(lo.Metrics, recs)
	if *bkDir != "" {
		bk, err := startBackups(*bkDir, *bkEvery, *bkKeep, *data, tw, recs, lo.Metrics, log, stdout)
		if err != nil {
			return err
		}
		defer bk.Close() // deferred after the stores' Close, it runs before theirs
	}
	if *httpAddr != "off" {
		wv, err := tw.startViews(recs, *data, *httpAddr, *token, tlsOpt, lo.Metrics, stdout)
		if err != nil {
			return err
		}
		defer wv.close()
		defer announce(*data, "twin serve", wv)()
		if serving != nil {
			serving(tw, recs, wv)
		}
	} else {
		defer announce(*data, "twin serve", nil)()
	}
	printFollowing(stdout, p)
	every(ctx, 5*time.Second, func() {
		s := tw.in.Stats()
		fmt.Fprintf(stdout, "%s | events %d, stored %d, faults %d%s\n", status(p, tw.in.Snapshot()), s.Events, s.Stored, s.Faults, quarantined(s))
	})
	wg.Wait()
	return nil
}

// printFollowing says what the twin follows, and the zone of the times it
// prints.
func printFollowing(stdout io.Writer, p *plant.Plant) {
	for _, b := range p.Tags.MQTT {
		fmt.Fprintf(stdout, "following %s: %d topics, Sparkplug %v\n", b.URL, len(b.Topics), b.Sparkplug != nil)
	}
	for _, s := range p.Tags.OPCUA {
		fmt.Fprintf(stdout, "following %s (%s/%s): %d nodes\n", s.Endpoint, s.Policy, s.Mode, len(s.Nodes))
	}
	fmt.Fprintln(stdout, zoneNote(p.Location, time.Now()))
}

// startBackups starts the scheduled backups of the twin on data into dir
// (twin help backup), their figures on the metrics and the views.
func startBackups(dir string, every time.Duration, keep int, data string, tw *live, recs *mes.DB, mx *metrics.Metrics, log *slog.Logger, stdout io.Writer) (*backup.Schedule, error) {
	src := backup.Source{Dir: data, History: tw.st, Records: recs.Store()}
	bk, err := backup.StartSchedule(backup.ScheduleOptions{Dir: dir, Every: every, Keep: keep, Source: src,
		Options: backup.Options{Zone: tw.p.Location}, Logger: log})
	if err != nil {
		return nil, err
	}
	tw.backups = bk.Stats
	watchBackups(mx, bk.Stats)
	fmt.Fprintf(stdout, "backing up into %s every %v (a full backup weekly), keeping %d weeks\n", dir, every, keep)
	return bk, nil
}

// startViews serves on addr (HTTPS as tls says) the live scene, with the
// records' KPIs and alarms and the twin's own alarms on it, and its
// history; the records API, with its backups of the twin on data; and the
// metrics (twin serve's and twin demo's web view).
func (tw *live) startViews(recs *mes.DB, data, addr, token string, tls *tlsFlags, mx *metrics.Metrics, stdout io.Writer) (*webView, error) {
	p := tw.p
	tc, err := tls.open(data, p.Location, tw.log)
	if err != nil {
		return nil, err
	}
	layout := scene.NewLayout(p)
	src := feed.StoreHistory(tw.st, layout, liveScenes(overlay.WithTwinAlarms(tw.alarms, overlay.WithKPIs(recs, overlay.WithAlarms(recs, func() *scene.Scene { return layout.Build(tw.in.Snapshot()) })))), tw.log)
	a := api.New(recs, &schedule.Planner{Records: recs, Live: tw.in})
	bkSrc := backup.Source{Dir: data, History: tw.st, Records: recs.Store()}
	a.SetBackup(func(ctx context.Context, w io.Writer, since *backup.Manifest) (*backup.Manifest, error) {
		return backup.Write(ctx, w, bkSrc, backup.Options{Since: since, Zone: p.Location})
	})
	return startWeb(addr, token, tc, src, a, mx, tw.log, stdout)
}

// serving, if set, is called by twin serve once its web view serves: a
// test that runs serve in its own process reads the run's Stats() there.
var serving func(tw *live, recs *mes.DB, wv *webView)

// openHistory opens the history in data and its plant (plantFile, else
// the one data remembers, else the built-in reference plant), and says
// which plant on w (nil: not). A data directory a running twin holds is
// an *datadir.InUseError, a missing one a *datadir.MissingError.
func openHistory(w io.Writer, data, plantFile string) (*store.Store, *plant.Plant, error) {
	st, err := datadir.OpenHistory(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		return nil, nil, err
	}
	p, err := loadPlant(w, data, plantFile, true)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, p.Plant, nil
}

func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["replay"], stdout)
	data := fs.String("data", "data/demo", "history `directory`")
	plantFile := fs.String("plant", "", "plant `file` (names the machines; default: the plant DIR remembers, else the built-in reference plant)")
	fromS := fs.String("from", "", "start `time` (default: the first event)")
	toS := fs.String("to", "", "end `time` (default: the last event)")
	speed := fs.Float64("speed", 0, "times real time; 0: as fast as possible")
	httpAddr := fs.String("http", "", "serve the web view of the replay on this `address` (and keep serving the end state until Ctrl-C)")
	token := tokenFlag(fs)
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(commands["replay"], pos); err != nil {
		return err
	}
	st, p, err := openHistory(stdout, *data, *plantFile)
	if err != nil {
		return inUse(err, webWays)
	}
	defer st.Close()
	from, to, err := replaySpan(st, p.Location, *data, *fromS, *toS)
	if err != nil {
		return err
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
			sc := layout.Build(s)
			t := s.Time
			mu.Unlock()
			if err := layout.Day(sc, st, t); err != nil {
				log.Warn("replay: the day's figures", "err", err)
			}
			return sc
		}), log)
		wv, err = startWeb(*httpAddr, *token, nil, src, nil, nil, log, stdout)
		if err != nil {
			return err
		}
		defer wv.close()
	}
	fmt.Fprintln(stdout, zoneNote(p.Location, time.Unix(0, from)))
	t1 := time.Now()
	n, err := replayWithStatus(ctx, st, from, to, *speed, sink, func() string {
		mu.Lock()
		defer mu.Unlock()
		return status(p, s)
	}, stdout)
	el := time.Since(t1)
	if err != nil && ctx.Err() == nil {
		return err
	}
	printReplayed(stdout, p, s, n, from, to, el, seek)
	if wv != nil {
		fmt.Fprintln(stdout, "serving the end state of the replay; Ctrl-C to stop")
		<-ctx.Done()
	}
	return nil
}

// replaySpan is the span of the history in st (in dir) that twin replay
// replays: --from and --to (plant time in loc, or relative to the
// history's end), by default all of it; a span outside the history says
// where the history runs.
func replaySpan(st *store.Store, loc *time.Location, dir, fromS, toS string) (from, to int64, err error) {
	first, last, ok, err := st.Bounds()
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return 0, 0, fmt.Errorf("the history in %s is empty", dir)
	}
	from, to = first, last
	if fromS != "" {
		if from, err = parseWhenFrom(fromS, loc, time.Unix(0, last)); err != nil {
			return 0, 0, fmt.Errorf("--from: %w", err)
		}
	}
	if toS != "" {
		if to, err = parseWhenFrom(toS, loc, time.Unix(0, last)); err != nil {
			return 0, 0, fmt.Errorf("--to: %w", err)
		}
	}
	if from > last || to < first || from > to {
		at := func(ns int64) string { return time.Unix(0, ns).In(loc).Format("2006-01-02T15:04") }
		return 0, 0, fmt.Errorf("nothing to replay from %s to %s: the history in %s runs from %s to %s (plant time, %s); give --from and --to inside it, or neither for all of it",
			at(from), at(to), dir, at(first), at(last), loc)
	}
	return from, to, nil
}

// replayWithStatus replays st from from to to into sink at speed, and
// prints line() every second while it does; it returns once the status
// goroutine has ended too.
func replayWithStatus(ctx context.Context, st *store.Store, from, to int64, speed float64, sink event.Sink, line func() string, stdout io.Writer) (int, error) {
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		every(rctx, time.Second, func() { fmt.Fprintln(stdout, line()) })
	}()
	n, err := st.Replay(ctx, from, to, speed, sink)
	cancel()
	<-done
	return n, err
}

// printReplayed says what a replay of n events from from to to did, in
// el after a seek that took seek, and the state it ended in.
func printReplayed(stdout io.Writer, p *plant.Plant, s *state.State, n int, from, to int64, el, seek time.Duration) {
	fmt.Fprintf(stdout, "replayed %d events from %s to %s in %v (%.0f events/s; the state at the start took %v)\n",
		n, time.Unix(0, from).In(p.Location).Format(time.DateTime), time.Unix(0, to).In(p.Location).Format(time.DateTime),
		el.Round(time.Millisecond), float64(n)/el.Seconds(), seek.Round(time.Microsecond))
	fmt.Fprintln(stdout, status(p, s))
	report(stdout, p, s)
}

func runForecast(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["forecast"], stdout)
	data := fs.String("data", "data/demo", "history `directory`")
	plantFile := fs.String("plant", "", "plant `file` (default: the plant DIR remembers, else the built-in reference plant)")
	atS := fs.String("at", "", "forecast from this `time` (default: the latest in the history)")
	horizon := fs.Duration("horizon", 0, "how far ahead (default: until the open orders are done)")
	reps := fs.Int("replications", 0, "futures to draw (default 60)")
	asJSON := fs.Bool("json", false, "print JSON")
	server := fs.String("server", "", "forecast on the running twin at this `URL` (its records API; $TWIN_API_TOKEN or --token: a planner's or a manager's), instead of reading --data")
	token := secretFlag(fs, "token", "TWIN_API_TOKEN", "API `token` for --server (default $TWIN_API_TOKEN)")
	ca := caFlag(fs)
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(commands["forecast"], pos); err != nil {
		return err
	}
	if *server != "" {
		if *atS != "" {
			return errors.New("--at reads a data directory's history: with --server the forecast is from now")
		}
		return forecastOver(ctx, newAPIClient(*server, *token, caOf(fs, *ca), stdout), *horizon, *reps, *asJSON, stdout)
	}
	var say io.Writer = stdout
	if *asJSON {
		say = nil
	}
	st, p, err := openHistory(say, *data, *plantFile)
	if err != nil {
		return inUse(err, func(s *datadir.Server) []string {
			if s != nil && s.API != "" {
				return []string{"the running twin's own forecast: twin forecast --server " + strings.TrimSuffix(strings.TrimSuffix(s.API, "/"), "/api/v1") + caArg(s)}
			}
			return []string{"the running twin's own forecast: twin forecast --server URL (the address it printed)"}
		})
	}
	defer st.Close()
	_, at, ok, err := st.Bounds()
	if err != nil || !ok {
		return fmt.Errorf("the history in %s is empty", *data)
	}
	if *atS != "" {
		if at, err = parseWhenFrom(*atS, p.Location, time.Unix(0, at)); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	var s *state.State
	if s, err = st.StateAt(at); err != nil {
		return err
	}
	where, err := forecast.Position(p, st, time.Unix(0, at))
	if err != nil {
		return err
	}
	f, err := forecast.Run(ctx, p, where, time.Unix(0, at), forecast.Options{Horizon: *horizon, Replications: *reps})
	if err != nil {
		return err
	}
	if *asJSON {
		return jsonOut(stdout, f)
	}
	fmt.Fprintln(stdout, zoneNote(p.Location, time.Unix(0, at)))
	fmt.Fprintln(stdout, status(p, s))
	printForecast(stdout, p.Location, f)
	return nil
}

// forecastOver asks a running twin for its forecast.
func forecastOver(ctx context.Context, c *apiClient, horizon time.Duration, reps int, asJSON bool, stdout io.Writer) error {
	if c.err != nil {
		return c.err
	}
	f, err := c.Forecast(ctx, horizon, reps)
	if err != nil {
		return c.explain(err)
	}
	if asJSON {
		return jsonOut(stdout, f)
	}
	loc := f.From.Location()
	if l := c.Zone(); l != nil {
		loc = l
	}
	fmt.Fprintln(stdout, zoneNote(loc, f.From))
	printForecast(stdout, loc, f)
	return nil
}
