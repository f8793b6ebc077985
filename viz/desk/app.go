// Package desk is the desktop plant view (Ebitengine): one plant, or two
// scenario variants side by side, drawn from package scene in its palette,
// with pan and zoom, a KPI panel, a station's history and OEE on click, a
// timeline to scrub, and parts moving along the flows.
//
// It needs cgo and X11 (or another Ebitengine platform); cmd/twin-view is
// its binary, so that cmd/twin stays pure Go. Views (see View) feed it
// scenes without ever blocking a frame.
//
// Keys: drag to pan, wheel to zoom, click a station for its details,
// click or drag on the timeline to seek, space to play or pause, F to
// follow, 0 to fit, Esc to close the details.
package desk

import (
	"image"
	"math"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"twin/viz/feed"
	"twin/viz/scene"
)

// Metric is a run KPI shown in the comparison (a scenario variant's).
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// App is the viewer: an ebiten.Game.
type App struct {
	Views   []View     // one, or two side by side
	Metrics [][]Metric // per view, optional: run KPIs compared in the panel
	// Locale is the language of the viewer's words: "zh-CN", "en", or ""
	// for the plant's (the plant file's locale), else the computer's.
	Locale string
	// Speed is the playback speed, times real time (3600: an hour a second).
	Speed float64
	// MinParts keeps at least this many parts moving (benchmarks).
	MinParts int
	// OnDraw, if set, is called after each frame is drawn; returning true
	// ends the program (tests take screenshots here).
	OnDraw func(screen *ebiten.Image, frame int) bool

	w, h     int
	scale    float64 // pixels per metre
	ox, oy   float64 // offset of the floor origin in a pane
	fitted   bool
	playing  bool
	selected string
	frame    int
	last     time.Time

	dragging         bool
	dragX, dragY     int
	moved            bool
	scrubbing        bool
	panes            []paneState
	histPath         string
	histAt           time.Time
	hist             [][]feed.Change
	white            *ebiten.Image
	q                quads
	frames, fpsShown int
	fpsAt            time.Time
	quit             bool
	quitReq          atomic.Bool
	from, to         int64 // the timeline: the union of the views' spans
	zone             zone  // the plant's time zone, of the scenes
}

type paneState struct {
	prev  *scene.Scene
	parts []part
	seed  uint32
}

type part struct {
	ax, ay, bx, by float64 // metres
	t0, dur        float64 // seconds of app time
}

const (
	topBar   = 24
	timeBar  = 36
	sidePane = 280
)

// Layout follows the window.
func (a *App) Layout(w, h int) (int, int) {
	if w != a.w || h != a.h {
		a.w, a.h, a.fitted = w, h, false
	}
	return w, h
}

// pane is the screen rectangle of view i.
func (a *App) pane(i int) image.Rectangle {
	n := max(len(a.Views), 1)
	bottom := a.h
	if a.hasTimeline() {
		bottom -= timeBar
	}
	w := a.w
	if a.selected != "" {
		w -= sidePane
	}
	pw := w / n
	return image.Rect(i*pw, topBar, (i+1)*pw, bottom)
}

func (a *App) hasTimeline() bool { return a.to > a.from }

// fit scales the floor to the panes.
func (a *App) fit() {
	var sc *scene.Scene
	for _, v := range a.Views {
		if s := v.Scene(); s != nil {
			sc = s
			break
		}
	}
	if sc == nil || a.w == 0 {
		return
	}
	r := a.pane(0)
	top := float64(a.panelHeight())
	a.scale = math.Min(float64(r.Dx())/(sc.Width+4), (float64(r.Dy())-top)/(sc.Height+4))
	a.ox, a.oy = 2*a.scale, top+2*a.scale // the KPI panel above the floor
	a.fitted = true
}

// panelHeight is the height of the KPI panel at the top of each pane.
func (a *App) panelHeight() int {
	n := 0
	for _, m := range a.Metrics {
		n = max(n, len(m))
	}
	return 16*(3+n) + 8
}

