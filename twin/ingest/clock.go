package ingest

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"twin/plant/event"
)

// The default bounds of a reading's own time, against the receive clock.
const (
	// DefaultMaxSkew: a reading may be stamped up to 5 minutes ahead of
	// the receive clock. Clocks kept by NTP agree within milliseconds; a
	// PLC's battery-backed clock set by hand drifts by seconds a day. Five
	// minutes is the tolerance Kerberos uses between hosts (RFC 4120,
	// "typically on the order of 5 minutes"): wide enough for drift, and
	// it bounds how far one bad clock can carry the twin's. A gateway that
	// sends local time as UTC (hours ahead east of Greenwich) is caught.
	DefaultMaxSkew = 5 * time.Minute
	// DefaultMaxAge: a reading may be up to 30 days old. A gateway's
	// store-and-forward buffer and the broker's persistent session hand
	// over what they kept during an outage hours or days later (a plant
	// closed over the Spring Festival, a twin down for a fortnight), and
	// that history is real. A clock that lost its battery starts at 1970
	// or 2000, decades behind: that is no outage.
	DefaultMaxAge = 30 * 24 * time.Hour
)

// Clock is the twin's receive clock and the bounds a reading's own time
// must keep. A reading stamped more than MaxSkew ahead of the receive
// clock, or more than MaxAge behind it, is quarantined: it becomes a
// Fault event that keeps it in the history (see Quarantine), and it
// never reaches the state, so it cannot move the twin's clock.
//
// The zero Clock is the default: time.Now with DefaultMaxSkew and
// DefaultMaxAge.
type Clock struct {
	// Now is the receive clock (default time.Now): the connectors stamp
	// readings that carry no time with it. The twin of a simulated plant
	// gives the plant's clock here.
	Now func() time.Time
	// MaxSkew is how far ahead of Now a reading may be stamped; 0 means
	// DefaultMaxSkew, negative no bound.
	MaxSkew time.Duration
	// MaxAge is how far behind Now a reading may be stamped; 0 means
	// DefaultMaxAge, negative no bound.
	MaxAge time.Duration
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Clock) WithDefaults() Clock {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxSkew == 0 {
		c.MaxSkew = DefaultMaxSkew
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	return c
}

// Reason says why a reading is quarantined.
type Reason uint8

const (
	InBounds Reason = iota // not quarantined
	// Ahead: stamped more than MaxSkew ahead of the receive clock.
	Ahead
	// Old: stamped more than MaxAge behind the receive clock.
	Old
	numReasons
)

var reasonNames = [numReasons]string{"", "ahead", "old"}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "reason" + strconv.Itoa(int(r))
}

// Reasons lists the reasons a reading is quarantined for.
func Reasons() []Reason { return []Reason{Ahead, Old} }

// FaultName is the Name of the Fault event that stands for a reading
// quarantined for r: "quarantine/ahead", "quarantine/old".
func (r Reason) FaultName() string {
	switch r {
	case Ahead:
		return "quarantine/ahead"
	case Old:
		return "quarantine/old"
	}
	return ""
}

// ReasonOf returns the reason of a quarantine Fault (one Quarantine
// made), or InBounds for any other event.
func ReasonOf(e *event.Event) Reason {
	if e.Kind != event.Fault {
		return InBounds
	}
	switch e.Name {
	case "quarantine/ahead":
		return Ahead
	case "quarantine/old":
		return Old
	}
	return InBounds
}

// Check returns why a reading stamped t, received at now (both Unix ns),
// is quarantined, or InBounds. c must have its defaults (WithDefaults).
// It costs two comparisons and never allocates.
func (c Clock) Check(t, now int64) Reason {
	if c.MaxSkew >= 0 && t > now && uint64(t)-uint64(now) > uint64(c.MaxSkew) {
		return Ahead
	}
	if c.MaxAge >= 0 && t < now && uint64(now)-uint64(t) > uint64(c.MaxAge) {
		return Old
	}
	return InBounds
}

// Quarantine returns the Fault event that keeps reading e, received at
// now and quarantined for r, in the history:
//
//   - Time: now, the receive time (a Fault does not move the twin's clock);
//   - Asset: e's asset, so the asset's history shows it; Source: e's;
//   - Name: r.FaultName(); Quality: bad;
//   - Value: the time the reading claimed, in Unix seconds;
//   - Ref: the claimed time (RFC 3339, UTC, to the nanosecond), how far
//     it was off, the reading as the connector mapped it, and raw: what
//     the connector received (the MQTT topic and payload, the OPC UA node
//     and value, the Sparkplug metric). An empty raw says the reading
//     reached ingest without one.
//
// It allocates (the text); it is only called for quarantined readings.
func Quarantine(e event.Event, r Reason, now int64, raw string) event.Event {
	dir := "ahead of"
	if r == Old {
		dir = "behind"
	}
	if raw == "" {
		raw = "(not given by the source)"
	}
	ref := fmt.Sprintf("claimed %s, %s %s the receive clock (%s); reading: %s; received: %s",
		stamp(e.Time), span(e.Time, now), dir, stamp(now), reading(&e), raw)
	return event.Event{Time: now, Kind: event.Fault, Quality: event.Bad, Source: e.Source,
		Asset: e.Asset, Name: r.FaultName(), Ref: ref, Value: float64(e.Time) / 1e9}
}

// stamp formats a Unix ns time for the record: RFC 3339 in UTC.
func stamp(t int64) string {
	return time.Unix(0, t).UTC().Format(time.RFC3339Nano)
}

// span is the distance between a and b, in words a person reads.
func span(a, b int64) string {
	d := uint64(a) - uint64(b)
	if a < b {
		d = uint64(b) - uint64(a)
	}
	switch {
	case d > math.MaxInt64:
		return "more than 292 years"
	case d >= 2*365*24*uint64(time.Hour):
		return fmt.Sprintf("%.1f years", float64(d)/float64(365.25*24*float64(time.Hour)))
	case d >= 2*24*uint64(time.Hour):
		return fmt.Sprintf("%.1f days", float64(d)/float64(24*time.Hour))
	}
	return time.Duration(d).Round(time.Millisecond).String()
}

// reading describes an event as a connector mapped it.
func reading(e *event.Event) string {
	s := e.Kind.String()
	if e.Asset != "" {
		s += " " + e.Asset
	}
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.Ref != "" {
		s += " ref=" + e.Ref
	}
	if e.Kind == event.State {
		return s + " " + event.MachineState(e.Value).String()
	}
	return s + " " + strconv.FormatFloat(e.Value, 'g', -1, 64)
}

// UnixNano returns t in Unix nanoseconds, saturated at the ends of int64
// (about the years 1678 and 2262) where time.Time.UnixNano is undefined:
// a connector that converts a source's timestamp with it never turns a
// far-off time into a plausible one by overflow, and Check quarantines
// the saturated value.
func UnixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// UnixMilli returns ms milliseconds since 1970 in nanoseconds, saturated
// at the end of int64.
func UnixMilli(ms uint64) int64 {
	if ms > math.MaxInt64/1_000_000 {
		return math.MaxInt64
	}
	return int64(ms) * 1e6
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)
