// Command twin-view is the desktop plant view (Ebitengine): the live twin
// over its WebSocket feed, a replay of a twin's history, or a scenario
// file run on the spot with two variants side by side.
//
//	twin-view --connect 'https://127.0.0.1:8080/?token=…' --ca data/demo/tls/ca.pem   follow a running twin (twin demo / serve / play print the address)
//	twin-view --data data/demo                              replay the history in data/demo
//	twin-view --scenario scenarios/third-winder-vs-third-shift.yaml --variants baseline,third-winder
//
// It needs cgo and X11 (Debian: see the Makefile's VIEW_PKGS); cmd/twin
// does not, and stays a static binary.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // the zone database, for hosts without /usr/share/zoneinfo

	"github.com/hajimehoshi/ebiten/v2"

	_ "twin/cmd/twin-view/internal/display" // before Ebitengine: no display, no panic
	"twin/plant/event"
	"twin/scenarios"
	"twin/twin/datadir"
	"twin/twin/state"
	"twin/twin/store"
	"twin/twin/tlsconf"
	"twin/viz/desk"
	"twin/viz/scene"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "twin-view:", err)
		os.Exit(1)
	}
}

// usageHead is the usage before the flags: twin-view -h prints it and
// flag.PrintDefaults, and internal/display keeps a copy of the whole (for
// -h without a display), checked by TestUsage.
const usageHead = `usage: twin-view --connect URL [--ca FILE] | --data DIR | --scenario FILE [--variants a,b] [flags]

The desktop plant view (a window: Ebitengine on X11):
  --connect URL    follow a running twin (twin demo, serve and play print the address)
  --data DIR       replay the history of a stopped twin (the plant DIR remembers, else --plant)
  --scenario FILE  run two variants of a scenario on the spot, side by side
Drag to pan, wheel to zoom, click a machine, space to play, F to follow, 0 to fit.

flags:
`

// flags are twin-view's flags.
type flags struct {
	connect, ca, data, plantFile, scen, variants, synthetic, shot, cpuprofile, lang *string
	rep, width, height                                                              *int
	speed                                                                           *float64
	runFor                                                                          *time.Duration
}

func defineFlags(fs *flag.FlagSet) *flags {
	return &flags{
		connect:    fs.String("connect", "", "follow a running twin: the web view `address` it prints (https://host:port/?token=…)"),
		ca:         fs.String("ca", "", "with --connect https://…: trust the twin's certificate through this CA `file` (default $TWIN_CA; the twin's own: DATA/tls/ca.pem)"),
		data:       fs.String("data", "", "replay the history in this `directory` (a stopped twin's --data)"),
		plantFile:  fs.String("plant", "", "the plant `file` of --data (default: the plant the directory remembers, else the built-in reference plant)"),
		scen:       fs.String("scenario", "", "run this scenario `file` and play it"),
		variants:   fs.String("variants", "", "the variants to compare, `a,b` (default: the baseline and the first other)"),
		rep:        fs.Int("replication", 1, "the replication of --scenario to play"),
		speed:      fs.Float64("speed", 3600, "playback speed, times real time"),
		synthetic:  fs.String("synthetic", "", "a made-up plant of `stations,parts` (the frame-rate benchmark)"),
		runFor:     fs.Duration("for", 0, "quit after this `duration`, printing the frame rate"),
		shot:       fs.String("screenshot", "", "save the last frame to this PNG `file` (with --for)"),
		width:      fs.Int("width", 1280, "window width"),
		height:     fs.Int("height", 800, "window height"),
		cpuprofile: fs.String("cpuprofile", "", "write a CPU profile to this `file`"),
		lang:       fs.String("lang", "", "the viewer's `language`: zh-CN or en (default: the plant file's locale, else $LANG's)"),
	}
}

// usage is twin-view -h.
func usage(fs *flag.FlagSet) func() {
	return func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
}

