package desk

import (
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
	"twin/viz/scene"
)

// TestPlantTimeShown: on a computer in UTC, the viewer shows the plant's
// clock (Asia/Shanghai) and names the zone; the detail panel's times are
// the plant's too. Before, it showed the computer's clock, unnamed.
func TestPlantTimeShown(t *testing.T) {
	local := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = local })
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 1, 13, 0, 0, time.UTC).UnixNano() // 09:13 in the plant
	var s state.State
	for _, u := range p.Units {
		s.Apply(event.Event{Time: at, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(event.Running)})
	}
	sc := scene.NewLayout(p).Build(&s)
	a := &App{Views: []View{&StaticView{Name: "live", S: sc}}, Locale: "en"}
	if top := a.topLine(); !strings.Contains(top, "Tue 2026-12-01 09:13:00 Asia/Shanghai") {
		t.Fatalf("top bar %q: want the plant's clock, Tue 2026-12-01 09:13:00 Asia/Shanghai", top)
	}
	if got := a.clock(sc.Stations[0].Since, "01-02 15:04:05"); got != "12-01 09:13:00" {
		t.Fatalf("a station's state since %s, want 12-01 09:13:00 (plant time)", got)
	}
	// a scene without a zone (an older feed): the computer's, and said so
	old := *sc
	old.Zone = ""
	b := &App{Views: []View{&StaticView{Name: "live", S: &old}}, Locale: "en"}
	if top := b.topLine(); !strings.Contains(top, "Tue 2026-12-01 01:13:00 (this computer's time zone)") {
		t.Fatalf("top bar without a zone %q", top)
	}
}

// TestPlantLocaleShown: the motor plant's file says zh-CN: the viewer
// speaks Chinese, the weekday too, unless told otherwise.
func TestPlantLocaleShown(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 1, 13, 0, 0, time.UTC).UnixNano()
	var s state.State
	for _, u := range p.Units {
		s.Apply(event.Event{Time: at, Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(event.Running)})
	}
	sc := scene.NewLayout(p).Build(&s)
	a := &App{Views: []View{&StaticView{Name: "live", S: sc}}}
	if top := a.topLine(); !strings.Contains(top, "周二 2026-12-01 09:13:00 Asia/Shanghai") || !strings.Contains(top, "帧/秒") {
		t.Fatalf("top bar %q: want the plant's clock in Chinese, 周二 2026-12-01 09:13:00 Asia/Shanghai", top)
	}
	if got := a.t("detail.since", "state", a.t("state.starved"), "t", "12-01 09:13:00"); got != "待料，自 12-01 09:13:00" {
		t.Fatalf("a station's state in Chinese: %q", got)
	}
	a.Locale = "en"
	if top := a.topLine(); !strings.Contains(top, "Tue 2026-12-01 09:13:00") {
		t.Fatalf("top bar told English: %q", top)
	}
}
