package plant

import (
	"time"

	"twin/sim"
)

// SimTime maps a plant clock reading onto simulated time (nanoseconds since
// Start).
func (p *Plant) SimTime(t time.Time) sim.Time { return sim.Time(t.Sub(p.Start)) }

// Time maps simulated time onto the plant clock.
func (p *Plant) Time(t sim.Time) time.Time { return p.Start.Add(time.Duration(t)) }

// Contains reports whether the time of day tod lies in the span.
func (s Span) Contains(tod time.Duration) bool {
	if s.To < s.From { // crosses midnight
		return tod >= s.From || tod < s.To
	}
	return tod >= s.From && tod < s.To
}

// Is reports whether t falls on the date d (in t's location).
func (d Date) Is(t time.Time) bool {
	y, m, dd := t.Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

func (d Date) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// DateOf is the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// AddDays is the date n calendar days after d.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
}

// At is the instant at which the wall clock of loc shows the time of day
// tod on the date d (tod of 24 h or more runs into the following days):
// Clock(d.Year, d.Month, d.Day, tod, loc).
func (d Date) At(tod time.Duration, loc *time.Location) time.Time {
	return Clock(d.Year, d.Month, d.Day, tod, loc)
}

// Clock is the instant at which the wall clock of loc first shows the
// date y-m-d and the time of day tod, or a later one: the wall-clock time
// of the plant, not midnight plus an elapsed duration (which is an hour
// off on a daylight-saving change day). A time of day of 24 h or more
// runs into the following days. On a change day:
//
//   - a time in the spring gap (02:30 in Europe/Berlin on 2026-03-29,
//     when the clock jumps from 02:00 to 03:00) is the instant the gap
//     ends (03:00 CEST): the first instant the clock shows it or later;
//   - a time in the autumn repeat (02:30 on 2026-10-25, shown at 02:30
//     CEST and again an hour later at 02:30 CET) is its first pass.
//
// Unlike time.Date, which leaves both cases open, the answer is defined.
func Clock(y int, m time.Month, d int, tod time.Duration, loc *time.Location) time.Time {
	h, rest := tod/time.Hour, tod%time.Hour
	mi, rest := rest/time.Minute, rest%time.Minute
	sec, ns := rest/time.Second, rest%time.Second
	t := time.Date(y, m, d, int(h), int(mi), int(sec), int(ns), loc)
	// w is the wanted wall-clock reading, written as a UTC time.
	w := time.Date(y, m, d, int(h), int(mi), int(sec), int(ns), time.UTC)
	// No zone change within a day and more either side (offsets differ
	// by less than that): t is the one instant showing w.
	const near = 27 * time.Hour
	if _, off := t.Zone(); t.Unix()+int64(off) == w.Unix() {
		if start, end := t.ZoneBounds(); (start.IsZero() || t.Sub(start) > near) && (end.IsZero() || end.Sub(t) > near) {
			return t
		}
	}
	// Otherwise: within each stretch of one offset the wall clock runs
	// evenly, so the first instant of a stretch [s, e) showing w or later
	// is max(s, w - offset) if that is before e. The first such stretch
	// from a day before w has the answer.
	for u := w.Add(-near); ; {
		in := u.In(loc)
		_, off := in.Zone()
		s, e := in.ZoneBounds()
		c := w.Add(-time.Duration(off) * time.Second)
		if !s.IsZero() && c.Before(s) {
			c = s
		}
		if e.IsZero() || c.Before(e) {
			return c.In(loc)
		}
		u = e
	}
}

func (c *Calendar) holiday(day Date) bool {
	for _, h := range c.Holidays {
		if h == day {
			return true
		}
	}
	return false
}

// interval is one stretch of working time of a shift.
type interval struct {
	from, to time.Time
	shift    string
}

