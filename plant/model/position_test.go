package model

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"twin/sim"
)

// A plant resumed from its own position stands exactly where it stood:
// every open order, every unit in the same buffer, machine or line, the
// same runs with the same time left, the same stock and machines down.
func TestResumeRoundTrip(t *testing.T) {
	p := load(t, "motor.yaml")()
	// and the first moment, on the hour, with a machine down
	down := sim.Time(0)
	probe, _ := New(p, Options{Seed: 21})
	for at := 8 * sim.Day; down == 0 && at < 60*sim.Day; at += sim.Hour {
		probe.RunUntil(at)
		if len(probe.Position().Down) > 0 {
			down = at
		}
	}
	for _, at := range []sim.Time{
		9*sim.Day + 10*sim.Hour,                  // Tuesday 10:00, mid-shift
		12*sim.Day + 23*sim.Hour + 45*sim.Minute, // Saturday night, after the shifts
		15*sim.Day + 7*sim.Hour + 31*sim.Minute,  // Monday, a minute into the early shift
		down,
	} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			a, err := New(p, Options{Seed: 21})
			if err != nil {
				t.Fatal(err)
			}
			a.RunUntil(at)
			pos := a.Position()
			b, err := New(p, Options{Seed: 21, Start: a.WallTime(at), Resume: pos, NoGenerator: true})
			if err != nil {
				t.Fatal(err)
			}
			b.RunUntil(0)
			again := b.Position()
			if len(pos.Orders) == 0 {
				t.Fatal("no open orders: nothing tested")
			}
			samePosition(t, pos, again)
			jobs, running := 0, 0
			for _, o := range pos.Orders {
				jobs += len(o.Jobs)
				for _, j := range o.Jobs {
					if j.Unit != "" && !j.Finished {
						running++
					}
				}
			}
			t.Logf("%d open orders, %d units on their way (%d on machines), %d machines down", len(pos.Orders), jobs, running, len(pos.Down))
		})
	}
}

func samePosition(t *testing.T, want, got *Position) {
	t.Helper()
	if !reflect.DeepEqual(want.Down, got.Down) {
		t.Errorf("down: %v, want %v", got.Down, want.Down)
	}
	if !reflect.DeepEqual(want.Clocks, got.Clocks) {
		for i := range want.Clocks {
			if i < len(got.Clocks) && !reflect.DeepEqual(want.Clocks[i], got.Clocks[i]) {
				t.Errorf("clocks of %s: %+v, want %+v", want.Clocks[i].Unit, got.Clocks[i], want.Clocks[i])
			}
		}
	}
	if len(got.Orders) != len(want.Orders) {
		t.Fatalf("%d open orders, want %d", len(got.Orders), len(want.Orders))
	}
	for i, w := range want.Orders {
		g := got.Orders[i]
		if g.ID != w.ID || g.Done != w.Done || g.Scrapped != w.Scrapped || !reflect.DeepEqual(g.Stock, w.Stock) || !g.Due.Equal(w.Due) || !g.Release.Equal(w.Release) {
			t.Errorf("order %s: done %d scrapped %d stock %v due %v; want %s %d %d %v %v", g.ID, g.Done, g.Scrapped, g.Stock, g.Due, w.ID, w.Done, w.Scrapped, w.Stock, w.Due)
		}
		if len(g.Jobs) != len(w.Jobs) {
			t.Errorf("order %s: %d jobs, want %d", w.ID, len(g.Jobs), len(w.Jobs))
			continue
		}
		for k, wj := range w.Jobs {
			gj := g.Jobs[k]
			gj.Arrived, wj.Arrived = gj.Arrived.Round(time.Microsecond), wj.Arrived.Round(time.Microsecond)
			if !reflect.DeepEqual(gj, wj) {
				t.Errorf("order %s: job %+v, want %+v", w.ID, gj, wj)
			}
		}
	}
}
