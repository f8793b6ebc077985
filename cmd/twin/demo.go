package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"twin/connectors/broker"
	"twin/connectors/mqtt"
	"twin/connectors/opcua"
	"twin/connectors/virtual"
	"twin/connectors/virtual/floor"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/datadir"
	"twin/twin/forecast"
	"twin/twin/ingest"
	"twin/twin/mes"
	"twin/twin/metrics"
	"twin/twin/store"
	"twin/twin/window"
)

func init() {
	register(&Command{
		Name:  "demo",
		Usage: "[--plant FILE] [--data DIR] [--speed N] [--for D] [--mqtt ADDR]",
		Short: "a virtual plant over MQTT, and the live twin following it",
		Long: `Demo runs everything on this machine, nothing to install:

  - an MQTT broker inside the process (--mqtt, 127.0.0.1:1883 by default,
    a free port if that is taken);
  - the virtual plant's OPC UA server (--opcua, 127.0.0.1:4840, or a free
    port), its address space the plant's equipment tree, offering
    SecurityPolicy None, Basic256Sha256 and Aes128_Sha256_RsaOaep (Sign and
    SignAndEncrypt), anonymous login only; its certificate is
    --opcua-cert/--opcua-key, or DATA/opcua/server.pem and server.key, made
    on the first start and kept (--fresh keeps them too); the demo prints
    its fingerprint for your client's trust list;
  - the virtual plant: the plant file simulated in real time times --speed
    (60: an hour of plant time a minute), publishing what a real plant's
    gateways would: JSON on the tag map's topics and Sparkplug B;
  - the twin, subscribed to that broker and that server exactly as it
    would be to a real plant's (over --opcua-security, its client
    certificate DATA/opcua/client.pem, trusting the server's certificate
    on first use in DATA/opcua/trusted-servers.txt): every event into the
    live state and the history in --data;
  - the web view, the feed and the records API on --http, over HTTPS
    (the certificate as twin serve's: see twin help serve; --http-only
    for plain HTTP).

It prints what runs where, then a status line every few seconds. With --for
it stops after that long (wall time) and prints the machines, the open
orders and a forecast of the next 5 plant days from the live state;
otherwise it runs until Ctrl-C and does the same. Replay the history
afterwards with "twin replay --data DIR".`,
		Run: runDemo,
	})
}

// demoFlags are twin demo's options, as its flags give them.
type demoFlags struct {
	plantFile, data      string
	speed                float64
	dur, warmup, linger  time.Duration
	mqtt, http, view     string
	opcua, uaCert, uaKey string
	uaSecurity           string
	token                string
	seed                 uint64
	fresh                bool
	startAt              string
	tls                  *tlsFlags
	metrics              func() *metrics.Metrics // --metrics-token's
}

func parseDemoFlags(args []string, stdout io.Writer) (*demoFlags, error) {
	c := commands["demo"]
	fs := newFlags(c, stdout)
	plantFile := fs.String("plant", "", "plant `file` (default: the built-in reference plant, plant/reference/motor.yaml)")
	data := fs.String("data", "data/demo", "history `directory` (created)")
	speed := fs.Float64("speed", 60, "plant seconds per wall second")
	dur := fs.Duration("for", 0, "stop after this wall `duration` (default: run until Ctrl-C)")
	addr := fs.String("mqtt", "127.0.0.1:1883", "embedded broker `address`")
	uaAddr := fs.String("opcua", "127.0.0.1:4840", "virtual plant's OPC UA server `address` (off: none)")
	uaCert := fs.String("opcua-cert", "", "the OPC UA server's certificate `file` (PEM or DER; default: DATA/opcua/server.pem, made on the first start and kept)")
	uaKey := fs.String("opcua-key", "", "the OPC UA server's RSA key `file` (PEM or DER; default: DATA/opcua/server.key, with the certificate)")
	uaSecurity := fs.String("opcua-security", "Basic256Sha256/SignAndEncrypt", "the `policy/mode` the twin follows the OPC UA server with: Basic256Sha256 or Aes128_Sha256_RsaOaep, Sign or SignAndEncrypt; or None")
	httpAddr := fs.String("http", "127.0.0.1:8080", "web view, WebSocket feed and records API `address`, on HTTPS unless --http-only")
	token := tokenFlag(fs)
	newMetrics := metricsTokenFlag(fs)
	tlsOpt := addTLSFlags(fs)
	view := fs.String("view", "", "on a display, open the web page and this desktop viewer `binary` (bin/twin-view) on the demo")
	seed := fs.Uint64("seed", 1, "the virtual plant's seed")
	warmup := fs.Duration("warmup", 7*24*time.Hour, "plant time the virtual plant runs unseen before it starts publishing")
	fresh := fs.Bool("fresh", false, "start anew: remove the history and the records in --data first (a demo's directory only); without it a demo continues the history it finds")
	linger := fs.Duration("linger", 0, "after the plant stops, keep serving the web view and the records API this long (wall `duration`), to look at the end state")
	startAt := fs.String("start", "", "plant `time` the virtual plant publishes from (2026-03-04T09:00 in the plant's zone, RFC 3339, or -2h; default: now): the plant works its shifts, so a demo at night or on a Sunday is quiet")
	pos, err := parseAll(fs, args)
	if err != nil {
		return nil, err
	}
	if err := noArgs(c, pos); err != nil {
		return nil, err
	}
	return &demoFlags{plantFile: *plantFile, data: *data, speed: *speed, dur: *dur, warmup: *warmup, linger: *linger,
		mqtt: *addr, http: *httpAddr, view: *view, opcua: *uaAddr, uaCert: *uaCert, uaKey: *uaKey, uaSecurity: *uaSecurity,
		token: *token, seed: *seed, fresh: *fresh, startAt: *startAt, tls: tlsOpt, metrics: newMetrics}, nil
}

