package forecast

import (
	"context"
	"testing"
	"time"

	"twin/connectors/virtual"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
)

// TestForecastFromLiveState: a virtual plant runs a while; the state its
// events fold into is forked; every open order is forecast, completions
// fall after now, and the same seed gives the same forecast.
func TestForecastFromLiveState(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var st state.State
	start := time.Date(2026, 3, 9, 6, 0, 0, 0, p.Location)
	v, err := virtual.New(p, virtual.Options{Seed: 3, Start: start, Warmup: 5 * 24 * time.Hour, Sink: event.SinkFunc(st.Apply)})
	if err != nil {
		t.Fatal(err)
	}
	v.RunFor(10 * time.Hour)
	open := 0
	for _, o := range st.Orders() {
		if o.Status != "completed" {
			open++
		}
	}
	if open == 0 {
		t.Fatal("no open orders to forecast")
	}
	opt := Options{Horizon: 6 * 24 * time.Hour, Replications: 6, Seed: 1}
	f, err := Run(context.Background(), p, &st, opt)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, st.Time)
	if len(f.Orders) != open || !f.From.Equal(now) {
		t.Fatalf("%d orders forecast, %d open; from %v, state at %v", len(f.Orders), open, f.From, now)
	}
	done := 0
	for _, o := range f.Orders {
		if o.Done > 0 {
			done++
			if !o.Completion.After(now) || o.P90.Before(o.Completion.Add(-time.Second)) {
				t.Errorf("order %s: completion %v, p90 %v, now %v", o.ID, o.Completion, o.P90, now)
			}
		}
	}
	if done == 0 || f.Produced.Mean <= 0 || f.EnergyKWh.Mean <= 0 || f.Bottleneck == "" {
		t.Errorf("forecast: %d orders done, %+v", done, f)
	}
	t.Logf("%d open orders, %d complete within %v; bottleneck %s (%.0f%%); %.0f motors, %.0f kWh", open, done, opt.Horizon, f.Bottleneck, 100*f.BottleneckShare, f.Produced.Mean, f.EnergyKWh.Mean)
	g, _ := Run(context.Background(), p, &st, opt)
	if g.Orders[0] != f.Orders[0] || g.EnergyKWh != f.EnergyKWh {
		t.Error("the same seed gave another forecast")
	}
}
