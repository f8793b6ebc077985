package signal

import (
	"testing"

	"twin/plant"
	"twin/plant/event"
)

func TestEvent(t *testing.T) {
	vmap := map[string]string{"3": "running", "17": "down"}
	cases := []struct {
		sig  plant.Signal
		v    Value
		kind event.Kind
		val  float64
		bad  bool
	}{
		{plant.SignalState, Str("Running"), event.State, float64(event.Running), false},
		{plant.SignalState, Num(3), event.State, float64(event.Running), false},
		{plant.SignalState, Str("17"), event.State, float64(event.Down), false},
		{plant.SignalState, Num(5), event.State, float64(event.Down), false},
		{plant.SignalState, Num(42), 0, 0, true},
		{plant.SignalState, Str("exploded"), 0, 0, true},
		{plant.SignalGood, Num(41), event.Counter, 41, false},
		{plant.SignalReject, Str(" 2 "), event.Counter, 2, false},
		{plant.SignalPower, Str("lots"), 0, 0, true},
		{plant.SignalEnergy, Num(12.5), event.Measure, 12.5, false},
	}
	for _, c := range cases {
		e, err := Event(1, "W1", c.sig, c.v, vmap)
		if (err != nil) != c.bad {
			t.Errorf("%s %v: error %v", c.sig, c.v, err)
			continue
		}
		if !c.bad && (e.Kind != c.kind || e.Value != c.val || e.Asset != "W1") {
			t.Errorf("%s %v: %+v", c.sig, c.v, e)
		}
	}
	// publishers and subscribers agree
	for _, e := range []event.Event{{Kind: event.State, Value: float64(event.Setup)}, {Kind: event.Counter, Name: "good", Value: 7}, {Kind: event.Measure, Name: "energy_kwh", Value: 3}} {
		sig, v, ok := Of(e)
		back, err := Event(0, "", sig, v, nil)
		if !ok || err != nil || back.Kind != e.Kind || back.Value != e.Value {
			t.Errorf("%+v → %s %v → %+v %v", e, sig, v, back, err)
		}
	}
}

func TestExpandEnv(t *testing.T) {
	t.Setenv("TWIN_TEST_SECRET", "s3cret")
	for _, c := range []struct{ in, want string }{
		{"$TWIN_TEST_SECRET", "s3cret"},
		{"$TWIN_TEST_UNSET_VARIABLE", ""},
		{"plain", "plain"},
		{"$", "$"},
		{"", ""},
		{"pa$$word", "pa$$word"},
	} {
		if got := ExpandEnv(c.in); got != c.want {
			t.Errorf("ExpandEnv(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
