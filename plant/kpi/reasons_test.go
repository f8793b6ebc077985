package kpi

import (
	"testing"
	"time"

	"twin/plant/event"
)

// TestLossesByReason: a reported stop explains only the time the machine
// was in the loss its reason claims (a breakdown: down or idle; a
// changeover: setup); what it claims while the machine ran explains
// nothing; the rest of PBT − APT is unexplained.
func TestLossesByReason(t *testing.T) {
	min := func(n int) int64 { return int64(time.Duration(n) * time.Minute) }
	var m Machine
	m.Stops([]Stop{
		{From: min(5), To: min(25), Reason: "breakdown", Loss: LossAvailability}, // 5–10 running: not a loss
		{From: min(40), To: min(50), Reason: "changeover", Loss: LossSetup},
		{From: min(52), To: min(58), Reason: "material", Loss: LossAvailability}, // running all along
	})
	m.Open(0, event.Running, true, 0, true)
	m.State(min(10), event.Down)
	m.State(min(30), event.Idle)
	m.State(min(40), event.Setup)
	m.State(min(50), event.Running)
	m.Close(min(60))
	by, unexplained := m.Losses()
	got := map[string]time.Duration{}
	for _, r := range by {
		got[r.Reason] = r.Time
	}
	if len(by) != 2 || got["breakdown"] != 15*time.Minute || got["changeover"] != 10*time.Minute || unexplained != 15*time.Minute {
		t.Errorf("losses %v, unexplained %v; want breakdown 15m, changeover 10m, 15m unexplained (down 20 + idle 10 + setup 10 = 40m lost)", by, unexplained)
	}
	if tm := m.Times(); tm.AUST+tm.ADET+tm.ADOT != 40*time.Minute {
		t.Errorf("times %+v", tm)
	}
	// a new window keeps the stops and counts afresh
	m.Reset(min(60))
	m.State(min(60), event.Down)
	m.Close(min(70))
	if by, un := m.Losses(); len(by) != 0 || un != 10*time.Minute {
		t.Errorf("after a reset: %v %v", by, un)
	}
}
