package desk

import (
	"fmt"
	"sync"
	"time"

	"twin/plant/event"
	"twin/viz/feed"
	"twin/viz/scene"
)

// SyntheticView is a made-up plant of n stations in lines of 25, whose
// states change ten times a second: the viewer's frame-rate benchmark.
type SyntheticView struct {
	mu   sync.Mutex
	sc   *scene.Scene
	at   time.Time
	tick uint32
}

// NewSynthetic makes a synthetic plant of n stations.
func NewSynthetic(n int) *SyntheticView {
	const perLine = 25
	lines := (n + perLine - 1) / perLine
	sc := &scene.Scene{Plant: fmt.Sprintf("synthetic-%d", n), Width: perLine*4 + 4, Height: float64(lines)*6 + 4, Source: "scenario"}
	for i := 0; i < n; i++ {
		line, pos := i/perLine, i%perLine
		wc := fmt.Sprintf("L%02d-%02d", line, pos)
		x, y := 2+float64(pos)*4, 4+float64(line)*6
		sc.Stations = append(sc.Stations, scene.Station{ID: fmt.Sprintf("S%03d", i), Path: "synthetic/" + wc + "/M", WorkCenter: wc, X: x, Y: y, W: 2.4, H: 2.4, State: "running"})
		sc.Buffers = append(sc.Buffers, scene.Buffer{WorkCenter: wc, X: x, Y: y - 2.2, Capacity: 10})
		if pos > 0 {
			sc.Flows = append(sc.Flows, scene.Flow{From: fmt.Sprintf("L%02d-%02d", line, pos-1), To: wc, A: [2]float64{x - 4, y}, B: [2]float64{x, y}})
		}
	}
	sc.KPIs.Machines = n
	return &SyntheticView{sc: sc, at: time.Now()}
}

func (v *SyntheticView) Title() string { return "synthetic" }

// Scene changes a tenth of the stations' states every 100 ms.
func (v *SyntheticView) Scene() *scene.Scene {
	v.mu.Lock()
	defer v.mu.Unlock()
	if time.Since(v.at) >= 100*time.Millisecond {
		sc := *v.sc
		sc.Stations = append([]scene.Station(nil), sc.Stations...)
		sc.Buffers = append([]scene.Buffer(nil), sc.Buffers...)
		states := []event.MachineState{event.Running, event.Running, event.Running, event.Idle, event.Blocked, event.Starved, event.Down, event.Setup}
		for i := range sc.Stations {
			v.tick = v.tick*1664525 + 1013904223
			if v.tick>>28 < 2 {
				sc.Stations[i].State = states[(v.tick>>8)%uint32(len(states))].String()
			}
			sc.Buffers[i].Fill = float64((v.tick>>12)%11) / 10
		}
		sc.Time = time.Now().UnixNano()
		v.sc, v.at = &sc, time.Now()
	}
	return v.sc
}

func (v *SyntheticView) Span() (int64, int64)         { return 0, 0 }
func (v *SyntheticView) Goto(int64)                   {}
func (v *SyntheticView) At() int64                    { return 0 }
func (v *SyntheticView) History(string) []feed.Change { return nil }
func (v *SyntheticView) Status() string               { return "" }
func (v *SyntheticView) Close()                       {}