// runDemo is the wiring of twin demo; each step is one of demo's methods.
func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := parseDemoFlags(args, stdout)
	if err != nil {
		return err
	}
	pl, err := loadPlant(nil, "", f.plantFile, true)
	if err != nil {
		return err
	}
	if f.startAt != "" { // before anything starts or is written
		if _, err := parseWhen(f.startAt, pl.Plant.Location); err != nil {
			return fmt.Errorf("--start: %w", err)
		}
	}
	if len(pl.Plant.Tags.MQTT) == 0 {
		return fmt.Errorf("%s has no MQTT tag map: the demo publishes and subscribes through it (plant/FORMAT.md, \"Tags\")", pl.From)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ends, err := startEndpoints(ctx, pl.Plant, f, log, stdout)
	if err != nil {
		return err
	}
	defer ends.close()
	parent := ctx // --linger outlasts --for
	if f.dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.dur)
		defer cancel()
	}
	from, err := demoStart(f, pl.Plant.Location)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &demo{f: f, pl: pl, p: ends.localPlant(pl.Plant), ends: ends, from: from, log: log, mx: f.metrics(), cancel: cancel}
	d.abs, _ = filepath.Abs(f.data)
	defer d.stop()
	if err := d.startTwin(ctx); err != nil {
		return err
	}
	if err := d.startRecords(ctx, stdout); err != nil {
		return err
	}
	if err := d.newPlant(ctx); err != nil {
		return err
	}
	defer d.releaseOrders()()
	d.printIntro(stdout)
	wv, err := d.tw.startViews(d.recs, f.data, f.http, f.token, f.tls, d.mx, stdout)
	if err != nil {
		return err
	}
	defer wv.close()
	defer announce(f.data, "twin demo", wv)()
	if f.view != "" {
		openViews(ctx, f.view, wv, stdout)
	}
	ends.printOPCUA(stdout)
	d.run(ctx, stdout)
	fmt.Fprintf(stdout, "\nsummary, %s\n", zoneNote(d.p.Location, d.plantNow()))
	printRecords(stdout, d.recs, d.fl.Stats(), from.start)
	if f.linger > 0 {
		fmt.Fprintf(stdout, "the plant has stopped; the web view and the records API stay up for %s (Ctrl-C to end)\n", f.linger)
		select {
		case <-time.After(f.linger):
		case <-parent.Done():
		}
	}
	wv.close() // the views read the records: they stop first
	d.stop()
	return d.printEnd(stdout)
}

// endpoints are what the virtual plant serves on this machine, as a real
// plant's gateways and PLCs would: the embedded MQTT broker and, unless
// --opcua off, its OPC UA server, with the security the twin follows it
// with.
type endpoints struct {
	broker       *broker.Broker
	ua           *opcua.Server // nil: none
	policy, mode string        // --opcua-security
	sec          demoSecurity  // the server's and the twin's certificates
}

// startEndpoints starts the broker on --mqtt (a free port if that is
// taken) and the OPC UA server of p on --opcua (likewise; "off": none),
// with its certificate (demoCertificates).
func startEndpoints(ctx context.Context, p *plant.Plant, f *demoFlags, log *slog.Logger, stdout io.Writer) (*endpoints, error) {
	b, err := broker.Start(f.mqtt, log)
	if err != nil {
		if b, err = broker.Start("127.0.0.1:0", log); err != nil {
			return nil, err
		}
	}
	e := &endpoints{broker: b}
	if f.opcua == "off" {
		return e, nil
	}
	if err := e.startOPCUA(ctx, p, f, log, stdout); err != nil {
		b.Close()
		return nil, err
	}
	return e, nil
}

