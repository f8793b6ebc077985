package desk

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/hajimehoshi/ebiten/v2"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/scene"
)

// TestScreenshot renders two known plant states side by side under Xvfb
// (run with xvfb-run), reads the frame back, checks the colour at every
// station's centre against its state's colour in the palette and the top
// bar against the alarm colour (the twin's own alarm is raised), and saves
// the frame as out/viewer.png.
func TestScreenshot(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := scene.NewLayout(p)
	states := []event.MachineState{event.Running, event.Idle, event.Setup, event.Down, event.Maintenance, event.Blocked, event.Starved, event.Off}
	mk := func(shift int, src event.Source) *scene.Scene {
		var s state.State
		for i, u := range p.Units {
			s.Apply(event.Event{Time: int64(i+1) * 1e9, Kind: event.State, Source: src, Asset: u.Path(), Value: float64(states[(i+shift)%len(states)])})
			s.Apply(event.Event{Time: int64(i+1) * 1e9, Kind: event.Counter, Source: src, Asset: u.Path(), Name: "good", Value: float64(10 * i)})
		}
		return l.Build(&s)
	}
	first := mk(0, event.Scenario)
	first.Alarms = []string{"the data directory's disk is full: nothing is recorded until space is freed"}
	a := &App{Views: []View{&StaticView{Name: "variant A", S: first}, &StaticView{Name: "variant B", S: mk(3, event.Scenario)}},
		Metrics: [][]Metric{{{"throughput", "units/day", 126.5}}, {{"throughput", "units/day", 139.2}}}}
	a.Select(p.Units[1].Path())
	var checked int
	var failure error
	a.OnDraw = func(screen *ebiten.Image, frame int) bool {
		if frame < 5 {
			return false
		}
		b := screen.Bounds()
		pix := make([]byte, 4*b.Dx()*b.Dy())
		screen.ReadPixels(pix)
		img := &image.RGBA{Pix: pix, Stride: 4 * b.Dx(), Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
		if got := img.RGBAAt(b.Dx()-2, 2); got != colAlarm { // the twin's own alarm takes the top bar
			failure = fmt.Errorf("the top bar is %v with the twin's alarm raised, want the alarm colour %v", got, colAlarm)
			return true
		}
		for i, v := range a.Views {
			for _, st := range v.Scene().Stations {
				x, y, ok := a.StationCenter(i, st.Path)
				if !ok {
					failure = fmt.Errorf("no station %s", st.Path)
					return true
				}
				got := img.RGBAAt(x, y)
				if want := stateColor[st.State]; got != want {
					failure = fmt.Errorf("view %d: %s (%s) at (%d,%d) is %v, want %v", i, st.ID, st.State, x, y, got, want)
					return true
				}
				checked++
			}
		}
		os.MkdirAll("out", 0o755)
		f, err := os.Create(filepath.Join("out", "viewer.png"))
		if err == nil {
			png.Encode(f, img)
			f.Close()
		}
		return true
	}
	ebiten.SetWindowSize(1280, 800)
	ebiten.SetWindowTitle("twin-view test")
	if err := ebiten.RunGame(a); err != nil {
		t.Fatal(err)
	}
	if failure != nil {
		t.Fatal(failure)
	}
	if checked != 2*len(p.Units) {
		t.Fatalf("checked %d stations, want %d", checked, 2*len(p.Units))
	}
	t.Logf("%d station colours match their states; frame saved to out/viewer.png", checked)
}