// now is the time of this tick, in seconds: the clock of the animations.
func (a *App) now() float64 { return float64(a.last.UnixNano()) / 1e9 }

// Play starts playing from t.
func (a *App) Play(t int64) {
	for _, v := range a.Views {
		v.Goto(t)
	}
	a.playing = true
}

// Update handles input and moves the playhead.
func (a *App) Update() error {
	if a.quit || a.quitReq.Load() {
		return ebiten.Termination
	}
	now := time.Now()
	dt := 0.0
	if !a.last.IsZero() {
		dt = now.Sub(a.last).Seconds()
	}
	a.last = now
	a.updateSpan()
	if !a.fitted {
		a.fit()
	}
	if len(a.panes) != len(a.Views) {
		a.panes = make([]paneState, len(a.Views))
		a.hist = make([][]feed.Change, len(a.Views))
	}
	a.input()
	if a.playing {
		t := a.position()
		if t == 0 {
			t = a.from
		}
		t += int64(dt * a.Speed * 1e9)
		if t >= a.to {
			t, a.playing = a.to, false
		}
		for _, v := range a.Views {
			v.Goto(t)
		}
	}
	for i, v := range a.Views {
		a.animate(i, v.Scene())
	}
	return nil
}

func (a *App) input() {
	mx, my := ebiten.CursorPosition()
	if _, wy := ebiten.Wheel(); wy != 0 {
		a.zoom(math.Pow(1.15, wy), mx, my)
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEqual) || inpututil.IsKeyJustPressed(ebiten.KeyKPAdd) {
		a.zoom(1.25, a.w/2, a.h/2)
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyMinus) || inpututil.IsKeyJustPressed(ebiten.KeyKPSubtract) {
		a.zoom(0.8, a.w/2, a.h/2)
	}
	if inpututil.IsKeyJustPressed(ebiten.Key0) {
		a.fitted = false
	}
	if inpututil.IsKeyJustPressed(ebiten.KeySpace) && a.hasTimeline() {
		a.playing = !a.playing
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyF) {
		a.playing = false
		for _, v := range a.Views {
			v.Goto(0)
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyEscape) {
		a.selected = ""
	}
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		a.dragX, a.dragY, a.moved = mx, my, false
		a.scrubbing = a.hasTimeline() && my >= a.h-timeBar
		a.dragging = !a.scrubbing
	}
	if ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft) {
		if a.scrubbing {
			a.seekTo(mx)
		} else if a.dragging {
			dx, dy := mx-a.dragX, my-a.dragY
			if a.moved || dx*dx+dy*dy > 16 {
				a.ox += float64(dx)
				a.oy += float64(dy)
				a.dragX, a.dragY, a.moved = mx, my, true
			}
		}
	}
	if inpututil.IsMouseButtonJustReleased(ebiten.MouseButtonLeft) {
		if a.dragging && !a.moved {
			a.click(mx, my)
		}
		a.dragging, a.scrubbing = false, false
	}
}

func (a *App) zoom(f float64, mx, my int) {
	// keep the floor point under the cursor in place
	i := a.paneAt(mx)
	r := a.pane(i)
	px, py := float64(mx-r.Min.X), float64(my-r.Min.Y)
	a.ox = px - (px-a.ox)*f
	a.oy = py - (py-a.oy)*f
	a.scale *= f
}

func (a *App) paneAt(x int) int {
	for i := range a.Views {
		if r := a.pane(i); x >= r.Min.X && x < r.Max.X {
			return i
		}
	}
	return 0
}

func (a *App) click(mx, my int) {
	if a.selected != "" && mx >= a.w-sidePane {
		return
	}
	i := a.paneAt(mx)
	r := a.pane(i)
	sc := a.Views[i].Scene()
	if sc == nil {
		return
	}
	x, y := (float64(mx-r.Min.X)-a.ox)/a.scale, (float64(my-r.Min.Y)-a.oy)/a.scale
	if st := sc.At(x, y); st != nil {
		a.selected, a.histPath = st.Path, ""
	} else {
		a.selected = ""
	}
}