func (e *endpoints) startOPCUA(ctx context.Context, p *plant.Plant, f *demoFlags, log *slog.Logger, stdout io.Writer) error {
	host, port, err := splitPort(f.opcua)
	if err != nil {
		return fmt.Errorf("--opcua: %w", err)
	}
	if e.policy, e.mode, err = securityFlag(f.uaSecurity); err != nil {
		return fmt.Errorf("--opcua-security: %w", err)
	}
	if e.sec, err = demoCertificates(f.data, host, f.uaCert, f.uaKey, stdout); err != nil {
		return err
	}
	// gopcua prints its start-up through the standard logger
	stdlog.SetOutput(io.Discard)
	e.ua, err = opcua.StartFree(ctx, p, opcua.ServerOptions{Host: host, Port: port, Logger: log, Certificate: e.sec.server, Key: e.sec.serverKey})
	return err
}

func (e *endpoints) close() {
	if e.ua != nil {
		e.ua.Close()
	}
	e.broker.Close()
}

// localPlant returns a copy of p whose tag map points at e (localPlant).
func (e *endpoints) localPlant(p *plant.Plant) *plant.Plant {
	if e.ua == nil {
		return localPlant(p, e.broker.URL(), "", "", "")
	}
	return localPlant(p, e.broker.URL(), e.ua.Endpoint(), e.policy, e.mode)
}

// printOPCUA says where the OPC UA server is and how a client trusts it.
func (e *endpoints) printOPCUA(stdout io.Writer) {
	if e.ua == nil {
		return
	}
	fmt.Fprintf(stdout, "  OPC UA server           %s   the equipment tree, ns=2;s=<unit>.State|GoodCount|RejectCount|PowerKW|EnergyKWh|CurrentOrder\n", e.ua.Endpoint())
	fmt.Fprintf(stdout, "    security              %s\n", e.ua.Security())
	fmt.Fprintf(stdout, "    certificate           %s (%s): trust this fingerprint in your OPC UA client\n", e.sec.file, opcua.Fingerprint(e.sec.server))
}

// localPlant returns a copy of p whose tag map points at the demo's own
// endpoints: every MQTT broker becomes the one at mqttURL (anonymous, no
// TLS), every OPC UA server the one at uaEndpoint, followed with policy
// and mode, anonymously and with the demo's own client certificate; none
// when uaEndpoint is "". p itself is not changed.
func localPlant(p *plant.Plant, mqttURL, uaEndpoint, policy, mode string) *plant.Plant {
	q := *p
	q.Tags.MQTT = slices.Clone(p.Tags.MQTT)
	for i := range q.Tags.MQTT {
		q.Tags.MQTT[i].URL = mqttURL
		q.Tags.MQTT[i].User, q.Tags.MQTT[i].Password, q.Tags.MQTT[i].CA = "", "", ""
	}
	if uaEndpoint == "" {
		q.Tags.OPCUA = nil
		return &q
	}
	q.Tags.OPCUA = slices.Clone(p.Tags.OPCUA)
	for i := range q.Tags.OPCUA {
		q.Tags.OPCUA[i].Endpoint = uaEndpoint
		q.Tags.OPCUA[i].Policy, q.Tags.OPCUA[i].Mode, q.Tags.OPCUA[i].User = policy, mode, ""
		q.Tags.OPCUA[i].Cert, q.Tags.OPCUA[i].Key = "", ""
	}
	return &q
}

// demoFrom is where the demo's plant time starts: at --start (default:
// now), or just after the history in --data ends when the demo continues
// it (the same plant goes on where it stopped, with its open orders).
type demoFrom struct {
	start time.Time
	last  int64 // the history's last event (Unix ns), when cont
	cont  bool
}

