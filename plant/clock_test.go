package plant

import (
	"strings"
	"testing"
	"time"
)

// TestClock checks Clock against the wall clock itself: for every minute
// of two days around a zone change, Clock gives the first instant (to the
// minute) at which the clock shows that minute or a later one. Zones:
// Berlin (spring and autumn), São Paulo 2018 (the clock jumped at
// midnight: that midnight did not exist), Lord Howe (half-hour changes),
// Apia 2011 (a whole day skipped) and Shanghai (no change).
func TestClock(t *testing.T) {
	cases := []struct {
		zone string
		date Date
	}{
		{"Europe/Berlin", Date{2026, time.March, 29}},
		{"Europe/Berlin", Date{2026, time.October, 25}},
		{"America/Sao_Paulo", Date{2018, time.November, 4}},
		{"America/Sao_Paulo", Date{2019, time.February, 17}},
		{"Australia/Lord_Howe", Date{2026, time.April, 5}},
		{"Australia/Lord_Howe", Date{2026, time.October, 4}},
		{"Pacific/Apia", Date{2011, time.December, 30}},
		{"Asia/Shanghai", Date{2026, time.March, 29}},
	}
	for _, c := range cases {
		t.Run(c.zone+"/"+c.date.String(), func(t *testing.T) {
			loc := zone(t, c.zone)
			// the wall clock, minute by minute, from two days before
			from := time.Date(c.date.Year, c.date.Month, c.date.Day-2, 0, 0, 0, 0, time.UTC)
			var instants []time.Time
			var walls []time.Time
			for u := from; u.Before(from.Add(5 * 24 * time.Hour)); u = u.Add(time.Minute) {
				instants = append(instants, u)
				walls = append(walls, wall(u.In(loc)))
			}
			first := func(w time.Time) time.Time {
				for i, v := range walls {
					if !v.Before(w) {
						return instants[i]
					}
				}
				t.Fatalf("no instant shows %v", w)
				return time.Time{}
			}
			for m := time.Duration(0); m < 48*time.Hour; m += time.Minute {
				y, mo, d := c.date.AddDays(-1).Year, c.date.AddDays(-1).Month, c.date.AddDays(-1).Day
				got := Clock(y, mo, d, m, loc)
				want := first(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(m))
				if !got.Equal(want) {
					t.Fatalf("Clock(%04d-%02d-%02d + %v) = %v, want %v", y, mo, d, m, got, want.In(loc))
				}
				if got.Location() != loc {
					t.Fatalf("Clock gives a time in %v, want %v", got.Location(), loc)
				}
			}
		})
	}
	// the examples of the documentation
	berlin := zone(t, "Europe/Berlin")
	if got := Clock(2026, time.March, 29, tod(2, 30), berlin); got.Format(time.RFC3339) != "2026-03-29T03:00:00+02:00" {
		t.Errorf("02:30 in the spring gap is %v, want 03:00 CEST", got)
	}
	if got := Clock(2026, time.October, 25, tod(2, 30), berlin); got.Format(time.RFC3339) != "2026-10-25T02:30:00+02:00" {
		t.Errorf("02:30 in the autumn repeat is %v, want its first pass, 02:30 CEST", got)
	}
}

func BenchmarkCalendarState(b *testing.B) {
	loc := zone(b, "Europe/Berlin")
	cal := &Calendar{ID: "two", Shifts: []Shift{everyDay("early", tod(7, 30), tod(15, 30)), everyDay("night", tod(22, 0), tod(6, 0))}}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		cal.State(at)
	}
}

// wall is t's wall-clock reading written as a UTC time.
func wall(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// TestParseTime: a time without an offset is plant time, on the plant's
// wall clock; one with an offset is that instant, shown in the plant's zone.
func TestParseTime(t *testing.T) {
	berlin, shanghai := zone(t, "Europe/Berlin"), zone(t, "Asia/Shanghai")
	cases := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 in loc
	}{
		{"2026-03-20T16:00", shanghai, "2026-03-20T16:00:00+08:00"},
		{"2026-03-20T16:00:00", shanghai, "2026-03-20T16:00:00+08:00"},
		{"2026-03-20T16:00:00.250", shanghai, "2026-03-20T16:00:00.25+08:00"},
		{"2026-03-20 16:00", shanghai, "2026-03-20T16:00:00+08:00"},
		{" 2026-03-20 ", shanghai, "2026-03-20T00:00:00+08:00"},
		{"2026-03-20T08:00:00Z", shanghai, "2026-03-20T16:00:00+08:00"},
		{"2026-03-20T09:00+01:00", shanghai, "2026-03-20T16:00:00+08:00"},
		{"2026-03-29T02:30", berlin, "2026-03-29T03:00:00+02:00"}, // in the gap: its end
		{"2026-10-25T02:30", berlin, "2026-10-25T02:30:00+02:00"}, // twice: the first
		{"2026-10-25T02:30:00+01:00", berlin, "2026-10-25T02:30:00+01:00"},
	}
	for _, c := range cases {
		got, err := ParseTime(c.in, c.loc)
		if err != nil || got.Format(time.RFC3339Nano) != c.want || got.Location() != c.loc {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %s", c.in, c.loc, got.Format(time.RFC3339Nano), err, c.want)
		}
	}
	for _, bad := range []string{"", "2026-03-20T16", "20.3.2026 16:00", "2026-02-30T08:00", "16:00", "2026-03-20T25:00"} {
		if _, err := ParseTime(bad, shanghai); err == nil || !strings.Contains(err.Error(), "plant time, Asia/Shanghai") {
			t.Errorf("ParseTime(%q): %v, want an error naming the plant's zone", bad, err)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-03-20T16:00", "2026-03-20T16:00:00", "2026-03-20", "2026-03-20 16:00:05.5", "2026-03-29T02:30", "2026-10-25T02:30", "2026-03-20T08:00:00Z", "2026-03-20T09:00+01:00", "x"} {
		f.Add(s)
	}
	berlin := zone(f, "Europe/Berlin")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, berlin)
		if err != nil {
			return
		}
		if got.Location() != berlin {
			t.Fatalf("%q: in %v", s, got.Location())
		}
		back, err := ParseTime(got.Format(time.RFC3339Nano), berlin)
		if err != nil || !back.Equal(got) {
			t.Fatalf("%q → %v → %v, %v", s, got, back, err)
		}
	})
}
