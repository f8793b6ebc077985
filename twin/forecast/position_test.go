package forecast

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
	"twin/twin/state"
)

func motor(t testing.TB) *plant.Plant {
	t.Helper()
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The position the twin reads from its history is the plant's own: the
// simulated plant's exported position (what it knows of itself) and the
// one rebuilt from the events it emitted agree unit by unit, at moments
// mid-shift, after the shifts, at a shift's start and with a machine
// down. Only the time a run still needs is the plant's secret.
func TestPositionFromHistory(t *testing.T) {
	p := motor(t)
	tape := state.NewTape(0)
	m, err := model.New(p, model.Options{Seed: 21, Sink: tape, Source: event.Live})
	if err != nil {
		t.Fatal(err)
	}
	var down sim.Time
	for at := 8 * sim.Day; down == 0 && at < 60*sim.Day; at += sim.Hour {
		probe, _ := model.New(p, model.Options{Seed: 21})
		probe.RunUntil(at)
		if len(probe.Position().Down) > 0 {
			down = at
		}
	}
	moments := []sim.Time{9*sim.Day + 10*sim.Hour, 12*sim.Day + 23*sim.Hour + 45*sim.Minute, 15*sim.Day + 7*sim.Hour + 31*sim.Minute, down}
	sortTimes(moments)
	for _, at := range moments {
		m.RunUntil(at)
		want := m.Position()
		got, err := Position(p, tape, m.WallTime(at))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint(at), func(t *testing.T) { samePosition(t, want, got) })
	}
}

// A twin that began watching after the plant's warm-up (a demo's first
// run) learns where every unit is from what the plant tells it then (its
// work in progress: see model.EmitState) and follows them from there: its
// position agrees with the plant's unit by unit (where each is and at
// which operation; not how many tests it failed before, nor how long it
// had waited or run before the twin watched).
func TestPositionAfterWarmStart(t *testing.T) {
	p := motor(t)
	tape := state.NewTape(0)
	var live bool
	m, err := model.New(p, model.Options{Seed: 21, Source: event.Live, Sink: event.SinkFunc(func(e event.Event) {
		if live {
			tape.Emit(e)
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	warm := 7*sim.Day + 9*sim.Hour
	m.RunUntil(warm)
	live = true
	m.EmitState()
	for _, at := range []sim.Time{warm, warm + 2*sim.Hour, warm + 3*sim.Day + 14*sim.Hour} {
		m.RunUntil(at)
		want := m.Position()
		got, err := Position(p, tape, m.WallTime(at))
		if err != nil {
			t.Fatal(err)
		}
		coarse := func(pos *model.Position) {
			for i := range pos.Orders {
				for k := range pos.Orders[i].Jobs {
					j := &pos.Orders[i].Jobs[k]
					j.Attempt, j.Run, j.Left, j.Arrived = 0, 0, 0, time.Time{}
				}
			}
			pos.Clocks = nil
		}
		coarse(want)
		coarse(got)
		t.Run(fmt.Sprint(at-warm), func(t *testing.T) { samePosition(t, want, got) })
	}
}

func sortTimes(a []sim.Time) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func samePosition(t *testing.T, want, got *model.Position) {
	t.Helper()
	if !reflect.DeepEqual(want.Down, got.Down) {
		t.Errorf("down: %v, want %v", got.Down, want.Down)
	}
	if len(got.Orders) != len(want.Orders) {
		t.Fatalf("%d open orders, want %d", len(got.Orders), len(want.Orders))
	}
	units := 0
	for i, w := range want.Orders {
		g := got.Orders[i]
		if g.ID != w.ID || g.Done != w.Done || g.Scrapped != w.Scrapped || !reflect.DeepEqual(g.Stock, w.Stock) || g.Due.Sub(w.Due).Abs() > time.Millisecond || g.Quantity != w.Quantity || g.Priority != w.Priority {
			t.Errorf("order %s: qty %d done %d scrapped %d stock %v due %v prio %d; want %s %d %d %d %v %v %d", g.ID, g.Quantity, g.Done, g.Scrapped, g.Stock, g.Due, g.Priority, w.ID, w.Quantity, w.Done, w.Scrapped, w.Stock, w.Due, w.Priority)
		}
		wj := map[string]model.Job{}
		for _, j := range w.Jobs {
			j.Left = 0
			j.Arrived = j.Arrived.Round(time.Microsecond)
			wj[j.Ref] = j
		}
		for _, j := range g.Jobs {
			j.Arrived = j.Arrived.Round(time.Microsecond)
			if x, ok := wj[j.Ref]; !ok {
				t.Errorf("order %s: a unit the plant does not have: %+v", w.ID, j)
			} else if !reflect.DeepEqual(x, j) {
				t.Errorf("order %s: unit %+v, the plant has %+v", w.ID, j, x)
			}
			delete(wj, j.Ref)
			units++
		}
		for _, j := range wj {
			// units the plant has not reported are left out: they wait for
			// their first operation or their parts, and a resumed plant
			// launches them
			if j.Unit != "" || j.Queued || j.Op != 0 {
				t.Errorf("order %s: unit missing: %+v", w.ID, j)
			}
		}
	}
	if units == 0 {
		t.Error("no units compared")
	}
}
