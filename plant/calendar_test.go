package plant

import (
	"fmt"
	"testing"
	"time"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

func tod(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

// everyDay is a shift worked on all seven days.
func everyDay(name string, start, end time.Duration) Shift {
	return Shift{Name: name, Days: [7]bool{true, true, true, true, true, true, true}, Start: start, End: end}
}

// changeDays are a spring and an autumn change day of Europe/Berlin and a
// zone without daylight saving on the same dates.
var changeDays = []struct {
	zone   string
	date   Date
	length time.Duration // the day's real length
}{
	{"Europe/Berlin", Date{2026, time.March, 29}, 23 * time.Hour},
	{"Europe/Berlin", Date{2026, time.October, 25}, 25 * time.Hour},
	{"Asia/Shanghai", Date{2026, time.March, 29}, 24 * time.Hour},
	{"Asia/Shanghai", Date{2026, time.October, 25}, 24 * time.Hour},
}

// working sums the calendar's working time in [from, to), walking State
// from change to change, and returns the stretches it saw.
func working(t *testing.T, c *Calendar, from, to time.Time) (time.Duration, []string) {
	t.Helper()
	var sum time.Duration
	var seen []string
	for at, n := from, 0; at.Before(to); n++ {
		if n > 100 {
			t.Fatalf("State does not advance at %v", at)
		}
		w, shift, next := c.State(at)
		if next.IsZero() || !next.After(at) {
			t.Fatalf("State(%v) = %v %q until %v", at, w, shift, next)
		}
		end := next
		if end.After(to) {
			end = to
		}
		if w {
			sum += end.Sub(at)
			seen = append(seen, fmt.Sprintf("%s %s–%s", shift, at.Format("15:04 MST"), end.Format("15:04 MST")))
		}
		at = end
	}
	return sum, seen
}

// TestShiftsOnChangeDays: a shift's times of day are the plant's wall
// clock, so an 07:30–15:30 shift is 8 h of elapsed time on every day, and
// a night shift 22:00–06:00 over a change is 7 h in spring, 9 h in autumn
// (8 h where the clock does not change). Midnight plus elapsed time, the
// old arithmetic, put the early shift at 08:30–16:30 on the spring day and
// the night shift at 7 h 22:00 CET–07:00 CEST.
func TestShiftsOnChangeDays(t *testing.T) {
	for _, cd := range changeDays {
		t.Run(cd.zone+"/"+cd.date.String(), func(t *testing.T) {
			loc := zone(t, cd.zone)
			day := time.Date(cd.date.Year, cd.date.Month, cd.date.Day, 0, 0, 0, 0, loc)
			next := time.Date(cd.date.Year, cd.date.Month, cd.date.Day+1, 0, 0, 0, 0, loc)
			if got := next.Sub(day); got != cd.length {
				t.Fatalf("the day is %v long, want %v", got, cd.length)
			}
			early := &Calendar{ID: "early", Shifts: []Shift{everyDay("early", tod(7, 30), tod(15, 30))}}
			sum, seen := working(t, early, day, next)
			if sum != 8*time.Hour {
				t.Errorf("early shift: %v of work, want 8h: %v", sum, seen)
			}
			if w, _, end := early.State(day.Add(5 * time.Hour)); w || end.Hour() != 7 || end.Minute() != 30 {
				t.Errorf("before the early shift: working %v until %v, want 07:30", w, end)
			}
			if w, _, end := early.State(time.Date(cd.date.Year, cd.date.Month, cd.date.Day, 9, 0, 0, 0, loc)); !w || end.Hour() != 15 || end.Minute() != 30 {
				t.Errorf("in the early shift: working %v until %v, want 15:30", w, end)
			}

			// the night shift that starts the evening before
			night := &Calendar{ID: "night", Shifts: []Shift{everyDay("night", tod(22, 0), tod(6, 0))}}
			eve := time.Date(cd.date.Year, cd.date.Month, cd.date.Day-1, 20, 0, 0, 0, loc)
			noon := time.Date(cd.date.Year, cd.date.Month, cd.date.Day, 12, 0, 0, 0, loc)
			want := 8*time.Hour + cd.length - 24*time.Hour
			sum, seen = working(t, night, eve, noon)
			if sum != want {
				t.Errorf("night shift over the change: %v of work, want %v: %v", sum, want, seen)
			}
			if w, _, end := night.State(day.Add(30 * time.Minute)); !w || end.Hour() != 6 || end.Minute() != 0 {
				t.Errorf("in the night shift: working %v until %v, want 06:00", w, end)
			}

			// two shifts and a break: 16 h less the break, whatever the day's length
			two := &Calendar{ID: "two", Shifts: []Shift{everyDay("early", tod(6, 0), tod(14, 0)), everyDay("late", tod(14, 0), tod(22, 0))}}
			two.Shifts[1].Breaks = []Span{{tod(18, 0), tod(18, 30)}}
			if sum, seen := working(t, two, day, next); sum != 15*time.Hour+30*time.Minute {
				t.Errorf("two shifts: %v of work, want 15h30m: %v", sum, seen)
			}
		})
	}
}

// TestShiftBoundaryInGapOrRepeat: a boundary in the spring gap falls at
// the instant the gap ends; one in the autumn repeat at its first pass
// (plant/FORMAT.md, "Daylight saving").
func TestShiftBoundaryInGapOrRepeat(t *testing.T) {
	loc := zone(t, "Europe/Berlin")
	utc := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, time.UTC) }
	// 01:00–02:30 and 02:30–05:00 on both change days
	cal := &Calendar{ID: "c", Shifts: []Shift{everyDay("a", tod(1, 0), tod(2, 30)), everyDay("b", tod(2, 30), tod(5, 0))}}
	cases := []struct {
		name  string
		at    time.Time
		shift string
		until time.Time
	}{
		// spring: 02:00 CET is followed by 03:00 CEST (01:00 UTC); 02:30 does not exist
		{"spring a", utc(3, 29, 0, 30), "a", utc(3, 29, 1, 0)},
		{"spring b", utc(3, 29, 1, 0), "b", utc(3, 29, 3, 0)},
		// autumn: 02:30 CEST is 00:30 UTC; the second 02:30 (CET) an hour later is in b
		{"autumn a", utc(10, 24, 23, 30), "a", utc(10, 25, 0, 30)},
		{"autumn b, first pass", utc(10, 25, 0, 45), "b", utc(10, 25, 4, 0)},
		{"autumn b, second pass", utc(10, 25, 1, 15), "b", utc(10, 25, 4, 0)},
	}
	for _, c := range cases {
		w, shift, until := cal.State(c.at.In(loc))
		if !w || shift != c.shift || !until.Equal(c.until) {
			t.Errorf("%s: at %v working %v in %q until %v UTC, want %q until %v UTC", c.name, c.at.In(loc), w, shift, until.UTC(), c.shift, c.until)
		}
	}
	a := &Calendar{ID: "a", Shifts: cal.Shifts[:1]}
	for _, d := range []Date{{2026, time.March, 29}, {2026, time.October, 25}} {
		sum, seen := working(t, a, time.Date(d.Year, d.Month, d.Day-1, 12, 0, 0, 0, loc), time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, loc))
		want := map[time.Month]time.Duration{time.March: time.Hour, time.October: 90 * time.Minute}[d.Month]
		if sum != want {
			t.Errorf("%s: shift 01:00–02:30 works %v, want %v: %v", d, sum, want, seen)
		}
	}
	// a shift entirely inside the gap does not happen; the calendar goes on
	gap := &Calendar{ID: "gap", Shifts: []Shift{everyDay("g", tod(2, 10), tod(2, 50))}}
	w, _, next := gap.State(utc(3, 29, 0, 0).In(loc))
	if w || !next.Equal(utc(3, 30, 0, 10)) {
		t.Errorf("shift in the gap: working %v, next %v UTC, want the next day's 02:10 CEST (00:10 UTC)", w, next.UTC())
	}
}

