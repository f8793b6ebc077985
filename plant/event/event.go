// Package event is the one vocabulary a live, a replayed and a simulated
// plant speak: time-stamped observations of equipment, parts and orders.
//
// Every source (the OPC UA and MQTT connectors, the history store, the
// simulator) turns what it sees into Events; every consumer (the state fold,
// the store, the MES records, the views) reads Events and never asks where
// they came from. Protocol names (OPC UA node ids, MQTT topics) never appear
// here: the connectors map them to assets and names at the edge.
//
// It is not a message format: encodings (JSON for the web feed, the binary
// record of the store) live with their users.
package event

import (
	"fmt"
	"strconv"
	"time"
)

// Kind says what an Event reports.
type Kind uint8

const (
	// State: Asset's machine state changed to State(Value).
	State Kind = iota + 1
	// Counter: the counter Name of Asset ("good", "reject", "rework",
	// "produced") now reads Value (cumulative).
	Counter
	// Measure: the measurement Name of Asset ("power_kw", "energy_kwh",
	// "temperature_c", …) now reads Value.
	Measure
	// Moved: part Ref arrived at Asset (a buffer or a station) from Name
	// (the asset it left, empty when it enters the plant); Value is the
	// occupancy of Asset after the move. A part leaving a buffer (Name a
	// buffer) lowers that buffer's level by one.
	Moved
	// OpStarted: operation Name on part Ref started at station Asset.
	OpStarted
	// OpFinished: operation Name on part Ref finished at station Asset;
	// Value is 1 if the part is good, 0 if it failed inspection.
	OpFinished
	// Alarm: Asset raised alarm Name (Ref holds its text, Value its
	// severity 1–1000 as in OPC UA); Value 0 clears it.
	Alarm
	// Order: order Ref changed to status Name (released, progress,
	// completed, …); Value is the quantity completed so far (a
	// "progress" never lowers it: the records and the plant may both
	// report it), except:
	// "released" carries the order quantity, "due" the due date (Unix
	// seconds) and "priority" the customer priority (an index into the
	// plant's priorities), and none of these three changes the status.
	// Asset names the product the order is for.
	Order
	// Fault: a value Asset/Name could not be understood (a malformed
	// message, a wrong type); Ref says what was wrong. Ingest counts and
	// logs these and carries on.
	Fault
)

var kindNames = [...]string{"", "state", "counter", "measure", "moved", "op_started", "op_finished", "alarm", "order", "fault"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "kind" + strconv.Itoa(int(k))
}

// ParseKind parses a Kind's String form.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("event: unknown kind %q", s)
}

// MachineState is the state of a station, after the PackML and OPC UA
// Machinery state models reduced to what OEE and the views need. The order
// is fixed: values are stored and sent as numbers.
type MachineState uint8

const (
	Unknown     MachineState = iota
	Off                      // outside its calendar (no shift), powered down
	Idle                     // available, nothing to do and nothing waiting upstream
	Setup                    // changing over
	Running                  // processing a part (value adding)
	Down                     // failed, waiting for or under repair
	Maintenance              // planned maintenance
	Blocked                  // finished part cannot leave: the next buffer is full
	Starved                  // available and waiting for parts or an operator
)

var stateNames = [...]string{"unknown", "off", "idle", "setup", "running", "down", "maintenance", "blocked", "starved"}

func (s MachineState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state" + strconv.Itoa(int(s))
}

// ParseState parses a MachineState's String form.
func ParseState(s string) (MachineState, error) {
	for i, n := range stateNames {
		if n == s {
			return MachineState(i), nil
		}
	}
	return 0, fmt.Errorf("event: unknown machine state %q", s)
}

// States lists every machine state in order.
func States() []MachineState {
	out := make([]MachineState, len(stateNames))
	for i := range out {
		out[i] = MachineState(i)
	}
	return out
}

// Quality is the OPC UA-style quality of a value.
type Quality uint8

const (
	Good Quality = iota
	Uncertain
	Bad
)

func (q Quality) String() string {
	switch q {
	case Good:
		return "good"
	case Uncertain:
		return "uncertain"
	case Bad:
		return "bad"
	}
	return "quality" + strconv.Itoa(int(q))
}

// Source says where the data came from. Views show it on every frame.
type Source uint8

const (
	Live Source = iota + 1
	Replay
	Scenario
	Forecast
)

func (s Source) String() string {
	switch s {
	case Live:
		return "live"
	case Replay:
		return "replay"
	case Scenario:
		return "scenario"
	case Forecast:
		return "forecast"
	}
	return "source" + strconv.Itoa(int(s))
}

// ParseSource parses a Source's String form.
func ParseSource(s string) (Source, error) {
	for _, v := range []Source{Live, Replay, Scenario, Forecast} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("event: unknown source %q", s)
}

// Event is one observation. Strings refer to the plant's own names
// (interned by the plant), so producing an event allocates nothing.
type Event struct {
	Time    int64 // Unix nanoseconds
	Kind    Kind
	Quality Quality
	Source  Source
	Asset   string // equipment path: site/area/line/workcenter/unit, or a buffer's path
	Name    string // the counter, measurement, operation, alarm or origin; see Kind
	Ref     string // the part, job or order concerned
	Value   float64
}

// At returns the event time as a time.Time.
func (e Event) At() time.Time { return time.Unix(0, e.Time) }

func (e Event) String() string {
	v := strconv.FormatFloat(e.Value, 'g', -1, 64)
	if e.Kind == State {
		v = MachineState(e.Value).String()
	}
	s := e.At().UTC().Format("2006-01-02T15:04:05.000000000Z") + " " + e.Kind.String() + " " + e.Asset
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.Ref != "" {
		s += " ref=" + e.Ref
	}
	return s + " " + v
}

// A Sink receives events. It is declared here because every source needs
// it; implementations live with their owners (the store, the state, the
// feed).
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

func (f SinkFunc) Emit(e Event) { f(e) }
