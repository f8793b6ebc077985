package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"twin/connectors/mqtt"
	"twin/connectors/opcua"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/backup"
	"twin/twin/datadir"
	"twin/twin/disk"
	"twin/twin/ingest"
	"twin/twin/metrics"
	"twin/twin/state"
	"twin/twin/store"
)

// The live twin: what twin serve runs, and twin demo around a virtual
// plant.

type live struct {
	p      *plant.Plant
	st     *store.Store
	in     *ingest.Ingest
	mqtts  []*mqtt.Client
	opcuas []*opcua.Client
	disk   *disk.Guard // the data directory's free space
	// backups are the scheduled backups' figures (nil: none scheduled);
	// set before the views start.
	backups func() backup.ScheduleStats
	log     *slog.Logger
}

// liveOptions configure the live twin.
type liveOptions struct {
	// Retention: drop history older than this behind the receive clock
	// (0: keep all).
	Retention time.Duration
	// Clock is the one receive clock of the twin, and the bounds of the
	// times readings claim (ingest.Clock; zero: the wall clock, the
	// default bounds). The ingest, the connectors (for readings without
	// a timestamp) and the store's retention all read it.
	Clock ingest.Clock
	// OPCUACert and OPCUAKey are the OPC UA clients' certificate for
	// secure endpoints when the tag map names none (the demo's own).
	OPCUACert []byte
	OPCUAKey  *rsa.PrivateKey
	// DiskReserve: stop writing while the data directory's disk has less
	// free (bytes; 0: disk.DefaultReserve).
	DiskReserve uint64
	// Metrics, if set, get the live twin's figures (ingest, history,
	// connectors) and its latency histograms.
	Metrics *metrics.Metrics
}

// liveFlags adds twin serve's flags of the live twin to fs; call the
// result after fs.Parse.
func liveFlags(fs *flag.FlagSet) func() liveOptions {
	retention := fs.Duration("retention", 0, "drop history older than this, measured from this computer's clock (default: keep all)")
	skew := fs.Duration("max-skew", ingest.DefaultMaxSkew, "quarantine readings stamped more than this ahead of this computer's clock (0: no limit)")
	age := fs.Duration("max-age", ingest.DefaultMaxAge, "quarantine readings stamped more than this before this computer's clock (0: no limit)")
	reserve := fs.Uint64("disk-reserve", disk.DefaultReserve>>20, "MiB kept free on the data directory's disk: below it the twin stops writing (readings wait at their broker, scans get 503) and resumes by itself when space is freed")
	return func() liveOptions {
		noLimit := func(d time.Duration) time.Duration {
			if d <= 0 {
				return -1
			}
			return d
		}
		return liveOptions{Retention: *retention, Clock: ingest.Clock{MaxSkew: noLimit(*skew), MaxAge: noLimit(*age)}, DiskReserve: *reserve << 20}
	}
}

// startLive opens the history in dir and connects to the MQTT brokers of
// the plant's tag map.
func startLive(ctx context.Context, p *plant.Plant, dir string, opt liveOptions, log *slog.Logger, wg *sync.WaitGroup) (*live, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	clock := opt.Clock.WithDefaults()
	guard, err := disk.New(dir, disk.Options{Reserve: opt.DiskReserve, Logger: log})
	if err != nil {
		return nil, err
	}
	so, inOpt := store.Options{Logger: log, Retention: opt.Retention, Now: clock.Now, Room: guard.Check}, ingest.Options{Logger: log, Clock: clock, Space: guard}
	if m := opt.Metrics; m != nil {
		so.AppendLatency, so.CommitLatency, inOpt.FoldLatency = m.Append, m.Commit, m.Fold
	}
	st, err := store.Open(dir, so)
	if err != nil {
		guard.Close()
		return nil, err
	}
	var initial *state.State
	if _, last, ok, err := st.Bounds(); err == nil && ok {
		at := last
		if lim := clock.Now().Add(clock.MaxSkew); clock.MaxSkew >= 0 && last > lim.UnixNano() {
			// a history written before readings were quarantined may
			// hold one stamped years ahead: the live state starts from
			// the receive clock, not from there
			log.Warn("the history holds events stamped ahead of the receive clock; the live state leaves them out (they stay in the history)",
				"last", time.Unix(0, last).In(p.Location).Format(time.RFC3339), "clock", clock.Now().In(p.Location).Format(time.RFC3339), "max_skew", clock.MaxSkew)
			at = lim.UnixNano()
		}
		if initial, err = st.StateAt(at); err != nil {
			st.Close()
			guard.Close()
			return nil, err
		}
		log.Info("history found", "events", st.Seq(), "until", time.Unix(0, last).In(p.Location).Format(time.DateTime))
	}
	l := &live{p: p, st: st, in: ingest.New(st, initial, inOpt), disk: guard, log: log}
	if initial != nil {
		// from the last thing the history holds until the connectors report
		// again, the twin did not watch: its machines are unobserved then,
		// not in the state they were last seen in
		from := initial.Time + 1
		if clock.MaxAge > 0 { // a twin down for longer: from as far back as readings are taken
			from = max(from, clock.Now().Add(-clock.MaxAge+time.Minute).UnixNano())
		}
		l.in.Unobserved(from)
	}
	for _, b := range p.Tags.MQTT {
		c, err := mqtt.New(b, l.in, mqtt.Options{Logger: log, Clock: clock, SessionDir: filepath.Join(dir, datadir.MQTT)})
		if err != nil {
			l.close()
			return nil, err
		}
		l.mqtts = append(l.mqtts, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx); err != nil {
				log.Error("mqtt", "err", err)
			}
		}()
	}
	for _, srv := range p.Tags.OPCUA {
		// the servers' certificates are trusted on first use and pinned
		// in DIR/opcua/trusted-servers.txt (connectors/opcua)
		c := opcua.NewClient(srv, l.in, opcua.ClientOptions{Logger: log, Clock: clock,
			Certificate: opt.OPCUACert, Key: opt.OPCUAKey, TrustFile: filepath.Join(dir, datadir.OPCUA, opcua.TrustFileName)})
		l.opcuas = append(l.opcuas, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Run(ctx)
		}()
	}
	if opt.Metrics != nil {
		l.watch(opt.Metrics)
	}
	return l, nil
}

