package desk

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"twin/plant/event"
	"twin/viz/scene"
)

// Drawing: every frame from the views' scenes, in package scene's palette.

var (
	colBack   = color.RGBA{0x17, 0x20, 0x2b, 0xff}
	colFloor  = color.RGBA{0x1f, 0x2a, 0x37, 0xff}
	colPanel  = color.RGBA{0x0c, 0x12, 0x1a, 0xe0}
	colFlow   = color.RGBA{0x4a, 0x5d, 0x73, 0xff}
	colBufBg  = color.RGBA{0x33, 0x41, 0x52, 0xff}
	colBufFg  = color.RGBA{0x8f, 0xb3, 0xd9, 0xff}
	colPart   = color.RGBA{0xe8, 0xee, 0xf5, 0xff}
	colSelect = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colAlarm  = color.RGBA{0xe8, 0x59, 0x0c, 0xff} // not a state colour
	colTrack  = color.RGBA{0x33, 0x41, 0x52, 0xff}
	colHead   = color.RGBA{0x8f, 0xb3, 0xd9, 0xff}
	sourceCol = map[string]color.RGBA{
		"live": {0x2e, 0x9e, 0x44, 0xff}, "replay": {0x2f, 0x80, 0xed, 0xff},
		"scenario": {0x9b, 0x51, 0xe0, 0xff}, "forecast": {0xf2, 0x99, 0x4a, 0xff},
	}
)

// stateColor is scene.Palette by the states' names (as scenes carry them).
var stateColor = func() map[string]color.RGBA {
	m := map[string]color.RGBA{}
	for st, c := range scene.Palette {
		m[st.String()] = c
	}
	return m
}()

// Draw draws the frame.
func (a *App) Draw(screen *ebiten.Image) {
	a.frame++
	if a.white == nil {
		a.white = ebiten.NewImage(3, 3)
		a.white.Fill(color.White)
	}
	screen.Fill(colFloor)
	if !a.fitted {
		a.fit()
	}
	for i, v := range a.Views {
		a.drawPane(screen, i, v)
	}
	a.drawTop(screen)
	if a.hasTimeline() {
		a.drawTimeline(screen)
	}
	if a.selected != "" {
		a.drawDetail(screen)
	}
	a.frames++
	if time.Since(a.fpsAt) >= time.Second {
		a.fpsShown, a.frames, a.fpsAt = a.frames, 0, time.Now()
	}
	if a.OnDraw != nil && a.OnDraw(screen, a.frame) {
		a.OnDraw = nil
		a.quit = true
	}
}

// quads batches solid quadrilaterals into one draw call: every station,
// buffer, flow and moving part of a pane is one DrawTriangles32.
type quads struct {
	v   []ebiten.Vertex
	idx []uint32
}

func (q *quads) quad(x0, y0, x1, y1, x2, y2, x3, y3 float64, c color.RGBA) {
	r, g, b, al := float32(c.R)/255, float32(c.G)/255, float32(c.B)/255, float32(c.A)/255
	n := uint32(len(q.v))
	for _, p := range [4][2]float64{{x0, y0}, {x1, y1}, {x2, y2}, {x3, y3}} {
		q.v = append(q.v, ebiten.Vertex{DstX: float32(p[0]), DstY: float32(p[1]), SrcX: 1.5, SrcY: 1.5, ColorR: r, ColorG: g, ColorB: b, ColorA: al})
	}
	q.idx = append(q.idx, n, n+1, n+2, n, n+2, n+3)
}

func (q *quads) rect(x, y, w, h float64, c color.RGBA) {
	if w <= 0 || h <= 0 {
		return
	}
	q.quad(x, y, x+w, y, x+w, y+h, x, y+h, c)
}

func (q *quads) line(x0, y0, x1, y1, width float64, c color.RGBA) {
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	nx, ny := -dy/l*width/2, dx/l*width/2
	q.quad(x0+nx, y0+ny, x1+nx, y1+ny, x1-nx, y1-ny, x0-nx, y0-ny, c)
}

