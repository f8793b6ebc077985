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

// midnight is the start of t's day in t's location.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// addDays moves a midnight by n calendar days (DST-safe).
func addDays(day time.Time, n int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d+n, 0, 0, 0, 0, day.Location())
}

func (c *Calendar) holiday(day time.Time) bool {
	for _, h := range c.Holidays {
		if h.Is(day) {
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

// intervals appends the working intervals of the shifts that start on day
// (a midnight), breaks removed, in time order per shift.
func (c *Calendar) intervals(day time.Time, out []interval) []interval {
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
		// breaks, as offsets from the day's midnight within [Start, end)
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
				out = append(out, interval{day.Add(from), day.Add(cut), s.Name})
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
// next one). A calendar that never works returns the zero next time.
func (c *Calendar) State(t time.Time) (working bool, shift string, next time.Time) {
	if c == nil || c.Always || len(c.Shifts) == 0 {
		return true, "", time.Time{}
	}
	day := midnight(t)
	var buf [16]interval
	iv := buf[:0]
	iv = c.intervals(addDays(day, -1), iv) // night shifts from yesterday
	iv = c.intervals(day, iv)
	for _, v := range iv {
		if !t.Before(v.from) && t.Before(v.to) {
			// a stretch that ends where another begins keeps working
			return true, v.shift, c.stretchEnd(v, day)
		}
	}
	for d := 0; d < 400; d++ {
		var next time.Time
		for _, v := range c.intervals(addDays(day, d), buf[:0]) {
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
func (c *Calendar) stretchEnd(v interval, day time.Time) time.Time {
	end := v.to
	var buf [16]interval
	for d := -1; d <= 2; d++ {
		for _, w := range c.intervals(addDays(day, d), buf[:0]) {
			if w.from.Equal(end) && w.shift == v.shift {
				end = w.to
			}
		}
	}
	return end
}

// At returns the tariff period in force at t (nil if none matches) and the
// time until which that answer holds.
func (tf *Tariff) At(t time.Time) (*TariffPeriod, time.Time) {
	day := midnight(t)
	tod := t.Sub(day)
	next := 24 * time.Hour
	for i := range tf.Periods {
		for _, h := range tf.Periods[i].Hours {
			for _, b := range [2]time.Duration{h.From, h.To} {
				if b > tod && b < next {
					next = b
				}
			}
		}
	}
	until := day.Add(next)
	if next == 24*time.Hour {
		until = addDays(day, 1)
	}
	m := t.Month()
	for i := range tf.Periods {
		p := &tf.Periods[i]
		if p.anyMonth() || p.Months[m] {
			if len(p.Hours) == 0 {
				return p, until
			}
			for _, h := range p.Hours {
				if h.Contains(tod) {
					return p, until
				}
			}
		}
	}
	return nil, until
}

func (p *TariffPeriod) anyMonth() bool {
	for _, b := range p.Months {
		if b {
			return false
		}
	}
	return true
}