// alarms are the twin's own alarms, for the views' scenes.
func (l *live) alarms() []string {
	var out []string
	if l.backups != nil {
		if s := l.backups(); s.Overdue {
			last := "none has yet"
			if !s.LastSuccess.IsZero() {
				last = "the last succeeded " + s.LastSuccess.In(l.p.Location).Format("2006-01-02 15:04 MST")
			}
			out = append(out, fmt.Sprintf("scheduled backups are overdue (%s; %s)", last, s.LastError))
		}
	}
	if s := l.disk.Stats(); s.Full {
		out = append(out, fmt.Sprintf("the data directory's disk is full (since %s, %d MiB free, %d MiB kept in reserve): nothing is recorded until space is freed",
			s.Since.In(l.p.Location).Format("2006-01-02 15:04 MST"), s.FreeBytes>>20, s.Reserve>>20))
	}
	return out
}

func (l *live) close() {
	l.in.Close()
	l.st.Close()
	l.disk.Close()
}

// quarantined says how many readings ingest quarantined, by reason, for
// a status line ("" when none).
func quarantined(s ingest.Stats) string {
	if len(s.Quarantined) == 0 {
		return ""
	}
	var parts []string
	for _, r := range ingest.Reasons() {
		if n := s.Quarantined[r.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	return ", quarantined " + strings.Join(parts, ", ")
}

// status is one line about the live state.
func status(p *plant.Plant, s *state.State) string {
	byState := map[event.MachineState]int{}
	for _, u := range p.Units {
		st := event.Unknown
		if a := s.Asset(u.Path()); a != nil {
			st = a.State
		}
		byState[st]++
	}
	var parts []string
	for _, st := range event.States() {
		if n := byState[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	open, done := 0, 0
	for _, o := range s.Orders() {
		if o.Status == "completed" {
			done++
		} else {
			open++
		}
	}
	var kw float64
	for _, a := range s.Assets() {
		kw += a.Measures["power_kw"]
	}
	clock := "no data yet"
	if s.Time != 0 {
		clock = time.Unix(0, s.Time).In(p.Location).Format("Mon 2006-01-02 15:04:05")
	}
	return fmt.Sprintf("%s | machines: %s | %.0f kW | orders: %d open, %d done", clock, strings.Join(parts, ", "), kw, open, done)
}

// report prints the state of every machine.
func report(w io.Writer, p *plant.Plant, s *state.State) {
	fmt.Fprintf(w, "%-12s %-12s %8s %8s %9s %10s  %s\n", "unit", "state", "good", "reject", "kW", "kWh", "job")
	for _, u := range p.Units {
		a := s.Asset(u.Path())
		if a == nil {
			fmt.Fprintf(w, "%-12s %-12s\n", u.ID(), "no data")
			continue
		}
		fmt.Fprintf(w, "%-12s %-12s %8.0f %8.0f %9.1f %10.1f  %s\n", u.ID(), a.State, a.Counters["good"], a.Counters["reject"], a.Measures["power_kw"], a.Measures["energy_kwh"], a.Job)
	}
	var open []*state.Order
	for _, o := range s.Orders() {
		if o.Status != "completed" {
			open = append(open, o)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].Due < open[j].Due })
	fmt.Fprintf(w, "%d open orders", len(open))
	if len(open) > 0 {
		fmt.Fprint(w, " (earliest due first):")
	}
	fmt.Fprintln(w)
	for i, o := range open {
		if i == 8 {
			fmt.Fprintf(w, "  … %d more\n", len(open)-8)
			break
		}
		due := "?"
		if o.Due != 0 {
			due = time.Unix(0, o.Due).In(p.Location).Format("01-02 15:04")
		}
		fmt.Fprintf(w, "  %-10s %-12s %3.0f/%-3.0f due %s\n", o.ID, o.Product, o.Done, o.Quantity, due)
	}
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// parseWhen reads a time for --from/--to/--at: RFC 3339, plant time in
// the plant's zone without an offset (plant.ParseTime, as the plant file
// and the records API read it), or a duration before now ("-2h").
func parseWhen(s string, loc *time.Location) (int64, error) {
	return parseWhenFrom(s, loc, time.Now())
}

// parseWhenFrom is parseWhen with "-2h" before base: the commands that
// read a history (replay, forecast) count back from its end, which is the
// plant's now (a demo's plant clock need not be the wall clock).
func parseWhenFrom(s string, loc *time.Location, base time.Time) (int64, error) {
	if s == "" {
		return 0, errors.New("empty time")
	}
	if strings.HasPrefix(s, "-") {
		d, err := plant.ParseDuration(s[1:])
		if err != nil {
			return 0, err
		}
		return base.Add(-d).UnixNano(), nil
	}
	t, err := plant.ParseTime(s, loc)
	if err != nil {
		return 0, fmt.Errorf("want a time like 2026-03-02T08:00 (plant time, %s), RFC 3339, or -2h; got %q", loc, s)
	}
	return t.UnixNano(), nil
}
