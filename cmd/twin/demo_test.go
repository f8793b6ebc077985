package main

import (
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/twin/datadir"
)

// TestLocalPlant: the demo points a copy of the plant's tag map at its own
// endpoints (no credentials, the security asked for, the demo's own client
// certificate) and leaves the plant it loaded as it was; without an OPC UA
// server the copy has no OPC UA tags.
func TestLocalPlant(t *testing.T) {
	pl, err := datadir.LoadPlant("", "", true)
	if err != nil {
		t.Fatal(err)
	}
	p := pl.Plant
	if len(p.Tags.MQTT) == 0 || len(p.Tags.OPCUA) == 0 {
		t.Fatalf("the reference plant has %d MQTT and %d OPC UA tag maps; the test needs both", len(p.Tags.MQTT), len(p.Tags.OPCUA))
	}
	// a plant's own settings
	p.Tags.MQTT[0].User, p.Tags.OPCUA[0].Policy, p.Tags.OPCUA[0].Cert = "gateway", "Aes128_Sha256_RsaOaep", "plc.pem"
	url, ua := p.Tags.MQTT[0].URL, p.Tags.OPCUA[0].Endpoint
	q := localPlant(p, "tcp://127.0.0.1:1", "opc.tcp://127.0.0.1:2", "Basic256Sha256", "Sign")
	for _, b := range q.Tags.MQTT {
		if b.URL != "tcp://127.0.0.1:1" || b.User != "" || b.Password != "" || b.CA != "" {
			t.Errorf("the demo's broker: %+v", b)
		}
	}
	for _, s := range q.Tags.OPCUA {
		if s.Endpoint != "opc.tcp://127.0.0.1:2" || s.Policy != "Basic256Sha256" || s.Mode != "Sign" || s.User != "" || s.Cert != "" || s.Key != "" {
			t.Errorf("the demo's OPC UA server: %+v", s)
		}
	}
	if p.Tags.MQTT[0].URL != url || p.Tags.MQTT[0].User != "gateway" || p.Tags.OPCUA[0].Endpoint != ua ||
		p.Tags.OPCUA[0].Policy != "Aes128_Sha256_RsaOaep" || p.Tags.OPCUA[0].Cert != "plc.pem" {
		t.Errorf("the loaded plant was changed: MQTT %+v, OPC UA %+v", p.Tags.MQTT[0], p.Tags.OPCUA[0])
	}
	if q.Units[0] != p.Units[0] || q.Location != p.Location {
		t.Error("the copy does not share the plant's equipment and zone")
	}
	if off := localPlant(p, "tcp://127.0.0.1:1", "", "", ""); len(off.Tags.OPCUA) != 0 || len(p.Tags.OPCUA) == 0 {
		t.Errorf("--opcua off: the copy has %d OPC UA tag maps (want none), the plant %d", len(off.Tags.OPCUA), len(p.Tags.OPCUA))
	}
}

// TestOffShiftNote: a demo started when the plant's calendar does not
// work (a night) says when the next shift starts and how to begin there;
// one started in a shift says nothing.
func TestOffShiftNote(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	night := time.Date(2026, 3, 4, 2, 0, 0, 0, p.Location) // a Wednesday, 02:00
	note := offShiftNote(p, night, 60, false)
	working, _, next := p.Calendar.State(night)
	if working || next.IsZero() {
		t.Fatalf("the motor plant works at %v: the test needs a night", night)
	}
	want := "to begin there: --start " + next.Format("2006-01-02T15:04")
	if !strings.Contains(note, "the plant is off now") || !strings.Contains(note, want) || !strings.Contains(note, "at ×60") {
		t.Fatalf("at night the demo says %q, want when the next shift starts and %q", note, want)
	}
	if cont := offShiftNote(p, night, 60, true); !strings.Contains(cont, "--fresh --start") {
		t.Fatalf("continuing a history at night the demo says %q, want --fresh --start", cont)
	}
	if got := offShiftNote(p, time.Date(2026, 3, 4, 9, 0, 0, 0, p.Location), 60, false); got != "" {
		t.Fatalf("in a shift the demo says %q, want nothing", got)
	}
	t.Log(note)
}
