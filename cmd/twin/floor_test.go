package main

import (
	"log/slog"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
	"twin/twin/mes"
)

// TestFloorFollowsPlant: the demo's floor keeps the records of three
// simulated days of the motor plant, failed tests and their reworks
// included, without one entry the records refuse; every nonconformance
// it opens ends in a re-inspection (the repair station's rework is not
// one).
func TestFloorFollowsPlant(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := mes.Open(t.TempDir(), mes.Options{Plant: p, NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := newFloor(db, p, slog.New(slog.DiscardHandler))
	var evs []event.Event
	m, err := model.New(p, model.Options{Seed: 7, Sink: event.SinkFunc(func(e event.Event) { evs = append(evs, e) })})
	if err != nil {
		t.Fatal(err)
	}
	for day := 1; day <= 3; day++ {
		m.RunUntil(sim.Time(day) * sim.Time(24*time.Hour))
		for _, e := range evs {
			f.handle(e)
		}
		evs = evs[:0]
	}
	st := &f.stats
	t.Logf("orders %d, scans %d, tests %d, nonconformances %d, refused %d", st.Orders.Load(), st.Scans.Load(), st.Inspections.Load(), st.NCs.Load(), st.Errors.Load())
	if st.Errors.Load() != 0 {
		t.Fatalf("the records refused %d of the floor's entries", st.Errors.Load())
	}
	if st.Orders.Load() == 0 || st.Inspections.Load() == 0 || st.NCs.Load() == 0 {
		t.Fatalf("three days without orders, tests or a failed test: %d, %d, %d", st.Orders.Load(), st.Inspections.Load(), st.NCs.Load())
	}
	ncs, err := db.Nonconformances("", false, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, nc := range ncs.Items {
		if nc.Reinspection == "pending" || nc.Reinspection == "cancelled" {
			continue // at the repair bench when the run stopped; scrapped
		}
		ins, err := db.Inspections(mes.InspectionFilter{Serial: nc.Serial}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		re := 0
		for _, in := range ins.Items {
			if in.Reinspection {
				re++
			}
		}
		if re == 0 {
			t.Fatalf("%s: nonconformance %s is %s with no re-inspection: %+v", nc.Serial, nc.ID, nc.Reinspection, ins.Items)
		}
	}
}
