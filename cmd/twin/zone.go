package main

import (
	"fmt"
	"time"
)

// zoneNote names the zone of the times a command prints, once, at the top
// of what it prints: "times in Asia/Shanghai (UTC+08:00)". The offset is
// the one in force at at (a zone with daylight saving has two).
func zoneNote(loc *time.Location, at time.Time) string {
	return fmt.Sprintf("times in %s (UTC%s)", loc, at.In(loc).Format("-07:00"))
}
