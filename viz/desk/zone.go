package desk

import (
	"strings"
	"time"
)

// The viewer shows every time in the plant's zone (the scene's Zone, an
// IANA name; cmd/twin-view embeds the zone database), never the
// computer's, and names it in the top bar.

// zone is the plant's location and its name, loaded once per name.
type zone struct {
	name string
	loc  *time.Location
}

// location returns the zone of the scenes shown: the first view's scene
// names it. Without one (an old feed) it is this computer's, and says so.
func (a *App) location() (*time.Location, string) {
	name := ""
	for _, v := range a.Views {
		if sc := v.Scene(); sc != nil {
			name = sc.Zone
			break
		}
	}
	if a.zone.loc == nil || a.zone.name != name {
		a.zone = zone{name: name, loc: time.Local}
		if loc, err := time.LoadLocation(name); err == nil && name != "" {
			a.zone.loc = loc
		}
	}
	if a.zone.loc == time.Local {
		return time.Local, a.t("zone.local")
	}
	return a.zone.loc, a.zone.name
}

// clock formats Unix ns in the plant's zone ("-" for none).
func (a *App) clock(ns int64, layout string) string {
	if ns == 0 {
		return "-"
	}
	loc, _ := a.location()
	t := time.Unix(0, ns).In(loc)
	if rest, ok := strings.CutPrefix(layout, "Mon "); ok && a.locale() == "zh-CN" {
		return weekdayZH[t.Weekday()] + " " + t.Format(rest) // 周二 2026-12-01
	}
	return t.Format(layout)
}

var weekdayZH = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}
