package desk

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/scene"
)

// TestMain fails the package's tests if a goroutine outlives them (the
// views' workers are joined by Close).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTimelineView: the view's worker shows the end of the tape, then the
// position asked for, and is gone once Close returns.
func TestTimelineView(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tp := state.NewTape(0)
	w1 := p.Units[1].Path()
	for i, ms := range []event.MachineState{event.Running, event.Down, event.Idle} {
		tp.Emit(event.Event{Time: int64(i+1) * 1e9, Kind: event.State, Source: event.Scenario, Asset: w1, Value: float64(ms)})
	}
	v := TapeView("run", tp, scene.NewLayout(p))
	defer v.Close()
	wait := func(want string) {
		t.Helper()
		if !eventually(func() bool { sc := v.Scene(); return sc != nil && sc.Station(w1).State == want }) {
			t.Fatalf("the view does not show %s", want)
		}
	}
	wait("idle") // the end
	v.Goto(2e9)
	wait("down")
	if h := v.History(w1); len(h) != 2 || h[1].State != "down" {
		t.Errorf("history up to 2 s: %+v", h)
	}
	v.Close()
	v.Close() // twice: nothing
}

// eventually polls ok until it holds or 10 s have passed.
func eventually(ok func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
