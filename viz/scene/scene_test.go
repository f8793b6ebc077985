package scene

import (
	"testing"
	"time"

	"twin/connectors/virtual"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
)

func TestScene(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := NewLayout(p)
	var st state.State
	empty := l.Build(&st)
	if len(empty.Stations) != len(p.Units) || empty.Stations[0].State != "unknown" || empty.Stations[0].Color != "#cfd4da" {
		t.Fatalf("empty scene: %+v", empty.Stations[0])
	}
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, p.Location)
	v, err := virtual.New(p, virtual.Options{Seed: 2, Start: start, Warmup: 3 * 24 * time.Hour, Sink: event.SinkFunc(st.Apply)})
	if err != nil {
		t.Fatal(err)
	}
	v.RunFor(2 * time.Hour)
	// a known state on top: W2 down
	w2 := p.Units[2].Path()
	st.Apply(event.Event{Time: st.Time + 1, Kind: event.State, Source: event.Live, Asset: w2, Value: float64(event.Down)})
	sc := l.Build(&st)
	if sc.Source != "live" || sc.Width != p.Layout.Width || len(sc.Flows) == 0 || len(sc.Areas) != 3 {
		t.Fatalf("scene %s %v flows %d areas %d", sc.Source, sc.Width, len(sc.Flows), len(sc.Areas))
	}
	s := sc.Station(w2)
	if s == nil || s.State != "down" || s.Color != "#d64545" || s.X != p.Units[2].Node.At.X || s.WorkCenter != "winding" || s.Area != "stator" {
		t.Fatalf("W2: %+v", s)
	}
	if got := sc.At(s.X+0.5, s.Y-0.5); got == nil || got.Path != w2 {
		t.Errorf("click at W2 found %v", got)
	}
	for _, x := range sc.Stations {
		a := st.Asset(x.Path)
		if a == nil || x.State != a.State.String() || x.Color != Hex(Palette[a.State]) {
			t.Errorf("%s: scene %s %s, state %v", x.ID, x.State, x.Color, a)
		}
	}
	k := sc.KPIs
	if k.Machines != 17 || k.Down < 1 || k.Running+k.Down > 17 || k.PowerKW <= 0 || k.CO2Kg <= 0 || k.OpenOrders != len(sc.Orders) || k.Good <= 0 {
		t.Errorf("KPIs %+v", k)
	}
	wip := 0.0
	for _, b := range sc.Buffers {
		if b.Fill < 0 || b.Fill > 1 {
			t.Errorf("buffer %s fill %v", b.WorkCenter, b.Fill)
		}
		wip += b.Level
	}
	if wip == 0 {
		t.Error("no parts in any buffer after two hours of work")
	}
	t.Logf("%d running, %d down, %.0f kW, WIP %.0f, %d open orders, good %.0f", k.Running, k.Down, k.PowerKW, k.WIP, k.OpenOrders, k.Good)
}

// TestSceneZone: a scene names the plant's time zone, so that the views
// show plant time whatever the browser's or the computer's zone.
func TestSceneZone(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var st state.State
	if z := NewLayout(p).Build(&st).Zone; z != "Asia/Shanghai" {
		t.Fatalf("scene zone %q, want Asia/Shanghai (the plant file's)", z)
	}
}

// TestSceneLocale: the scene carries the plant file's locale, for the
// views' words.
func TestSceneLocale(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := NewLayout(p).Build(&state.State{}).Locale; got != "zh-CN" {
		t.Fatalf("the motor plant's scene says locale %q, want zh-CN (its file's)", got)
	}
}