// demoStart empties --data first with --fresh, and says where plant time
// starts; --start with a history to continue is an error.
func demoStart(f *demoFlags, loc *time.Location) (demoFrom, error) {
	if f.fresh {
		if err := datadir.Wipe(f.data); err != nil {
			return demoFrom{}, inUse(err, webWays)
		}
	}
	start := time.Now().Truncate(time.Second)
	if f.startAt != "" {
		ns, err := parseWhen(f.startAt, loc)
		if err != nil {
			return demoFrom{}, fmt.Errorf("--start: %w", err)
		}
		start = time.Unix(0, ns)
	}
	last, cont, err := historyEnd(f.data)
	if err != nil {
		return demoFrom{}, inUse(datadir.Busy(f.data, err), webWays)
	}
	if cont {
		if f.startAt != "" {
			return demoFrom{}, fmt.Errorf("%s has the history of a demo up to %s: the demo continues it from there (drop --start), or starts anew with --fresh --start %s",
				f.data, time.Unix(0, last).In(loc).Format(time.DateTime), f.startAt)
		}
		start = time.Unix(0, last).Add(time.Second)
	}
	return demoFrom{start: start, last: last, cont: cont}, nil
}

// demo is a running demo around its endpoints: the twin following them,
// its records and the demo's floor keeping them, and the virtual plant.
// It owns their goroutines: stop ends them and waits.
type demo struct {
	f    *demoFlags
	pl   *datadir.Plant
	p    *plant.Plant // pl's plant, its tag map pointed at ends (localPlant)
	ends *endpoints
	from demoFrom
	log  *slog.Logger
	abs  string // --data, absolute
	mx   *metrics.Metrics

	clock   *plantClock
	wg      sync.WaitGroup // the twin's connectors, the floor, the publishers, the plant
	cancel  context.CancelFunc
	stopped bool
	tw      *live
	recs    *mes.DB
	fl      *floor.Floor
	pubs    []*mqtt.Publisher
	vp      *virtual.Plant
	resumed string // how the plant starts, for the intro
}

// startTwin starts the live twin on the history in --data, its one clock
// (readings without a timestamp, the bounds of those with one, and the
// records) the virtual plant's, and returns once its connectors'
// subscriptions are confirmed: the twin listens before the plant speaks
// (births are not retained).
func (d *demo) startTwin(ctx context.Context) error {
	d.clock = newPlantClock(d.from.start, d.f.speed)
	opt := liveOptions{Clock: ingest.Clock{Now: d.clock.Now}, Metrics: d.mx, OPCUACert: d.ends.sec.client, OPCUAKey: d.ends.sec.clientKey}
	tw, err := startLive(ctx, d.p, d.f.data, opt, d.log, &d.wg)
	if err != nil {
		return inUse(datadir.Busy(d.f.data, err), webWays)
	}
	d.tw = tw
	if err := datadir.SavePlant(d.f.data, d.pl.Src); err != nil {
		d.log.Warn("the data directory will not remember its plant", "err", err)
	}
	waitSubscribed(ctx, tw, d.log)
	return nil
}

// plantNow is the plant's time in its zone.
func (d *demo) plantNow() time.Time { return d.clock.Now().In(d.p.Location) }

// startRecords opens the records, stamped with plant time, and starts the
// people who keep them (the floor).
func (d *demo) startRecords(ctx context.Context, stdout io.Writer) error {
	recs, err := openRecords(d.p, d.f.data, d.tw, d.plantNow, d.log, stdout)
	if err != nil {
		return err
	}
	d.recs = recs
	watchRecords(d.mx, recs)
	d.fl = floor.New(recs, d.p, d.log)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.fl.Run(ctx)
	}()
	return nil
}

// newPlant starts the virtual plant's MQTT publishers and makes the
// plant (run starts it): its orders numbered after those in the records,
// and, continuing a history, every unit of its open orders where the
// history says it is.
func (d *demo) newPlant(ctx context.Context) error {
	for i, bc := range d.p.Tags.MQTT {
		pub := mqtt.NewPublisher(bc, fmt.Sprintf("virtual-plant-%d", i), d.log)
		d.pubs = append(d.pubs, pub)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := pub.Run(ctx); err != nil {
				d.log.Error("publisher", "err", err)
			}
		}()
	}
	// a demo that continues its history numbers its orders after the old
	first, err := nextOrder(d.recs)
	if err != nil {
		return err
	}
	vo := virtual.Options{Seed: d.f.seed, Speed: d.f.speed, Start: d.from.start, Sink: event.SinkFunc(d.fan), Warmup: d.f.warmup, FirstOrder: first}
	d.resumed = fmt.Sprintf("after %s of warm-up", d.f.warmup)
	if d.from.cont {
		if err := d.resume(&vo); err != nil {
			return fmt.Errorf("continuing %s: %w", d.f.data, err)
		}
	}
	if d.vp, err = virtual.New(d.p, vo); err != nil {
		return err
	}
	return nil
}

