package sim

import (
	"math"
	"strconv"
	"time"
)

// Time is simulated time in integer nanoseconds since the start of a run.
// Integer ticks keep runs deterministic: no float drift, and the same
// arithmetic on every machine. An int64 of nanoseconds spans 292 years.
type Time int64

// Units of simulated time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
	Hour             = 60 * Minute
	Day              = 24 * Hour
	Week             = 7 * Day
)

// MaxTime is the largest representable time; RunUntil(MaxTime) runs forever.
const MaxTime Time = math.MaxInt64

// Duration converts a time.Duration into simulated time.
func Duration(d time.Duration) Time { return Time(d) }

// Std converts simulated time into a time.Duration.
func (t Time) Std() time.Duration { return time.Duration(t) }

// Seconds returns t in seconds as a float64.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// Hours returns t in hours as a float64.
func (t Time) Hours() float64 { return float64(t) / float64(Hour) }

// FromSeconds converts seconds into simulated time, rounding to the nearest
// nanosecond. Negative and NaN inputs give 0; values beyond MaxTime give
// MaxTime. Sampled durations pass through here, so a distribution with a
// negative tail (a normal) never moves the clock backwards.
func FromSeconds(s float64) Time {
	if !(s > 0) {
		return 0
	}
	ns := s * float64(Second)
	if ns >= float64(MaxTime) {
		return MaxTime
	}
	return Time(ns + 0.5)
}

// String formats t like a time.Duration ("1h30m0s"), or "∞" for MaxTime.
func (t Time) String() string {
	if t == MaxTime {
		return "∞"
	}
	return time.Duration(t).String()
}

// Clock formats t as days and wall-clock time: "d3 07:15:02.5".
func (t Time) Clock() string {
	neg := t < 0
	if neg {
		t = -t
	}
	d := t / Day
	r := t % Day
	h, r := r/Hour, r%Hour
	m, r := r/Minute, r%Minute
	s := float64(r) / float64(Second)
	b := make([]byte, 0, 24)
	if neg {
		b = append(b, '-')
	}
	b = append(b, 'd')
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, ' ')
	b = append2(b, int64(h))
	b = append(b, ':')
	b = append2(b, int64(m))
	b = append(b, ':')
	if s < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendFloat(b, s, 'f', -1, 64)
	return string(b)
}

func append2(b []byte, v int64) []byte {
	if v < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, v, 10)
}