// the motor plant's bands, without the summer's critical peak
var bands = Tariff{Periods: []TariffPeriod{
	{Name: "peak", Price: 1.12, Hours: []Span{{tod(11, 0), tod(17, 0)}, {tod(20, 0), tod(22, 0)}}},
	{Name: "valley", Price: 0.28, Hours: []Span{{tod(23, 0), tod(7, 0)}}},
	{Name: "flat", Price: 0.70},
}}

// TestTariffOnChangeDays: the bands of a day add up to its real length;
// the valley 23:00–07:00 takes the hour the clock skips or repeats; each
// band begins when the wall clock shows its time.
func TestTariffOnChangeDays(t *testing.T) {
	for _, cd := range changeDays {
		t.Run(cd.zone+"/"+cd.date.String(), func(t *testing.T) {
			loc := zone(t, cd.zone)
			day := time.Date(cd.date.Year, cd.date.Month, cd.date.Day, 0, 0, 0, 0, loc)
			next := time.Date(cd.date.Year, cd.date.Month, cd.date.Day+1, 0, 0, 0, 0, loc)
			got := map[string]time.Duration{}
			var starts []string
			for at, n := day, 0; at.Before(next); n++ {
				if n > 50 {
					t.Fatalf("At does not advance at %v", at)
				}
				p, until := bands.At(at)
				if p == nil || !until.After(at) {
					t.Fatalf("At(%v) = %v until %v", at, p, until)
				}
				if until.After(next) {
					t.Fatalf("At(%v): %s until %v, after the day's end %v", at, p.Name, until, next)
				}
				got[p.Name] += until.Sub(at)
				starts = append(starts, p.Name+" "+at.Format("15:04"))
				at = until
			}
			extra := cd.length - 24*time.Hour
			want := map[string]time.Duration{"valley": 8*time.Hour + extra, "flat": 8 * time.Hour, "peak": 8 * time.Hour}
			var sum time.Duration
			for name, d := range got {
				sum += d
				if d != want[name] {
					t.Errorf("%s: %v, want %v (%v)", name, d, want[name], starts)
				}
			}
			if sum != cd.length {
				t.Errorf("the bands add up to %v, want %v", sum, cd.length)
			}
			wantStarts := "[valley 00:00 flat 07:00 peak 11:00 flat 17:00 peak 20:00 flat 22:00 valley 23:00]"
			if s := fmt.Sprint(starts); s != wantStarts {
				t.Errorf("bands start at %s, want %s", s, wantStarts)
			}
			// a cost at a constant 1 kW: each hour at its band's price
			var cost float64
			for name, d := range got {
				for _, p := range bands.Periods {
					if p.Name == name {
						cost += d.Hours() * p.Price
					}
				}
			}
			if wantCost := (8+extra.Hours())*0.28 + 8*0.70 + 8*1.12; fmt.Sprintf("%.4f", cost) != fmt.Sprintf("%.4f", wantCost) {
				t.Errorf("1 kW for the day costs %.4f, want %.4f", cost, wantCost)
			}
		})
	}
}