// resume sets vo to go on where the history ends: every unit of the open
// orders where the history says it is, the machines as they were; the
// floor takes up those orders.
func (d *demo) resume(vo *virtual.Options) error {
	at := time.Unix(0, d.from.last)
	where, err := forecast.Position(d.p, d.tw.st, at)
	if err != nil {
		return err
	}
	vo.Resume, vo.Warmup = where, 0
	units, since := 0, at
	var ids []string
	for _, o := range where.Orders {
		units += len(o.Jobs)
		ids = append(ids, o.ID)
		since = minTime(since, o.Release.Add(-24*time.Hour))
	}
	if err := d.fl.Resume(d.tw.st, ids, since); err != nil {
		return err
	}
	d.resumed = fmt.Sprintf("continuing its history: %d open orders, %d units on their way", len(where.Orders), units)
	return nil
}

// fan hands each of the virtual plant's events to whoever would see it
// in a real plant: the floor (the people), the twin directly for what the
// MES side reports, and the gateways (the publishers and the OPC UA
// server) for what the machines report.
func (d *demo) fan(e event.Event) {
	d.fl.See(e)
	switch e.Kind {
	case event.Order:
		// the orders the plant receives are the ERP's: the floor enters
		// them in the records, and the records tell the twin; the plant
		// reports the units it finished (its last station's count)
		if e.Name == "progress" {
			d.tw.in.Emit(e)
		}
		return
	case event.Moved, event.OpFinished:
		// part movements come from the MES side (operation card
		// scans), not from the machines' gateways: the virtual plant
		// hands them to the twin directly
		d.tw.in.Emit(e)
		return
	case event.OpStarted:
		// a unit started at a station: the MES's (the card scan), and
		// the machine's current order, which its gateway publishes
		d.tw.in.Emit(e)
	}
	for _, p := range d.pubs {
		p.Emit(e)
	}
	if d.ends.ua != nil {
		d.ends.ua.Emit(e)
	}
}

// releaseOrders sends the orders released in the records that the plant
// did not bring (a planner's, through the API) to the plant too: it works
// them. It returns the end of the subscription.
func (d *demo) releaseOrders() (unsubscribe func()) {
	pend := map[string]*plant.Order{} // the subscription runs serialised, on its own goroutine, in the order of the events
	return d.tw.in.Subscribe(func(e event.Event) {
		if e.Kind != event.Order {
			return
		}
		switch e.Name {
		case "released":
			var pr *plant.Product
			for _, x := range d.p.Products {
				if x.ID == e.Asset {
					pr = x
				}
			}
			pend[e.Ref] = &plant.Order{ID: e.Ref, Product: pr, Quantity: int(e.Value), Release: time.Unix(0, e.Time)}
		case "priority":
			if o := pend[e.Ref]; o != nil {
				o.Priority = int(e.Value)
			}
		case "due":
			if o := pend[e.Ref]; o != nil {
				o.Due = time.Unix(0, int64(e.Value*1e9))
				d.vp.Release(*o)
				delete(pend, e.Ref)
			}
		}
	})
}

// offShiftNote says, when the plant's calendar does not work at start (a
// night, a Sunday), when it starts work and how long that is at the
// demo's speed, and how to begin there instead (a demo that continues its
// history starts anew for that: --fresh); "" when it works.
func offShiftNote(p *plant.Plant, start time.Time, speed float64, cont bool) string {
	working, _, next := p.Calendar.State(start.In(p.Location))
	if working || next.IsZero() || speed <= 0 {
		return ""
	}
	wait := time.Duration(float64(next.Sub(start)) / speed).Round(time.Second)
	how := "--start " + next.In(p.Location).Format("2006-01-02T15:04")
	if cont {
		how = "--fresh " + how + " (a new demo: --fresh empties --data)"
	}
	return fmt.Sprintf("the plant is off now (its calendar): its next shift starts %s, in %s at ×%g; to begin there: %s",
		next.In(p.Location).Format("Mon 2006-01-02 15:04"), wait, speed, how)
}