// intervals appends the working intervals of the shifts that start on day,
// breaks removed, in time order per shift. Times of day are wall-clock
// times in loc (Clock): on a daylight-saving change day a shift is an
// hour shorter or longer than its times of day say.
func (c *Calendar) intervals(day Date, loc *time.Location, out []interval) []interval {
	if c.holiday(day) {
		return out
	}
	for _, s := range c.Shifts {
		if !s.Days[day.Weekday()] {
			continue
		}
		end := s.End
		if end <= s.Start {
			end += 24 * time.Hour
		}
		from := s.Start
		// breaks, as times of day (24 h and more: the next day) within [Start, end)
		for {
			cut, resume := end, end
			for _, b := range s.Breaks {
				bf, bt := b.From, b.To
				if bf < s.Start {
					bf += 24 * time.Hour
				}
				if bt <= bf {
					bt += 24 * time.Hour
				}
				if bf >= from && bf < cut {
					cut, resume = bf, min(bt, end)
				}
			}
			if cut > from {
				// a stretch inside the spring gap is empty
				if a, b := day.At(from, loc), day.At(cut, loc); b.After(a) {
					out = append(out, interval{a, b, s.Name})
				}
			}
			if cut >= end {
				break
			}
			from = resume
		}
	}
	return out
}

// State says whether the calendar works at t, in which shift, and when
// that next changes (the end of the working stretch, or the start of the
// next one). Times of day are read in t's location (give t in the
// plant's). A calendar that never works returns the zero next time.
func (c *Calendar) State(t time.Time) (working bool, shift string, next time.Time) {
	if c == nil || c.Always || len(c.Shifts) == 0 {
		return true, "", time.Time{}
	}
	loc := t.Location()
	day := DateOf(t)
	var buf [16]interval
	iv := buf[:0]
	iv = c.intervals(day.AddDays(-1), loc, iv) // night shifts from yesterday
	iv = c.intervals(day, loc, iv)
	for _, v := range iv {
		if !t.Before(v.from) && t.Before(v.to) {
			// a stretch that ends where another begins keeps working
			return true, v.shift, c.stretchEnd(v, day, loc)
		}
	}
	for d := 0; d < 400; d++ {
		var next time.Time
		for _, v := range c.intervals(day.AddDays(d), loc, buf[:0]) {
			if v.from.After(t) && (next.IsZero() || v.from.Before(next)) {
				next = v.from
			}
		}
		if !next.IsZero() {
			return false, "", next
		}
	}
	return false, "", time.Time{}
}

// stretchEnd is the end of v, followed through stretches of the same shift
// that start exactly where the previous one ends.
func (c *Calendar) stretchEnd(v interval, day Date, loc *time.Location) time.Time {
	end := v.to
	var buf [16]interval
	for d := -1; d <= 2; d++ {
		for _, w := range c.intervals(day.AddDays(d), loc, buf[:0]) {
			if w.from.Equal(end) && w.shift == v.shift {
				end = w.to
			}
		}
	}
	return end
}

// At returns the tariff period in force at t (nil if none matches) and the
// time until which that answer holds. Hours are wall-clock times of t's
// location (Clock): a band from 23:00 to 07:00 is 7 h long on a spring
// change day and 9 h on an autumn one, and the bands of a day add up to
// the day's real length.
func (tf *Tariff) At(t time.Time) (*TariffPeriod, time.Time) {
	loc := t.Location()
	day := DateOf(t)
	midnight := day.At(0, loc)
	until := day.AddDays(1).At(0, loc)
	var found *TariffPeriod
	m := t.Month()
	for i := range tf.Periods {
		p := &tf.Periods[i]
		match := found == nil && (p.anyMonth() || p.Months[m])
		if match && len(p.Hours) == 0 {
			found = p
		}
		for _, h := range p.Hours {
			from, to := day.At(h.From, loc), day.At(h.To, loc)
			for _, b := range [2]time.Time{from, to} {
				if b.After(t) && b.Before(until) {
					until = b
				}
			}
			in := !t.Before(from) && t.Before(to)
			if h.To < h.From { // crosses midnight
				in = !t.Before(from) || !t.Before(midnight) && t.Before(to)
			}
			if match && in {
				found = p
			}
		}
	}
	return found, until
}

func (p *TariffPeriod) anyMonth() bool {
	for _, b := range p.Months {
		if b {
			return false
		}
	}
	return true
}