func (a *App) flush(dst *ebiten.Image) {
	if len(a.q.idx) > 0 {
		dst.DrawTriangles32(a.q.v, a.q.idx, a.white, &ebiten.DrawTrianglesOptions{ColorScaleMode: ebiten.ColorScaleModeStraightAlpha})
	}
	a.q.v, a.q.idx = a.q.v[:0], a.q.idx[:0]
}

// rect fills a rectangle now (panels; the floor goes through quads).
func (a *App) rect(dst *ebiten.Image, x, y, w, h float64, c color.RGBA) {
	a.q.rect(x, y, w, h, c)
	a.flush(dst)
}

func (a *App) drawPane(screen *ebiten.Image, i int, v View) {
	r := a.pane(i)
	dst := screen.SubImage(r).(*ebiten.Image)
	q := &a.q
	if i > 0 {
		q.rect(float64(r.Min.X), float64(r.Min.Y), 2, float64(r.Dy()), colBack)
	}
	sc := v.Scene()
	if sc == nil {
		a.flush(dst)
		print(dst, v.Title()+": "+nonEmpty(a.status(v), a.t("waiting")), r.Min.X+10, r.Min.Y+10)
		return
	}
	X := func(x float64) float64 { return float64(r.Min.X) + a.ox + x*a.scale }
	Y := func(y float64) float64 { return float64(r.Min.Y) + a.oy + y*a.scale }
	for _, f := range sc.Flows {
		q.line(X(f.A[0]), Y(f.A[1]), X(f.B[0]), Y(f.B[1]), math.Max(1.5, a.scale*0.12), colFlow)
	}
	labels := a.scale > 4 && len(sc.Stations) <= 200
	for _, b := range sc.Buffers {
		w, h := 3*a.scale, math.Max(0.7*a.scale, 3)
		x, y := X(b.X)-w/2, Y(b.Y)-h/2
		q.rect(x, y, w, h, colBufBg)
		q.rect(x, y, w*b.Fill, h, colBufFg)
	}
	for _, s := range sc.Stations {
		w, h := s.W*a.scale, s.H*a.scale
		x, y := X(s.X)-w/2, Y(s.Y)-h/2
		if s.Path == a.selected {
			q.rect(x-3, y-3, w+6, h+6, colSelect)
		}
		c, ok := stateColor[s.State]
		if !ok {
			c = scene.Palette[event.Unknown]
		}
		q.rect(x, y, w, h, c)
		if len(s.Alarms) > 0 { // an alarm (a failure, maintenance due): a marker on the corner
			m := math.Max(4, w/3)
			q.quad(x+w-m/2, y-m, x+w+m/2, y-m, x+w+m/2, y, x+w-m/2, y, colAlarm)
		}
	}
	now := a.now()
	sz := math.Max(3, a.scale*0.5)
	for _, p := range a.panes[i].parts {
		f := (now - p.t0) / p.dur
		if f < 0 {
			continue
		}
		x, y := p.ax+(p.bx-p.ax)*f, p.ay+(p.by-p.ay)*f
		q.rect(X(x)-sz/2, Y(y)-sz/2, sz, sz, colPart)
	}
	a.flush(dst)
	for _, ar := range sc.Areas {
		print(dst, ar.ID, int(X(ar.X-10)), int(Y(ar.Y-10)))
	}
	if labels {
		for _, b := range sc.Buffers {
			w := 3 * a.scale
			lbl := fmt.Sprintf("%.0f", b.Level)
			if b.Capacity > 0 {
				lbl += fmt.Sprintf("/%d", b.Capacity)
			}
			print(dst, lbl, int(X(b.X)+w/2+4), int(Y(b.Y)-8))
		}
		for _, s := range sc.Stations {
			print(dst, s.ID, int(X(s.X)-s.W*a.scale/2), int(Y(s.Y)+s.H*a.scale/2+1))
		}
	}
	a.drawKPIs(dst, r, i, sc)
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// drawKPIs is the panel at the top of a pane: the scene's tiles, and in a
// comparison the run KPIs and their difference from the first view.
func (a *App) drawKPIs(dst *ebiten.Image, r image.Rectangle, i int, sc *scene.Scene) {
	k := sc.KPIs
	lines := []string{
		fmt.Sprintf("%s  [%s]", a.Views[i].Title(), a.t("source."+sc.Source)),
		a.t("kpi.line", "running", fmt.Sprint(k.Running), "machines", fmt.Sprint(k.Machines), "down", fmt.Sprint(k.Down),
			"good", fmt.Sprintf("%.0f", k.Good), "wip", fmt.Sprintf("%.0f", k.WIP), "kw", fmt.Sprintf("%.0f", k.PowerKW), "orders", fmt.Sprint(k.OpenOrders)),
	}
	if d := k.Day; d != nil {
		lines = append(lines, a.dayLine(d))
	}
	if i < len(a.Metrics) {
		for j, m := range a.Metrics[i] {
			l := fmt.Sprintf("%-15s %9.2f %s", m.Name, m.Value, m.Unit)
			if i > 0 && len(a.Metrics) > 0 && j < len(a.Metrics[0]) && a.Metrics[0][j].Name == m.Name {
				d := m.Value - a.Metrics[0][j].Value
				l += fmt.Sprintf("  (%+.2f)", d)
			}
			lines = append(lines, l)
		}
	}
	h := a.panelHeight()
	a.rect(dst, float64(r.Min.X), float64(r.Min.Y), float64(r.Dx()), float64(h), colPanel)
	c := sourceCol[sc.Source]
	a.rect(dst, float64(r.Min.X), float64(r.Min.Y), 4, float64(h), c)
	for j, l := range lines {
		print(dst, l, r.Min.X+10, r.Min.Y+4+lineHeight*j)
	}
}

func (a *App) drawTop(screen *ebiten.Image) {
	if al := a.twinAlarms(); al != "" { // the twin's own alarm takes the bar
		a.rect(screen, 0, 0, float64(a.w), topBar, colAlarm)
		print(screen, a.topLine()+"   "+a.t("alarm", "alarm", al), 8, 4)
		return
	}
	a.rect(screen, 0, 0, float64(a.w), topBar, colPanel)
	print(screen, a.topLine(), 8, 4)
	printRight(screen, a.t("keys"), a.w-sidePane-8, 4)
}

// twinAlarms are the twin's own alarms of the first view's scene, on one
// line ("" when none).
func (a *App) twinAlarms() string {
	for _, v := range a.Views {
		if sc := v.Scene(); sc != nil {
			return strings.Join(sc.Alarms, "; ")
		}
	}
	return ""
}

// topLine is the top bar's text: the plant, its clock in its zone (named),
// the time viewed, the frame rate.
func (a *App) topLine() string {
	title := "twin-view"
	var t int64
	for _, v := range a.Views {
		if sc := v.Scene(); sc != nil {
			title = "twin-view  " + sc.Plant
			t = sc.Time
			break
		}
	}
	s := title
	if t != 0 {
		_, name := a.location()
		s += "   " + a.clock(t, "Mon 2006-01-02 15:04:05") + " " + name
	}
	if at := a.position(); at != 0 {
		s += "   " + a.t("top.viewing", "t", a.clock(at, "Mon 2006-01-02 15:04"))
	}
	s += "   " + a.t("top.fps", "fps", fmt.Sprint(a.fpsShown))
	return s
}

func (a *App) drawTimeline(screen *ebiten.Image) {
	y := float64(a.h - timeBar)
	a.rect(screen, 0, y, float64(a.w), timeBar, colPanel)
	from, to := a.from, a.to
	x0, x1 := 150.0, float64(a.w-20)
	a.rect(screen, x0, y+16, x1-x0, 4, colTrack)
	t := a.position()
	label := a.t("tl.following")
	if a.playing {
		label = a.t("tl.playing", "speed", fmt.Sprintf("%g", a.Speed))
	} else if t != 0 {
		label = a.t("tl.paused")
	}
	if t == 0 {
		t = to
	}
	f := 0.0
	if to > from {
		f = float64(t-from) / float64(to-from)
	}
	a.rect(screen, x0, y+16, (x1-x0)*f, 4, colHead)
	a.rect(screen, x0+(x1-x0)*f-3, y+9, 6, 18, colSelect)
	print(screen, label, 8, int(y)+4)
	print(screen, a.clock(from, "01-02 15:04"), int(x0), int(y)+20)
	printRight(screen, a.clock(to, "01-02 15:04"), int(x1), int(y)+20)
}

// drawDetail is the side panel of the selected station: its state in each
// view, its recent state history, and its availability, quality and OEE
// over that history.
func (a *App) drawDetail(screen *ebiten.Image) {
	x := a.w - sidePane
	a.rect(screen, float64(x), topBar, sidePane, float64(a.h-topBar), colPanel)
	if a.histPath != a.selected || time.Since(a.histAt) > 500*time.Millisecond {
		for i, v := range a.Views {
			a.hist[i] = v.History(a.selected)
		}
		a.histPath, a.histAt = a.selected, time.Now()
	}
	y := topBar + 6
	pr := func(s string) {
		print(screen, s, x+8, y)
		y += lineHeight
	}
	for i, v := range a.Views {
		sc := v.Scene()
		if sc == nil {
			continue
		}
		st := sc.Station(a.selected)
		if st == nil {
			pr(a.t("detail.none", "view", v.Title()))
			continue
		}
		if i == 0 {
			pr(st.ID + "  " + st.WorkCenter)
		}
		pr("-- " + v.Title())
		pr(a.t("detail.since", "state", a.t("state."+st.State), "t", a.clock(st.Since, "01-02 15:04:05")))
		pr(a.t("detail.counts", "good", fmt.Sprintf("%.0f", st.Good), "reject", fmt.Sprintf("%.0f", st.Reject)))
		pr(a.t("detail.power", "kw", fmt.Sprintf("%.1f", st.PowerKW), "kwh", fmt.Sprintf("%.1f", st.EnergyKWh)))
		if st.Job != "" {
			pr(a.t("detail.job", "job", st.Job))
		}
		for _, al := range st.Alarms {
			pr(a.t("alarm", "alarm", al))
		}
		h := a.hist[i]
		if rows := a.stationDay(st.Day); rows != nil {
			pr(rows[0][0])
			for _, r := range rows[1:] { // a name, its figure in a column
				print(screen, r[0], x+16, y)
				printRight(screen, r[1], x+sidePane-24, y)
				y += lineHeight
			}
		}
		pr(a.t("detail.history"))
		for j := len(h) - 1; j >= 0 && j >= len(h)-8; j-- {
			pr(fmt.Sprintf(" %s %s", a.clock(h[j].Time, "01-02 15:04:05"), a.t("state."+h[j].State)))
		}
		y += 6
	}
}

// dayLine is the plant's figures of the day in the KPI panel: the numbers
// of the records API and the web page's tiles, as they show them.
func (a *App) dayLine(d *scene.Figures) string {
	return a.t("kpi.day", "oee", pct(d.OEE), "a", pct(d.Availability), "e", pct(d.Effectiveness), "q", pct(d.Quality),
		"fpy", pct(d.FPY), "ontime", pct(d.OnTime), "units", fmt.Sprintf("%.0f", d.Units), "kwhu", num(d.KWhPerUnit))
}

// stationDay is a station's figures of the day in its panel: a title,
// then rows of a name and its figure (none without figures).
func (a *App) stationDay(d *scene.Figures) [][2]string {
	if d == nil {
		return nil
	}
	return [][2]string{{a.t("day.title")}, {a.t("day.oee"), pct(d.OEE)}, {a.t("day.availability"), pct(d.Availability)},
		{a.t("day.effectiveness"), pct(d.Effectiveness)}, {a.t("day.quality"), pct(d.Quality)}}
}

// pct shows a ratio of the KPI engine as a percentage ("-": not defined).
func pct(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100**p)
}

func num(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *p)
}