// printIntro says what runs where.
func (d *demo) printIntro(stdout io.Writer) {
	p := d.p
	fmt.Fprintf(stdout, "twin demo: plant %s (%d machines), ×%g; %s\n", p.ID, len(p.Units), d.f.speed, d.pl.From)
	fmt.Fprintf(stdout, "  MQTT broker (embedded)  %s   topics %d, Sparkplug group %q\n", d.ends.broker.URL(), len(p.Tags.MQTT[0].Topics), sparkGroup(p))
	fmt.Fprintf(stdout, "  plant clock             %s\n", zoneNote(p.Location, d.from.start))
	fmt.Fprintf(stdout, "  virtual plant           publishing to it from %s, %s\n", d.from.start.In(p.Location).Format(time.DateTime), d.resumed)
	if note := offShiftNote(p, d.from.start, d.f.speed, d.from.cont); note != "" {
		fmt.Fprintf(stdout, "                          %s\n", note)
	}
	fmt.Fprintf(stdout, "  twin                    subscribed to it; history in %s\n", d.abs)
	fmt.Fprintf(stdout, "  orders                  entered in the records as the plant receives them; the records tell the twin\n")
	fmt.Fprintf(stdout, "  part movements          handed from the virtual plant to the twin (as MES scans would)\n")
	fmt.Fprintf(stdout, "  records                %s/mes: each order entered and released, its cards scanned, units tested, maintenance signed off (by the demo's floor)\n", d.abs)
}

// run runs the virtual plant until ctx ends, with a status line every
// 5 s, and returns once the plant, the floor and the connectors have
// stopped and the ingest has written what they said: the history is
// final, and the plant's clock stops too.
func (d *demo) run(ctx context.Context, stdout io.Writer) {
	d.clock.run() // before the plant's Run: the clock is never behind the plant's events
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.vp.Run(ctx)
	}()
	every(ctx, 5*time.Second, func() {
		s := d.tw.in.Stats()
		fmt.Fprintf(stdout, "%s | events %d, stored %d%s\n", status(d.p, d.tw.in.Snapshot()), s.Events, s.Stored, quarantined(s))
	})
	d.wg.Wait()
	flushHistory(d.tw, d.log)
	d.clock.stop(d.vp.Now())
}

// stop ends the demo's goroutines, waits for them, and closes the records
// and the twin; it does nothing the second time.
func (d *demo) stop() {
	if d.stopped {
		return
	}
	d.stopped = true
	d.cancel()
	d.wg.Wait()
	if d.recs != nil {
		d.recs.Close()
	}
	if d.tw != nil {
		d.tw.close()
	}
}