// updateSpan sets the timeline to the union of the views' spans, once a
// tick (a view's span may cost a look into its store).
func (a *App) updateSpan() {
	a.from, a.to = 0, 0
	for _, v := range a.Views {
		f, t := v.Span()
		if t <= f {
			continue
		}
		if a.from == 0 || f < a.from {
			a.from = f
		}
		a.to = max(a.to, t)
	}
}

// position is the time asked for (0: following).
func (a *App) position() int64 {
	if len(a.Views) == 0 {
		return 0
	}
	return a.Views[0].At()
}

func (a *App) seekTo(mx int) {
	x0, x1 := 150, a.w-20
	f := math.Min(math.Max(float64(mx-x0)/float64(x1-x0), 0), 1)
	t := a.from + int64(f*float64(a.to-a.from))
	if t == 0 {
		t = 1
	}
	for _, v := range a.Views {
		v.Goto(t)
	}
}

// animate spawns a part for each good unit a station made since the last
// scene, moving along its flow to the next work centre.
func (a *App) animate(i int, sc *scene.Scene) {
	ps := &a.panes[i]
	now := a.now()
	if sc != nil && ps.prev != nil && sc != ps.prev && len(sc.Stations) == len(ps.prev.Stations) {
		for j := range sc.Stations {
			s := &sc.Stations[j]
			n := int(math.Min(s.Good-ps.prev.Stations[j].Good, 8))
			if n <= 0 {
				continue
			}
			bx, by := s.X+4, s.Y // where its parts go: the next work centre
			for _, f := range sc.Flows {
				if f.From == s.WorkCenter {
					bx, by = f.B[0], f.B[1]
					break
				}
			}
			for k := 0; k < n && len(ps.parts) < 20000; k++ {
				ps.parts = append(ps.parts, part{s.X, s.Y, bx, by, now + float64(k)*0.15, 1.2})
			}
		}
	}
	if sc != nil {
		ps.prev = sc
	}
	// the benchmark's floor: keep MinParts moving along the flows
	for len(ps.parts) < a.MinParts && sc != nil && len(sc.Flows) > 0 {
		ps.seed = ps.seed*1664525 + 1013904223
		f := sc.Flows[int(ps.seed>>8)%len(sc.Flows)]
		ps.parts = append(ps.parts, part{f.A[0], f.A[1], f.B[0], f.B[1], now - float64(ps.seed%1000)/1000, 1 + float64(ps.seed%7)/7})
	}
	live := ps.parts[:0]
	for _, p := range ps.parts {
		if now-p.t0 < p.dur {
			live = append(live, p)
		}
	}
	ps.parts = live
}

// StationCenter is where station path of view i is drawn (for tests).
func (a *App) StationCenter(i int, path string) (x, y int, ok bool) {
	sc := a.Views[i].Scene()
	if sc == nil {
		return 0, 0, false
	}
	st := sc.Station(path)
	if st == nil {
		return 0, 0, false
	}
	r := a.pane(i)
	return int(float64(r.Min.X) + a.ox + st.X*a.scale), int(float64(r.Min.Y) + a.oy + st.Y*a.scale), true
}

// Select selects station path, as a click on it does.
func (a *App) Select(path string) { a.selected, a.histPath = path, "" }

// Quit ends the program at the next frame; safe from any goroutine.
func (a *App) Quit() { a.quitReq.Store(true) }

// Stations is the number of stations drawn in the last frame.
func (a *App) Stations() int {
	n := 0
	for _, v := range a.Views {
		if sc := v.Scene(); sc != nil {
			n += len(sc.Stations)
		}
	}
	return n
}

// Parts is the number of parts moving.
func (a *App) Parts() int {
	n := 0
	for _, p := range a.panes {
		n += len(p.parts)
	}
	return n
}
