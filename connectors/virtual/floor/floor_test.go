package floor

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
// one). The records follow the routing (no operation confirms more than
// what fed it passed on; no override), and every order the plant
// finished is completed in the records when the plant finished it, with
// the plant's good units: closed short, with the reason, when it
// scrapped some; lead time is the plant's.
//
// From an empty plant, and from a warm start as the live demo's: the
// plant runs four days unseen, then tells its state (machines, open
// orders, units done) and the floor takes over orders in the middle of
// their routings.
func TestFloorFollowsPlant(t *testing.T) {
	t.Run("empty", func(t *testing.T) { floorFollowsPlant(t, 0) })
	t.Run("warm", func(t *testing.T) { floorFollowsPlant(t, 4) })
}

func floorFollowsPlant(t *testing.T, warmDays int) {
	p, err := plant.Load("../../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var clock time.Time // the plant's, as the demo stamps the records: the time of the event the floor handles
	db, err := mes.Open(t.TempDir(), mes.Options{Plant: p, NoSync: true, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := New(db, p, slog.New(slog.DiscardHandler))
	var evs []event.Event
	type done struct {
		at   time.Time
		good int
	}
	released, finished := map[string]time.Time{}, map[string]done{}
	live := warmDays == 0
	m, err := model.New(p, model.Options{Seed: 7, Sink: event.SinkFunc(func(e event.Event) {
		if !live {
			return
		}
		evs = append(evs, e)
		if e.Kind == event.Order && e.Name == "released" {
			released[e.Ref] = time.Unix(0, e.Time)
		}
		if e.Kind == event.Order && e.Name == "completed" {
			finished[e.Ref] = done{time.Unix(0, e.Time), int(e.Value)}
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	if warmDays > 0 {
		m.RunUntil(sim.Time(warmDays) * sim.Time(24*time.Hour))
		live = true
		m.EmitState()
	}
	carried := map[string]bool{}
	for id := range released {
		carried[id] = true
	}
	for day := warmDays + 1; day <= warmDays+3; day++ {
		m.RunUntil(sim.Time(day) * sim.Time(24*time.Hour))
		for _, e := range evs {
			clock = time.Unix(0, e.Time).In(p.Location)
			f.Handle(e)
		}
		evs = evs[:0]
	}
	st := f.Stats()
	t.Logf("orders %d, scans %d, tests %d, nonconformances %d, refused %d", st.Orders, st.Scans, st.Inspections, st.NCs, st.Errors)
	if st.Errors != 0 {
		t.Fatalf("the records refused %d of the floor's entries", st.Errors)
	}
	if st.Orders == 0 || st.Inspections == 0 || st.NCs == 0 {
		t.Fatalf("three days without orders, tests or a failed test: %d, %d, %d", st.Orders, st.Inspections, st.NCs)
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
	// the records against the plant
	os, err := db.Orders(mes.OrderFilter{}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	short := 0
	for _, o := range os.Items {
		rs, err := db.Records(o.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkRouting(t, rs)
		if len(rs.Overrides) > 0 {
			t.Errorf("%s: the floor needed an override: %+v", o.ID, rs.Overrides)
		}
		d, ok := finished[o.ID]
		if !ok {
			if o.Status == mes.StatusCompleted {
				t.Errorf("%s is completed in the records (%d of %d good) but not in the plant", o.ID, o.Good, o.Quantity)
			}
			continue
		}
		if o.Status != mes.StatusCompleted || !o.Completed.Equal(d.at) || !o.Released.Equal(released[o.ID]) || o.Good != d.good {
			t.Errorf("%s: the plant released it at %v and finished it at %v with %d good; the records: %s, released %v, completed %v, %d good",
				o.ID, released[o.ID], d.at, d.good, o.Status, o.Released, o.Completed, o.Good)
		}
		if o.Good < o.Quantity {
			short++
			if o.Short == nil || o.Short.Reason == "" || o.Short.Good != o.Good {
				t.Errorf("%s: %d of %d good, not closed short with a reason: %+v", o.ID, o.Good, o.Quantity, o.Short)
			}
		}
	}
	took := 0
	for id := range finished {
		if carried[id] {
			took++
		}
	}
	t.Logf("%d orders finished by the plant, %d of them taken over in progress; %d closed short", len(finished), took, short)
	if warmDays > 0 && took == 0 {
		t.Fatal("a warm start without an order taken over in progress and finished")
	}
	if len(finished) == 0 || warmDays == 0 && short == 0 || st.Closed != int64(short) {
		t.Fatalf("three days with %d orders finished, %d short (%d closed by the floor): the test sees neither path", len(finished), short, st.Closed)
	}
}

// checkRouting checks that an order's records follow the routing: each
// operation confirmed after the one before it, with good + scrap no more
// than its good; press-fit and assembly no more than the rotors and
// stators made.
func checkRouting(t *testing.T, rs *mes.OrderRecords) {
	t.Helper()
	ops := map[string]mes.Operation{}
	for _, o := range rs.Operations {
		ops[o.ID] = o
	}
	for _, o := range rs.Operations { // scrap has its reason, as an inspector gives it
		for _, r := range o.ScrapReasons {
			if r.Code != "test_fail" {
				t.Errorf("%s scrapped %d with reason %q, want test_fail (the test's: the model knows they failed, not why)", o.ID, r.N, r.Code)
			}
		}
	}
	for _, w := range rs.WorkOrders {
		for i, id := range w.Operations {
			o := ops[id]
			if i == 0 || o.Status != mes.OpConfirmed {
				continue
			}
			p := ops[w.Operations[i-1]]
			if p.Status != mes.OpConfirmed || o.Good+o.Scrap > p.Good || o.ConfirmedAt.Before(p.ConfirmedAt) {
				t.Errorf("%s confirmed %d good + %d scrap at %v after %s: %s, %d good at %v", o.ID, o.Good, o.Scrap, o.ConfirmedAt, p.ID, p.Status, p.Good, p.ConfirmedAt)
			}
		}
	}
	for join, part := range map[string]string{"pressfit": "rotor-balance", "assemble": "stator-impregnate"} {
		o, ok := ops[rs.Order.ID+"-"+rs.Order.Product+"-"+join]
		if !ok || o.Status != mes.OpConfirmed {
			continue
		}
		if p := ops[rs.Order.ID+"-"+part]; p.Status != mes.OpConfirmed || o.Good+o.Scrap > p.Good {
			t.Errorf("%s confirmed %d good + %d scrap; %s: %s, %d good", o.ID, o.Good, o.Scrap, p.ID, p.Status, p.Good)
		}
	}
}