// printEnd prints what the twin knows at the end, read back from its
// history, and what it expects: a forecast of the open orders.
func (d *demo) printEnd(stdout io.Writer) error {
	p := d.p
	st, err := store.Open(d.f.data, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	_, last, ok, err := st.Bounds()
	if err != nil || !ok {
		return fmt.Errorf("no history recorded: %v", err)
	}
	now, err := st.StateAt(last)
	if err != nil {
		return err
	}
	var malformed, msgs, values uint64
	for _, c := range d.tw.mqtts {
		malformed += c.Stats().Malformed
		msgs += c.Stats().Messages
	}
	for _, c := range d.tw.opcuas {
		malformed += c.Stats().Malformed
		values += c.Stats().Values
	}
	fmt.Fprintf(stdout, "\nreceived %d MQTT messages and %d OPC UA values\n", msgs, values)
	fmt.Fprintf(stdout, "history: %d events in %s (malformed messages: %d)\n", st.Seq(), d.abs, malformed)
	fmt.Fprintln(stdout, status(p, now))
	report(stdout, p, now)
	where, err := forecast.Position(p, st, time.Unix(0, last))
	if err != nil {
		return err
	}
	fc, err := forecast.Run(context.Background(), p, where, time.Unix(0, last), forecast.Options{})
	if err != nil {
		return err
	}
	printForecast(stdout, p.Location, fc)
	return nil
}

// plantClock is the virtual plant's clock, read without its lock (the
// plant emits into the ingest while holding that lock, and the ingest
// reads the clock): plant time starts at start and runs speed times the
// wall clock from run on, as the plant's own pacing does.
type plantClock struct {
	start   time.Time
	speed   float64
	ref     time.Time    // a monotonic reference
	begun   atomic.Int64 // run's time after ref (ns); -1 before run
	stopped atomic.Int64 // plant time at stop (Unix ns); 0 while running
}

func newPlantClock(start time.Time, speed float64) *plantClock {
	c := &plantClock{start: start, speed: speed, ref: time.Now()}
	c.begun.Store(-1)
	return c
}

// run starts the clock: call it just before the virtual plant's Run, so
// that the clock is never behind the plant.
func (c *plantClock) run() { c.begun.Store(int64(time.Since(c.ref))) }

// stop holds the clock at t (the time the plant reached).
func (c *plantClock) stop(t time.Time) { c.stopped.Store(t.UnixNano()) }

// Now returns the plant time.
func (c *plantClock) Now() time.Time {
	if t := c.stopped.Load(); t != 0 {
		return time.Unix(0, t)
	}
	b := c.begun.Load()
	if b < 0 {
		return c.start
	}
	return c.start.Add(time.Duration(float64(time.Since(c.ref)-time.Duration(b)) * c.speed))
}

// flushHistory waits (10 s at most, then a warning) until the twin's
// history holds every event ingested: the ingest writes to the store
// behind the sources, and the summary and the records API read the
// history; without it the summary could miss the last events that a
// later read of the same day counts.
func flushHistory(tw *live, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tw.in.Flush(ctx); err != nil {
		log.Warn("the summary may miss the last events: the history is behind", "err", err)
	}
}

// historyEnd returns the time of the last event in the history in dir,
// if there is one.
func historyEnd(dir string) (int64, bool, error) {
	if _, err := os.Stat(dir); err != nil {
		return 0, false, nil // a new data directory
	}
	st, err := store.Open(dir, store.Options{SnapshotEvery: -1})
	if err != nil {
		return 0, false, err
	}
	defer st.Close()
	_, last, ok, err := st.Bounds()
	return last, ok, err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func sparkGroup(p *plant.Plant) string {
	for _, b := range p.Tags.MQTT {
		if b.Sparkplug != nil {
			return b.Sparkplug.Group
		}
	}
	return ""
}

func printForecast(w io.Writer, loc *time.Location, f *forecast.Result) {
	fmt.Fprintf(w, "\nforecast from %s, %d replications until the open orders are done (%s), with the new orders the plant's demand brings:\n",
		f.From.In(loc).Format("Mon 2006-01-02 15:04"), f.Replications, f.Horizon)
	fmt.Fprintf(w, "  bottleneck %s (%.0f%% of runs); %.0f ± %.0f %s; %.0f ± %.0f kWh, %.0f %s, %.0f kg CO2\n",
		f.Bottleneck, 100*f.BottleneckShare, f.Produced.Mean, f.Produced.CI, f.Units, f.EnergyKWh.Mean, f.EnergyKWh.CI, f.EnergyCost.Mean, f.Currency, f.CO2Kg.Mean)
	if len(f.Down) > 0 {
		fmt.Fprintf(w, "  down now: %v\n", f.Down)
	}
	fmt.Fprintf(w, "  %-10s %-12s %5s  %-11s  %-11s  %-11s %6s %7s\n", "order", "product", "left", "due", "expected", "p90", "done", "on time")
	for i, o := range f.Orders {
		if i == 12 {
			fmt.Fprintf(w, "  … %d more\n", len(f.Orders)-12)
			break
		}
		t := func(x time.Time) string {
			if x.IsZero() {
				return "-"
			}
			return x.In(loc).Format("01-02 15:04")
		}
		fmt.Fprintf(w, "  %-10s %-12s %5d  %-11s  %-11s  %-11s %5.0f%% %6.0f%%\n", o.ID, o.Product, o.Remaining, t(o.Due), t(o.Completion), t(o.P90), 100*o.Done, 100*o.OnTime)
	}
}

// jsonOut writes v as indented JSON.
func jsonOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// splitPort splits host:port (the port a number, 0 for a free one).
func splitPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("want host:port, got %q", addr)
	}
	return host, n, nil
}

// demoSecurity is what the demo's OPC UA server and the twin following
// it present: their certificates (DER) and keys.
type demoSecurity struct {
	file                 string // the server's certificate file
	server, client       []byte
	serverKey, clientKey *rsa.PrivateKey
}