func run() error {
	f := defineFlags(flag.CommandLine)
	flag.Usage = usage(flag.CommandLine)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: twin-view takes flags only (twin-view -h)", flag.Arg(0))
	}
	if *f.cpuprofile != "" {
		pf, err := os.Create(*f.cpuprofile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch *f.lang {
	case "", "zh-CN", "en":
	default:
		return fmt.Errorf("--lang %q: want zh-CN or en (or nothing: the plant file's locale)", *f.lang)
	}
	app := &desk.App{Speed: *f.speed, Locale: *f.lang}
	title, closeSource, err := show(ctx, f, app)
	if err != nil {
		return err
	}
	defer closeSource()
	defer func() { // before the store they may read closes
		for _, v := range app.Views {
			v.Close()
		}
	}()
	m := &meter{runFor: *f.runFor, shot: *f.shot}
	if m.runFor > 0 {
		app.OnDraw = m.draw(ctx)
	}
	ebiten.SetWindowSize(*f.width, *f.height)
	ebiten.SetWindowTitle(title)
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetScreenClearedEveryFrame(false) // every frame fills the whole screen itself
	defer context.AfterFunc(ctx, app.Quit)()
	if err := ebiten.RunGame(app); err != nil {
		return err
	}
	m.report(app)
	return m.save()
}

// show sets app's views to what the flags ask for: a running twin
// (--connect), a history (--data), a scenario played (--scenario) or a
// synthetic plant (--synthetic). It returns the window's title and what
// closes the views' source (the history).
func show(ctx context.Context, f *flags, app *desk.App) (title string, closeSource func(), err error) {
	title, closeSource = "twin-view", func() {}
	switch {
	case *f.connect != "":
		ws, err := feedURL(*f.connect)
		if err != nil {
			return "", nil, err
		}
		cfg, err := trust(ctx, ws, *f.ca)
		if err != nil {
			return "", nil, err
		}
		app.Views = []desk.View{desk.NewLiveViewTLS(ctx, ws, cfg, "live twin")}
		title += " — " + *f.connect
	case *f.data != "":
		data := *f.data
		st, err := datadir.OpenHistory(data, store.Options{SnapshotEvery: -1})
		if err != nil {
			return "", nil, datadir.Advise(err, func(s *datadir.Server) []string {
				if s == nil || s.Web == "" {
					return []string{"twin-view --connect 'https://…/?token=…' with the address that twin printed (\"web view …\"): the live twin, its timeline scrubs back into the history"}
				}
				return []string{"twin-view --connect '" + s.Web + "'" + caArg(s.CA) + ": the live twin, its timeline scrubs back into the history",
					"its web page, " + s.Web}
			})
		}
		p, err := datadir.LoadPlant(data, *f.plantFile, true)
		if err != nil {
			st.Close()
			return "", nil, err
		}
		fmt.Printf("twin-view: the history in %s; plant %s: %s\n", data, p.ID, p.From)
		app.Views = []desk.View{desk.StoreView("history "+data, st, scene.NewLayout(p.Plant), slog.Default())}
		title += " — replay " + data
		closeSource = func() { st.Close() }
	case *f.scen != "":
		views, metrics, start, err := playScenario(ctx, *f.scen, *f.variants, *f.rep)
		if err != nil {
			return "", nil, err
		}
		app.Views, app.Metrics = views, metrics
		app.Play(start) // from the end of the warm-up
		title += " — " + *f.scen
	case *f.synthetic != "":
		var n, parts int
		if _, err := fmt.Sscanf(*f.synthetic, "%d,%d", &n, &parts); err != nil || n <= 0 {
			return "", nil, fmt.Errorf("--synthetic: want stations,parts (500,5000), got %q", *f.synthetic)
		}
		app.Views, app.MinParts = []desk.View{desk.NewSynthetic(n)}, parts
		ebiten.SetVsyncEnabled(false) // measure what a frame costs, not the display's rate
		title += " — synthetic"
	default:
		flag.Usage()
		return "", nil, errors.New("say what to show: --connect, --data, --scenario or --synthetic")
	}
	return title, closeSource, nil
}

// meter measures the frame rate for --for: it counts the frames drawn
// after the first 30 (which compile shaders and upload textures), ends
// the game after runFor, and keeps the last frame for --shot.
type meter struct {
	runFor time.Duration
	shot   string
	start  time.Time
	frames int
	mu     sync.Mutex
	last   *image.RGBA
}

// draw is the app's OnDraw: true ends the game.
func (m *meter) draw(ctx context.Context) func(screen *ebiten.Image, frame int) bool {
	return func(screen *ebiten.Image, frame int) bool {
		if frame == 30 { // the first frames compile shaders and upload textures
			m.start, m.frames = time.Now(), 0
		}
		m.frames++
		if m.start.IsZero() || time.Since(m.start) < m.runFor {
			return ctx.Err() != nil
		}
		if m.shot != "" {
			b := screen.Bounds()
			img := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
			screen.ReadPixels(img.Pix)
			m.mu.Lock()
			m.last = img
			m.mu.Unlock()
		}
		return true
	}
}

// report prints the frame rate measured.
func (m *meter) report(app *desk.App) {
	if m.runFor <= 0 || m.start.IsZero() {
		return
	}
	el := time.Since(m.start)
	fmt.Printf("frames %d in %v: %.1f frames/s (%d views, %d stations shown, %d parts moving)\n",
		m.frames, el.Round(time.Millisecond), float64(m.frames)/el.Seconds(), len(app.Views), app.Stations(), app.Parts())
}

// save writes the last frame kept to --shot (PNG).
func (m *meter) save() error {
	m.mu.Lock()
	last := m.last
	m.mu.Unlock()
	if last == nil {
		return nil
	}
	f, err := os.Create(m.shot)
	if err != nil {
		return err
	}
	defer f.Close()
	return png.Encode(f, last)
}

// trust is the TLS configuration of a feed on wss:// (nil on ws://):
// this machine's roots and the CA in file (else $TWIN_CA). A twin that
// answers with a certificate it does not trust is an error that says
// what to give; one that does not answer yet is left to the feed, which
// retries.
func trust(ctx context.Context, ws, file string) (*tls.Config, error) {
	u, err := url.Parse(ws)
	if err != nil || u.Scheme != "wss" {
		return nil, err
	}
	if file == "" {
		file = os.Getenv("TWIN_CA")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if file != "" {
		if cfg, err = tlsconf.ClientConfig(file); err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := (&tls.Dialer{Config: cfg}).DialContext(hctx, "tcp", u.Host)
	if err == nil {
		c.Close()
		return cfg, nil
	}
	if e := tlsconf.Explain(err, "https://"+u.Host, file); e != err {
		return nil, e
	}
	return cfg, nil
}

// feedURL turns the address twin prints (https://host:port/?token=…) into
// its feed's (wss://host:port/ws?token=…; http:// into ws://); a ws:// or
// wss:// address is taken as is.
func feedURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--connect: want https://host:port/?token=… (or http://), got %q", s)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("--connect: want https://host:port/?token=… (or http://), got %q", s)
	}
	if !strings.HasSuffix(u.Path, "/ws") {
		u.Path = "/ws"
	}
	if u.Query().Get("token") == "" {
		if t := os.Getenv("TWIN_TOKEN"); t != "" {
			q := u.Query()
			q.Set("token", t)
			u.RawQuery = q.Encode()
		} else {
			return "", errors.New("--connect: the address has no ?token=… (or set TWIN_TOKEN)")
		}
	}
	return u.String(), nil
}

// playScenario runs two variants of a scenario file and returns their
// views and run KPIs, the first as the reference of differences.
func playScenario(ctx context.Context, file, names string, rep int) (views []desk.View, metrics [][]desk.Metric, start int64, err error) {
	sc, err := scenarios.Load(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, 0, fmt.Errorf("--scenario: no file %s: check its name and folder (in the repository the example scenarios are scenarios/*.yaml)", file)
	}
	if err != nil {
		return nil, nil, 0, err
	}
	idx := []int{sc.Baseline}
	if names != "" {
		idx = nil
		for _, n := range strings.Split(names, ",") {
			i := sc.Variant(strings.TrimSpace(n))
			if i < 0 {
				var have []string
				for _, v := range sc.Variants {
					have = append(have, v.Name)
				}
				return nil, nil, 0, fmt.Errorf("--variants: %s has no variant %q (it has: %s)", file, n, strings.Join(have, ", "))
			}
			idx = append(idx, i)
		}
	} else {
		for i := range sc.Variants {
			if i != sc.Baseline {
				idx = append(idx, i)
				break
			}
		}
	}
	if len(idx) > 2 {
		return nil, nil, 0, fmt.Errorf("--variants: one or two, got %d (%s)", len(idx), names)
	}
	views = make([]desk.View, len(idx))
	metrics = make([][]desk.Metric, len(idx))
	starts := make([]int64, len(idx))
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	for k, v := range idx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tp := state.NewTape(0)
			r, err := sc.Play(ctx, v, rep, tp)
			if err != nil {
				errs[k] = err
				return
			}
			from, _ := tp.Span()
			starts[k] = from + int64(sc.Warmup)
			for _, e := range tp.Events() { // from when the plant works (not a weekend)
				if e.Time >= starts[k] && e.Kind == event.State && event.MachineState(e.Value) == event.Running {
					starts[k] = e.Time
					break
				}
			}
			views[k] = desk.TapeView(sc.Variants[v].Name, tp, scene.NewLayout(sc.Variants[v].Plant))
			for _, m := range r.Metrics {
				switch m.Name {
				case "throughput", "lead_time_mean", "wip", "on_time", "energy_per_unit", "co2_per_unit", "energy_cost":
					metrics[k] = append(metrics[k], desk.Metric{Name: m.Name, Unit: m.Unit, Value: float64(m.Value)})
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, v := range views {
			if v != nil {
				v.Close()
			}
		}
		return nil, nil, 0, err
	}
	return views, metrics, starts[0], nil
}

// caArg is the --ca of a twin that made its own certificate.
func caArg(ca string) string {
	if ca == "" {
		return ""
	}
	return " --ca " + ca
}
