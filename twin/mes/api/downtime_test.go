package api

import (
	"math"
	"strings"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/mes"
)

// TestDowntimeReasons: an operator reports a stop and ends it; the KPIs
// break the station's lost time down by the reason given and say what
// no stop explains. Stops are idempotent by id; one in the future, one
// ending before it starts, one with a reason the plant does not list and
// one overlapping another stop of the station are refused.
func TestDowntimeReasons(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	t0 := r.now()
	r.machine("W1", event.Running, 0)
	r.advance(10 * time.Minute)
	r.machine("W1", event.Down, 0)
	var d mes.Downtime
	r.must("operator", "POST", "/downtime", mes.NewDowntime{ID: "D1", Station: "W1", Reason: "breakdown", Note: "wire broke"}, &d, 200)
	if d.Station != "qijiang/stator/stator-line/winding/W1" || d.End != nil || !d.Start.Equal(r.now()) || d.By != "u-operator" || d.Loss != "availability" {
		t.Fatalf("the stop: %+v", d)
	}
	var open []mes.Downtime
	r.must("supervisor", "GET", "/downtime?open=true", nil, &open, 200)
	if len(open) != 1 || open[0].ID != "D1" {
		t.Fatalf("open stops: %+v", open)
	}
	// another stop while W1 is down is refused: each minute has one reason
	var e apiError
	if code := r.do("operator", "POST", "/downtime", mes.NewDowntime{ID: "D2", Station: "W1", Reason: "material"}, &e); code != 409 || e.Code != "downtime_overlap" && !strings.Contains(e.Error, "already down") {
		t.Fatalf("an overlapping stop: %d %+v", code, e)
	}
	r.advance(20 * time.Minute)
	r.must("maintenance", "POST", "/downtime/D1/end", nil, &d, 200)
	if d.End == nil || !d.End.Equal(r.now()) || d.EndedBy != "u-maintenance" {
		t.Fatalf("ended: %+v", d)
	}
	r.must("operator", "POST", "/downtime/D1/end", mes.EndDowntime{At: *d.End}, &d, 200) // a retried end
	if code := r.do("operator", "POST", "/downtime/D1/end", mes.EndDowntime{At: d.End.Add(-time.Minute)}, &e); code != 409 {
		t.Errorf("ending it again at another time: %d %+v", code, e)
	}
	r.machine("W1", event.Idle, 0)
	r.advance(10 * time.Minute)
	r.machine("W1", event.Running, 0)
	r.advance(20 * time.Minute)
	// the same report delivered again is answered from the first
	r.must("operator", "POST", "/downtime", mes.NewDowntime{ID: "D1", Station: "W1", Reason: "breakdown"}, &d, 200)
	if d.End == nil || d.Note != "wire broke" {
		t.Errorf("D1 retried: %+v", d)
	}
	for _, c := range []struct {
		name  string
		in    mes.NewDowntime
		field string
	}{
		{"future", mes.NewDowntime{ID: "F1", Station: "W1", Reason: "material", Start: r.now().Add(time.Hour)}, "start"},
		{"end before start", mes.NewDowntime{ID: "F2", Station: "W1", Reason: "material", Start: r.now().Add(-time.Minute), End: ptrTime(r.now().Add(-2 * time.Minute))}, "end"},
		{"unknown reason", mes.NewDowntime{ID: "F3", Station: "W1", Reason: "lunch"}, "reason"},
		{"unknown station", mes.NewDowntime{ID: "F4", Station: "W9", Reason: "material"}, "station"},
	} {
		if code := r.do("operator", "POST", "/downtime", c.in, &e); code != 400 || e.Field != c.field {
			t.Errorf("%s: %d %+v, want 400 on %s", c.name, code, e, c.field)
		}
	}
	if code := r.do("operator", "POST", "/downtime", mes.NewDowntime{ID: "D3", Station: "W1", Reason: "material", Start: t0.Add(20 * time.Minute), End: ptrTime(t0.Add(25 * time.Minute))}, &e); code != 409 {
		t.Errorf("a stop inside D1: %d %+v", code, e)
	}
	var ks []mes.KPI
	r.must("manager", "GET", "/kpis?by=station&station=W1&from=2026-03-02T08:00&to=2026-03-02T09:00", nil, &ks, 200)
	if len(ks) != 1 {
		t.Fatalf("kpis %+v", ks)
	}
	k := ks[0]
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	if !near(k.LossH, 0.5) || len(k.Losses) != 1 || k.Losses[0].Reason != "breakdown" || !near(k.Losses[0].Hours, 20.0/60) || !near(k.UnexplainedH, 10.0/60) {
		t.Errorf("W1's loss %.4f h by reason %+v, unexplained %.4f h; want 0.5 h, breakdown 20 min, 10 min unexplained", k.LossH, k.Losses, k.UnexplainedH)
	}
	r.must("manager", "GET", "/kpis?by=day&from=2026-03-02T08:00&to=2026-03-02T09:00", nil, &ks, 200)
	if len(ks) != 1 || len(ks[0].Losses) != 1 || !near(ks[0].Losses[0].Hours, 20.0/60) || ks[0].UnexplainedH < 10.0/60 {
		t.Errorf("the plant's losses: %+v", ks)
	}
	r.must("quality", "POST", "/downtime", mes.NewDowntime{ID: "Q1", Station: "W1", Reason: "quality"}, nil, 403)
}

func ptrTime(t time.Time) *time.Time { return &t }