// demoCertificates reads the OPC UA server's certificate and key from
// certFile and keyFile, or from DATA/opcua/server.pem and server.key,
// made on the first start (for host, this computer's name and, when host
// is unspecified, its addresses) and kept; and the twin's client
// certificate, DATA/opcua/client.pem and client.key, the same way.
func demoCertificates(data, host, certFile, keyFile string, stdout io.Writer) (demoSecurity, error) {
	dir := filepath.Join(data, datadir.OPCUA)
	var sec demoSecurity
	var err error
	switch {
	case certFile != "" && keyFile != "":
		if sec.server, sec.serverKey, err = opcua.LoadCertificate(certFile, keyFile); err != nil {
			return sec, fmt.Errorf("--opcua-cert, --opcua-key: %w", err)
		}
		sec.file = certFile
	case certFile != "" || keyFile != "":
		return sec, fmt.Errorf("--opcua-cert and --opcua-key go together: give both, or neither for the pair in %s", dir)
	default:
		sec.file = filepath.Join(dir, "server.pem")
		der, key, made, err := opcua.LoadOrCreateCertificate(sec.file, filepath.Join(dir, "server.key"), "urn:twin:virtual-plant", certHosts(host)...)
		if err != nil {
			return sec, fmt.Errorf("the OPC UA server's certificate: %w (give --opcua-cert and --opcua-key, or remove both files to make a new pair)", err)
		}
		if made {
			fmt.Fprintf(stdout, "made the OPC UA server's certificate %s (kept for the next start)\n", sec.file)
		}
		sec.server, sec.serverKey = der, key
	}
	sec.client, sec.clientKey, _, err = opcua.LoadOrCreateCertificate(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"), "urn:twin:live")
	if err != nil {
		return sec, fmt.Errorf("the twin's OPC UA client certificate: %w (remove both files to make a new pair)", err)
	}
	return sec, nil
}

// certHosts are the names a server listening on host is reached by, for
// its certificate: host, this computer's name and, for an unspecified
// host (0.0.0.0), the computer's addresses.
func certHosts(host string) []string {
	hosts := []string{host}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	return hosts
}

// securityFlag reads "POLICY/MODE" or "None".
func securityFlag(s string) (policy, mode string, err error) {
	if s == "None" || s == "None/None" {
		return "None", "None", nil
	}
	policy, mode, _ = strings.Cut(s, "/")
	for _, sp := range opcua.SecurePolicies {
		if sp.Policy == policy && sp.Mode == mode {
			return policy, mode, nil
		}
	}
	var want []string
	for _, sp := range opcua.SecurePolicies {
		want = append(want, sp.Policy+"/"+sp.Mode)
	}
	return "", "", fmt.Errorf("want None or one of %s, got %q", strings.Join(want, ", "), s)
}

// waitSubscribed returns once each of the twin's connectors has its
// subscriptions confirmed (the MQTT broker's SUBACK, the OPC UA server's
// monitored items), or after 10 s with a warning: the demo goes on, a
// connector that is late misses what the plant says first.
func waitSubscribed(ctx context.Context, tw *live, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, c := range tw.mqtts {
		if err := c.WaitSubscribed(ctx); err != nil {
			log.Warn("the twin starts without its MQTT subscriptions confirmed", "err", err)
		}
	}
	for _, c := range tw.opcuas {
		if err := c.WaitSubscribed(ctx); err != nil {
			log.Warn("the twin starts without its OPC UA subscription", "err", err)
		}
	}
}

// nextOrder returns the number after the highest generated order (Gnnnnn)
// in the records.
func nextOrder(db *mes.DB) (int, error) {
	n, cursor := 0, ""
	for {
		p, err := db.Orders(mes.OrderFilter{}, cursor, 1000)
		if err != nil {
			return 0, err
		}
		for _, o := range p.Items {
			if len(o.ID) == 6 && o.ID[0] == 'G' {
				if k, err := strconv.Atoi(o.ID[1:]); err == nil {
					n = max(n, k)
				}
			}
		}
		if p.Next == "" {
			return n + 1, nil
		}
		cursor = p.Next
	}
}

// printRecords summarises what the demo's floor wrote into the records,
// with the KPIs of every plant day the demo ran in (whole days from
// midnight, as GET /api/v1/kpis?by=day and the web page's tiles count
// them; time the twin did not see is unobserved, not lost).
func printRecords(w io.Writer, db *mes.DB, st floor.Stats, from time.Time) {
	fmt.Fprintf(w, "\nrecords: %d orders entered and released, %d card scans, %d unit tests (%d nonconformances), %d maintenance sign-offs, %d orders closed short, %d refused\n",
		st.Orders, st.Scans, st.Inspections, st.NCs, st.Maintenance, st.Closed, st.Errors)
	if !from.Before(db.Now()) {
		return
	}
	ks, err := db.KPIs(mes.KPIQuery{By: "day", From: window.Day(from, db.Plant().Location), To: db.Now()})
	if err != nil {
		return
	}
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100**p)
	}
	for _, k := range ks {
		kwh := "-"
		if k.KWhPerUnit != nil {
			kwh = fmt.Sprintf("%.2f", *k.KWhPerUnit)
		}
		fmt.Fprintf(w, "  %s  OEE %s (A %s, E %s, Q %s), FPY %s, %.0f units, %d orders done (on time %s), %s kWh/unit, %.0f h unobserved\n",
			k.Key, f(k.OEE), f(k.Availability), f(k.Effectiveness), f(k.QualityRate), f(k.FPY), k.Units, k.Orders, f(k.OnTime), kwh, k.Unobserved)
	}
	if al, err := db.Maintenance(true); err == nil && len(al) > 0 {
		fmt.Fprintf(w, "  maintenance due or overdue: %d plans\n", len(al))
	}
}
