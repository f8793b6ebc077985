package desk

import (
	"fmt"
	"strings"
	"testing"

	"twin/viz/scene"
)

// The viewer shows the day's figures as they reach it (the records API's
// numbers, with one decimal as the web page's tiles), and says "-" for a
// ratio that is not defined rather than 0%.
func TestDayFiguresShown(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	d := &scene.Figures{OEE: f(0.7764), Availability: f(0.8012), Effectiveness: f(0.969), Quality: f(1), FPY: f(0.95), Units: 13, KWhPerUnit: f(8.44)}
	a := &App{Locale: "en"}
	got := a.dayLine(d)
	for _, want := range []string{"OEE 77.6%", "A 80.1%", "E 96.9%", "Q 100.0%", "FPY 95.0%", "on time -", "13 units", "8.44 kWh/unit"} {
		if !strings.Contains(got, want) {
			t.Errorf("the panel's day line %q lacks %q", got, want)
		}
	}
	st := fmt.Sprint(a.stationDay(d))
	if !strings.Contains(st, "[OEE 77.6%]") || !strings.Contains(st, "[effectiveness 96.9%]") {
		t.Errorf("a station's day: %s", st)
	}
	zh := &App{Locale: "zh-CN"}
	if got := zh.dayLine(d); !strings.Contains(got, "今日：OEE 77.6%（可用 80.1% 性能 96.9% 质量 100.0%）") || !strings.Contains(got, "产量 13 台") {
		t.Errorf("the panel's day line in Chinese: %q", got)
	}
	if a.stationDay(nil) != nil {
		t.Error("figures shown for a station without any")
	}
}
