// Package signal is what the connectors share at the plant's edge: it
// turns a raw value read from a plant (an OPC UA variable, an MQTT
// payload, a Sparkplug metric) into an event of the shared vocabulary, as
// the plant file's tag map says (which asset, which signal, and for
// machine states how raw values map onto states); it reads the tag map's
// credentials from the environment (ExpandEnv); and it names what every
// connector hands its events to (Sink).
package signal

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"twin/plant"
	"twin/plant/event"
)

// Value is a raw value: a number or a string.
type Value struct {
	Num   float64
	Str   string
	IsStr bool
}

// Num and Str make Values.
func Num(v float64) Value { return Value{Num: v} }
func Str(s string) Value  { return Value{Str: s, IsStr: true} }
func (v Value) String() string {
	if v.IsStr {
		return v.Str
	}
	return strconv.FormatFloat(v.Num, 'g', -1, 64)
}

// Event makes the event of signal sig of asset at time t (Unix ns).
//
// States: a value found in vmap (by its text) is replaced by the state name
// there; a name is one of event.States ("running", "down", …, any case); a
// number is the twin's state code (event.MachineState: 0 unknown, 1 off,
// 2 idle, 3 setup, 4 running, 5 down, 6 maintenance, 7 blocked, 8
// starved). PackML or vendor codes need a value_map. Counters and
// measurements must be finite numbers (numeric strings are accepted). An
// order is any string or number.
func Event(t int64, asset string, sig plant.Signal, v Value, vmap map[string]string) (event.Event, error) {
	e := event.Event{Time: t, Asset: asset}
	switch sig {
	case plant.SignalState:
		e.Kind = event.State
		raw := v.String()
		if m, ok := vmap[raw]; ok {
			raw = m
			v = Str(m)
		}
		if v.IsStr {
			if n, err := strconv.ParseFloat(raw, 64); err == nil {
				v = Num(n)
			} else {
				st, err := event.ParseState(strings.ToLower(strings.TrimSpace(raw)))
				if err != nil {
					return e, fmt.Errorf("state %q: not a state name (%s) and not in the value_map", raw, stateNames())
				}
				e.Value = float64(st)
				return e, nil
			}
		}
		if v.Num != math.Trunc(v.Num) || v.Num < 0 || int(v.Num) >= len(event.States()) {
			return e, fmt.Errorf("state %v: not a state code 0–%d; give a value_map", v.Num, len(event.States())-1)
		}
		e.Value = v.Num
	case plant.SignalGood, plant.SignalReject:
		e.Kind, e.Name = event.Counter, string(sig)
		n, err := number(v)
		if err != nil {
			return e, err
		}
		e.Value = n
	case plant.SignalPower, plant.SignalEnergy:
		e.Kind, e.Name = event.Measure, string(sig)
		n, err := number(v)
		if err != nil {
			return e, err
		}
		e.Value = n
	case plant.SignalOrder:
		// the order in process: an OpStarted without an operation name
		e.Kind, e.Ref = event.OpStarted, v.String()
	default:
		return e, fmt.Errorf("unknown signal %q", sig)
	}
	return e, nil
}

func number(v Value) (float64, error) {
	n := v.Num
	if v.IsStr {
		var err error
		if n, err = strconv.ParseFloat(strings.TrimSpace(v.Str), 64); err != nil {
			return 0, fmt.Errorf("%q is not a number", v.Str)
		}
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%v is not a finite number", n)
	}
	return n, nil
}

func stateNames() string {
	var s []string
	for _, st := range event.States() {
		s = append(s, st.String())
	}
	return strings.Join(s, ", ")
}

// Of returns the signal an event carries and its value, for publishers
// (the virtual plant): ok is false for events no signal carries.
func Of(e event.Event) (sig plant.Signal, v Value, ok bool) {
	switch e.Kind {
	case event.State:
		return plant.SignalState, Str(event.MachineState(e.Value).String()), true
	case event.Counter:
		switch e.Name {
		case "good":
			return plant.SignalGood, Num(e.Value), true
		case "reject":
			return plant.SignalReject, Num(e.Value), true
		}
	case event.Measure:
		switch e.Name {
		case "power_kw":
			return plant.SignalPower, Num(e.Value), true
		case "energy_kwh":
			return plant.SignalEnergy, Num(e.Value), true
		}
	case event.OpStarted:
		order, _, _ := strings.Cut(e.Ref, "/")
		return plant.SignalOrder, Str(order), true
	}
	return "", Value{}, false
}
