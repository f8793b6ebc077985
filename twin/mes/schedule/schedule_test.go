package schedule

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/model"
	"twin/sim"
	"twin/twin/ingest"
	"twin/twin/mes"
	"twin/twin/store"
)

// TestCompute: the rest of a plant day scheduled over two released
// orders: every run within the day, by machine and start, the machine
// the twin has down starting later (after its repair) than when it is up; the order due today marked late exactly
// when it is not done by its due time; the same schedule computed twice;
// the schedule kept in the records, audited, and a day that is over
// refused.
func TestCompute(t *testing.T) {
	p, err := plant.Load("../../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	now := time.Date(2026, 3, 4, 8, 0, 0, 0, p.Location) // a Wednesday
	clock := func() time.Time { return now }
	dir := t.TempDir()
	hist, err := store.Open(dir+"/history", store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	in := ingest.New(hist, nil, ingest.Options{Logger: quiet, Clock: ingest.Clock{Now: clock}})
	defer in.Close()
	db, err := mes.Open(dir+"/mes", mes.Options{Plant: p, History: hist, Live: in, Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, o := range []mes.NewOrder{
		{ID: "PO-1", Customer: "a", Product: "YE3-100L-4", Quantity: 6, Due: now.Add(8 * time.Hour)},
		{ID: "PO-2", Customer: "b", Product: "YE3-160M-4", Quantity: 4, Due: now.Add(48 * time.Hour)},
	} {
		if _, err := db.CreateOrder("planner", o); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ReleaseOrder("planner", o.ID); err != nil {
			t.Fatal(err)
		}
	}
	pl := &Planner{Records: db, Live: in}
	up, err := pl.Compute("planner", "")
	if err != nil {
		t.Fatal(err)
	}
	// then the first machine of the routing fails
	down := p.Units[0]
	in.EmitBatch([]event.Event{{Time: now.UnixNano(), Kind: event.State, Asset: down.Path(), Value: float64(event.Down), Source: event.Live}}, nil)
	s, err := pl.Compute("planner", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Day != "2026-03-04" || !s.From.Equal(now) || !s.To.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, p.Location)) {
		t.Fatalf("day %s from %v to %v", s.Day, s.From, s.To)
	}
	if !slices.Equal(s.Down, []string{down.Path()}) {
		t.Errorf("down %v, want %s", s.Down, down.Path())
	}
	if len(s.Entries) == 0 || len(s.Orders) != 2 {
		t.Fatalf("%d runs, %d orders", len(s.Entries), len(s.Orders))
	}
	for i, e := range s.Entries {
		if e.Start.Before(s.From) || e.End.After(s.To) || e.End.Before(e.Start) || e.WorkCenter == "" || p.FindUnit(e.Station) == nil {
			t.Errorf("run %+v is not a run of the day on a machine", e)
		}
		if i > 0 {
			b := s.Entries[i-1]
			if b.Station > e.Station || b.Station == e.Station && b.Start.After(e.Start) {
				t.Errorf("runs out of order: %+v before %+v", b, e)
			}
		}
	}
	first := func(s *Schedule) time.Time {
		for _, e := range s.Entries {
			if e.Station == down.Path() {
				return e.Start
			}
		}
		return s.To
	}
	if up.Down != nil || !first(s).After(first(up)) {
		t.Errorf("%s down: its first run at %v; up: at %v", down.ID(), first(s), first(up))
	}
	for _, o := range s.Orders {
		dueToday := o.Due.Before(s.To)
		late := o.Completion.IsZero() || o.Completion.After(o.Due)
		if o.Late != (dueToday && late) {
			t.Errorf("%s due %v, completion %v: late %v", o.Order, o.Due, o.Completion, o.Late)
		}
		if o.Remaining == 0 {
			t.Errorf("%s: nothing remaining", o.Order)
		}
	}
	t.Logf("%d runs; %+v", len(s.Entries), s.Orders)
	again, err := pl.Compute("planner", "2026-03-04")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(s.Entries)
	b, _ := json.Marshal(again.Entries)
	if string(a) != string(b) {
		t.Error("the same day scheduled twice gives two schedules")
	}
	got, err := pl.Get("")
	if err != nil || got.Day != s.Day || len(got.Entries) != len(s.Entries) {
		t.Fatalf("the kept schedule: %v %+v", err, got)
	}
	aud, err := db.Audit("schedule", s.Day, time.Time{}, time.Time{}, "", 10)
	if err != nil || len(aud.Items) != 3 || aud.Items[1].Before == nil || aud.Items[0].User != "planner" {
		t.Errorf("the schedule's audit: %v %+v", err, aud.Items)
	}
	var fe *mes.FieldError
	if _, err := pl.Compute("planner", "2026-03-03"); !errors.As(err, &fe) || fe.Field != "day" {
		t.Errorf("a day that is over: %v", err)
	}
	if _, err := pl.Get("2026-03-01"); !errors.Is(err, mes.ErrNotFound) {
		t.Errorf("a day never scheduled: %v", err)
	}
}

// TestComputeCarriesOnWorkInProgress: the plant has run an order for two
// hours when the schedule is computed; the schedule starts from where its
// history says each unit stands, so every operation's units are those not
// yet through it: what the plant finished before plus what the schedule
// runs is the order's quantity, never more (the schedule without the
// history restarted every unit at its first operation).
func TestComputeCarriesOnWorkInProgress(t *testing.T) {
	p, err := plant.Load("../../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	t0 := time.Date(2026, 3, 4, 8, 0, 0, 0, p.Location) // a Wednesday's morning shift
	now := t0
	clock := func() time.Time { return now }
	dir := t.TempDir()
	hist, err := store.Open(dir+"/history", store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	in := ingest.New(hist, nil, ingest.Options{Logger: quiet, Clock: ingest.Clock{Now: clock}})
	defer in.Close()
	db, err := mes.Open(dir+"/mes", mes.Options{Plant: p, History: hist, Live: in, Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const qty = 12
	o := mes.NewOrder{ID: "PO-7", Customer: "a", Product: "YE3-100L-4", Quantity: qty, Due: t0.Add(30 * time.Hour)}
	if _, err := db.CreateOrder("planner", o); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReleaseOrder("planner", o.ID); err != nil {
		t.Fatal(err)
	}
	// the plant works on it for two hours, and tells the twin
	var evs []event.Event
	m, err := model.New(p, model.Options{Seed: 3, Start: t0, Source: event.Live, Orders: []plant.Order{
		{ID: o.ID, Customer: o.Customer, Product: p.FindProduct(o.Product), Quantity: qty, Release: t0, Due: o.Due}},
		Sink: event.SinkFunc(func(e event.Event) { evs = append(evs, e) })})
	if err != nil {
		t.Fatal(err)
	}
	m.RunUntil(2 * sim.Hour)
	now = t0.Add(2 * time.Hour)
	stored := make(chan error, 1)
	in.EmitBatch(evs, func(err error) { stored <- err })
	if err := <-stored; err != nil {
		t.Fatal(err)
	}
	before := map[string]int{} // op → units the plant finished
	for _, e := range evs {
		if e.Kind == event.OpFinished && strings.HasPrefix(e.Ref, o.ID+"/P/") {
			before[e.Name]++
		}
	}
	if len(before) == 0 {
		t.Fatal("the plant finished nothing in two hours: the test shows nothing")
	}
	s, err := (&Planner{Records: db, Live: in}).Compute("planner", "")
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]int{}
	for _, e := range s.Entries {
		if e.Order == o.ID && e.WorkOrder == o.ID+"-"+o.Product {
			ran[e.Op] += e.Quantity
			if e.Start.Before(now) {
				t.Errorf("%s starts at %v, before the schedule was computed (%v)", e.Operation, e.Start, now)
			}
		}
	}
	for _, op := range p.FindProduct(o.Product).Routing.Ops {
		if got := before[op.ID] + ran[op.ID]; got > qty {
			t.Errorf("op %s: %d finished before + %d scheduled = %d units of an order of %d", op.ID, before[op.ID], ran[op.ID], got, qty)
		}
	}
	if !strings.Contains(s.Note, "history") {
		t.Errorf("note %q", s.Note)
	}
	t.Logf("finished before: %v; scheduled: %v", before, ran)
}
