package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/twin/mes"
	"twin/twin/mes/recstore"
)

// scanAs sends one scan of card op as role and returns the answer, the
// error body and the status.
func (r *rig) scanAs(role, op, action string, good, scrap *int, override string) (mes.ScanResult, apiError, int) {
	r.t.Helper()
	s := mes.Scan{Token: r.db.CardToken(op), Action: action, Station: opStation(op), Worker: "W-9", Good: good, Scrap: scrap, Override: override}
	if scrap != nil && *scrap > 0 { // the plant lists scrap reasons: a terminal gives one with scrap
		if v, err := r.db.LookUpCard(s.Token); err == nil && len(v.ScrapReasons) > 0 {
			s.ScrapReason = v.ScrapReasons[0].Code
		}
	}
	b, _ := json.Marshal(s)
	req, _ := http.NewRequest("POST", r.srv.URL+"/api/v1/scan", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+r.tok[role])
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var res mes.ScanResult
	var e apiError
	if err := json.NewDecoder(resp.Body).Decode(map[bool]any{true: &res, false: &e}[resp.StatusCode < 300]); err != nil {
		r.t.Fatalf("scan %s: %v", op, err)
	}
	return res, e, resp.StatusCode
}

// refused checks that a scan is refused as out of sequence, with a
// message naming what comes first.
func (r *rig) refused(op, action string, good *int, want ...string) {
	r.t.Helper()
	_, e, code := r.scanAs("operator", op, action, good, nil, "")
	if code != 409 || e.Code != "out_of_sequence" {
		r.t.Fatalf("%s %s: status %d %+v, want 409 out_of_sequence", action, op, code, e)
	}
	for _, w := range want {
		if !strings.Contains(e.Error, w) {
			r.t.Fatalf("%s %s: the refusal %q does not say %q", action, op, e.Error, w)
		}
	}
}

// ok sends a scan that must be accepted.
func (r *rig) ok(op, action string, good, scrap *int) mes.ScanResult {
	r.t.Helper()
	res, e, code := r.scanAs("operator", op, action, good, scrap, "")
	if code != 200 {
		r.t.Fatalf("%s %s: status %d %+v", action, op, code, e)
	}
	return res
}

// TestScansFollowRouting: an operation starts only after the one that
// feeds it, confirms no more than it passed on (the first no more than
// planned), and one that joins made parts no more than their work orders
// finished. The case first: the last card (pack) started and
// confirmed before anything ran.
func TestScansFollowRouting(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-20", 5)
	o := func(s string) string { return "SO-20-" + s }

	r.refused(o("YE3-100L-4-pack"), "start", nil, "comes after SO-20-YE3-100L-4-paint, which has not started", "start SO-20-YE3-100L-4-paint first", "supervisor")
	r.refused(o("YE3-100L-4-pack"), "confirm", ptr(5), "SO-20-YE3-100L-4-paint, which is pending, not confirmed", "confirm SO-20-YE3-100L-4-paint first")
	if op, _ := r.db.Operation(o("YE3-100L-4-pack")); op.Status != mes.OpPending {
		t.Fatalf("a refused scan changed the card: %+v", op)
	}
	// a joining operation waits for its parts' work order
	r.refused(o("YE3-100L-4-pressfit"), "start", nil, "joins rotor from SO-20-rotor, whose last operation SO-20-rotor-balance has not started", "start SO-20-rotor-balance first")

	// the first operation: bounded by the planned quantity
	r.ok(o("stator-stamp"), "start", nil, nil)
	if _, e, code := r.scanAs("operator", o("stator-stamp"), "confirm", ptr(6), nil, ""); code != 400 || e.Field != "good" {
		t.Fatalf("6 of 5 planned: %d %+v", code, e)
	}
	r.refused(o("stator-impregnate"), "start", nil, "comes after SO-20-stator-wind, which has not started")
	r.ok(o("stator-wind"), "start", nil, nil) // units flow on one by one: it starts while stamping runs
	r.refused(o("stator-wind"), "confirm", ptr(1), "SO-20-stator-stamp, which is started, not confirmed", "confirm SO-20-stator-stamp first")
	r.ok(o("stator-stamp"), "confirm", ptr(5), nil)
	r.ok(o("stator-impregnate"), "start", nil, nil)
	r.ok(o("stator-wind"), "confirm", ptr(4), ptr(1))
	r.refused(o("stator-impregnate"), "confirm", ptr(5), "operation SO-20-stator-wind has confirmed 4 good: confirm at most 4 here (good 5 + scrap 0 given)")
	if _, e, code := r.scanAs("operator", o("stator-impregnate"), "confirm", ptr(4), ptr(1), ""); code != 409 || !strings.Contains(e.Error, "good 4 + scrap 1") {
		t.Fatalf("good 4 + scrap 1 after 4 passed on (scrap counts too): %d %+v", code, e)
	}
	if res := r.ok(o("stator-impregnate"), "confirm", nil, nil); res.Operation.Good != 4 {
		t.Fatalf("a confirmation without a quantity confirms what was passed on (4), got %d", res.Operation.Good)
	}

	// the rotors: 3 of 5 balanced good; press-fit joins no more than 3
	for _, s := range []string{"rotor-stamp", "rotor-cast", "rotor-machine"} {
		r.ok(o(s), "confirm", ptr(5), nil)
	}
	r.ok(o("rotor-balance"), "start", nil, nil)
	r.ok(o("YE3-100L-4-pressfit"), "start", nil, nil)
	r.refused(o("YE3-100L-4-pressfit"), "confirm", ptr(3), "SO-20-rotor-balance is not confirmed", "confirm SO-20-rotor-balance first")
	r.ok(o("rotor-balance"), "confirm", ptr(3), ptr(2))
	r.refused(o("YE3-100L-4-pressfit"), "confirm", ptr(4), "joins rotor from SO-20-rotor, whose last operation SO-20-rotor-balance has confirmed 3 good (1 a unit): confirm at most 3 here")
	r.ok(o("YE3-100L-4-pressfit"), "confirm", ptr(3), nil)
	// assembly: 3 from press-fit, 4 stators
	r.ok(o("YE3-100L-4-assemble"), "start", nil, nil)
	if res := r.ok(o("YE3-100L-4-assemble"), "confirm", nil, nil); res.Operation.Good != 3 {
		t.Fatalf("assembly after 3 press-fitted and 4 stators: good %d, want 3", res.Operation.Good)
	}
	var ord mes.Order
	r.must("planner", "GET", "/orders/SO-20", nil, &ord, 200)
	if ord.Status != mes.StatusInProgress || ord.Good != 0 {
		t.Fatalf("the order after assembly: %+v", ord)
	}
	// every refusal left the records as they were: one confirmation each
	var aud mes.Page[mes.AuditEntry]
	r.must("manager", "GET", "/audit?limit=1000", nil, &aud, 200)
	confirms := 0
	for _, a := range aud.Items {
		if a.Kind == "operation" && strings.HasPrefix(a.Action, "scan.confirm") && bytes.Contains(a.After, []byte(`"status":"confirmed"`)) && !bytes.Contains(a.Before, []byte(`"status":"confirmed"`)) {
			confirms++
		}
	}
	if confirms != 9 {
		t.Fatalf("%d confirmations in the audit log, want 9", confirms)
	}
}

// TestSupervisorOverride: a scan against the routing is accepted only
// with an override from a supervisor, and the override is kept: who, the
// reason, the rule.
func TestSupervisorOverride(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-21", 2)
	pack := "SO-21-YE3-100L-4-pack"
	const why = "test bench down: the two units were tested on the spare bench, cards follow"
	if _, e, code := r.scanAs("operator", pack, "confirm", ptr(2), nil, why); code != 403 || !strings.Contains(e.Error, "needs the role supervisor") {
		t.Fatalf("an operator's override: %d %+v, want 403 naming the role", code, e)
	}
	if _, e, code := r.scanAs("planner", pack, "confirm", ptr(2), nil, why); code != 403 {
		t.Fatalf("a planner's override: %d %+v, want 403", code, e)
	}
	var res mes.ScanResult
	s := mes.Scan{Token: r.db.CardToken(pack), Action: "confirm", Station: "PK1", Worker: "W-3", Good: ptr(2), Override: why, ScanID: "sup-1"}
	r.must("supervisor", "POST", "/scan", s, &res, 200)
	if res.Override == nil || res.Operation.Status != mes.OpConfirmed || len(res.Operation.Overrides) != 1 {
		t.Fatalf("supervisor's override: %+v", res)
	}
	ov := res.Override
	if ov.By != "u-supervisor" || ov.Reason != why || ov.Worker != "W-3" || len(ov.Broken) != 1 || ov.Broken[0].Rule != mes.RuleConfirmBeforePredecessor || ov.Broken[0].Need != "SO-21-YE3-100L-4-paint" {
		t.Fatalf("override record: %+v", ov)
	}
	// retried: answered from the first, no second override
	var again mes.ScanResult
	r.must("supervisor", "POST", "/scan", s, &again, 200)
	if !again.Duplicate {
		t.Fatalf("a retried override: %+v", again)
	}
	// the supervisor said 2 were packed: the order has its 2 good
	var o mes.Order
	r.must("planner", "GET", "/orders/SO-21", nil, &o, 200)
	if o.Status != mes.StatusCompleted || o.Good != 2 {
		t.Fatalf("the order after its pack was confirmed with 2 good by override: %+v", o)
	}
	// an override on a scan that breaks nothing records nothing
	r.released("SO-22", 2)
	res, e, code := r.scanAs("supervisor", "SO-22-stator-stamp", "", nil, nil, why)
	if code != 200 {
		t.Fatalf("%d %+v", code, e)
	}
	if res.Override != nil || len(res.Operation.Overrides) != 0 {
		t.Fatalf("an override nobody needed was recorded: %+v", res)
	}
	// the audit log: the override as a record of its own, and the scan's action
	var aud mes.Page[mes.AuditEntry]
	r.must("manager", "GET", "/audit?kind=override", nil, &aud, 200)
	if len(aud.Items) != 1 || aud.Items[0].User != "u-supervisor" || !bytes.Contains(aud.Items[0].After, []byte(why)) ||
		!bytes.Contains(aud.Items[0].After, []byte(mes.RuleConfirmBeforePredecessor)) {
		t.Fatalf("overrides in the audit log: %+v", aud.Items)
	}
	r.must("manager", "GET", "/audit?kind=operation&id="+pack, nil, &aud, 200)
	if len(aud.Items) != 2 || aud.Items[0].Action != "order.release" || aud.Items[1].Action != "scan.confirm.override" {
		var acts []string
		for _, a := range aud.Items {
			acts = append(acts, a.Action)
		}
		t.Fatalf("the card's audit: %v, want the release and the override's confirmation", acts)
	}
	var recs mes.OrderRecords
	r.must("planner", "GET", "/orders/SO-21/records", nil, &recs, 200)
	if len(recs.Overrides) != 1 || recs.Overrides[0].ID != ov.ID {
		t.Fatalf("the order's records lack the override: %+v", recs.Overrides)
	}
}

// runAll confirms every operation of an order's work orders whose id
// starts with prefix, parts first, in sequence: good of each the quantity
// passed on, less scrap[op name] scrapped there.
func (r *rig) runAll(order, prefix string, scrap map[string]int) {
	r.t.Helper()
	rs, err := r.db.Records(order)
	if err != nil {
		r.t.Fatal(err)
	}
	var ops []string
	for _, o := range rs.Operations {
		if strings.HasPrefix(o.WorkOrder, prefix) && o.Status != mes.OpConfirmed {
			ops = append(ops, o.ID)
		}
	}
	for _, op := range partsFirst(ops) {
		r.advance(20 * time.Minute)
		var sp *int
		if n, ok := scrap[op[strings.LastIndex(op, "-")+1:]]; ok {
			sp = ptr(n)
		}
		r.ok(op, "confirm", nil, sp)
	}
}

// TestOrderCompletesAtQuantity: an order completes when the good of its
// last operation reaches the ordered quantity, make-ups included; a unit
// scrapped at the end-of-line test leaves it open (it "completed" with 2
// of 3 good before), and a make-up for the shortfall completes it. Lead
// time runs from release to that completion.
func TestOrderCompletesAtQuantity(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-30", 3)
	released := r.now()
	r.runAll("SO-30", "SO-30-", map[string]int{"test": 1})
	var o mes.Order
	r.must("planner", "GET", "/orders/SO-30", nil, &o, 200)
	if o.Status != mes.StatusInProgress || o.Good != 2 || o.Scrap != 1 || !o.Completed.IsZero() {
		t.Fatalf("2 of 3 good: the order is %s with %d good, %d scrap, completed %v; want in progress", o.Status, o.Good, o.Scrap, o.Completed)
	}
	var w mes.WorkOrder
	r.must("planner", "GET", "/work-orders/SO-30-YE3-100L-4", nil, &w, 200)
	if w.Status != mes.StatusInProgress {
		t.Fatalf("the motor's work order with 2 of 3 good at its last operation is %s", w.Status)
	}
	r.must("planner", "GET", "/work-orders/SO-30-stator", nil, &w, 200)
	if w.Status != mes.StatusCompleted {
		t.Fatalf("the stators' work order, 3 of 3 good: %s", w.Status)
	}

	// the make-up: the shortfall, with the parts a unit needs
	var mu mes.MakeUp
	r.must("planner", "POST", "/orders/SO-30/makeup", nil, &mu, 201)
	if len(mu.WorkOrders) != 3 || mu.WorkOrders[0].ID != "SO-30-M1-YE3-100L-4" || mu.WorkOrders[0].Quantity != 1 || !mu.WorkOrders[0].Makeup ||
		strings.Join(mu.WorkOrders[0].Components, ",") != "SO-30-M1-stator,SO-30-M1-rotor" || mu.WorkOrders[1].Quantity != 1 || mu.WorkOrders[2].Item != "rotor" ||
		len(mu.Serials) != 1 || mu.Serials[0] != "SO-30-0004" || len(mu.WorkOrders[0].Operations) != 5 {
		t.Fatalf("make-up: %+v", mu)
	}
	if len(mu.Order.WorkOrders) != 6 || mu.Order.Status != mes.StatusInProgress {
		t.Fatalf("the order after its make-up: %+v", mu.Order)
	}
	var e apiError
	r.must("planner", "POST", "/orders/SO-30/makeup", mes.MakeUpRequest{}, &e, 409)
	if !strings.Contains(e.Error, "not short") || !strings.Contains(e.Error, "3 good of 3") {
		t.Fatalf("a second make-up with nothing short: %+v", e)
	}
	var card CardInfo
	r.must("operator", "GET", "/operations/SO-30-M1-YE3-100L-4-pack/card", nil, &card, 200)
	// the make-up's press-fit waits for its own rotor, not the order's first ones
	r.refused("SO-30-M1-YE3-100L-4-pressfit", "start", nil, "joins rotor from SO-30-M1-rotor")

	r.runAll("SO-30", "SO-30-M1-", nil)
	done := r.now()
	r.must("planner", "GET", "/orders/SO-30", nil, &o, 200)
	if o.Status != mes.StatusCompleted || o.Good != 3 || !o.Completed.Equal(done) || o.Short != nil {
		t.Fatalf("after the make-up: %s, %d good, completed %v (want %v)", o.Status, o.Good, o.Completed, done)
	}
	for id, want := range map[string]string{"SO-30-YE3-100L-4": mes.StatusClosed, "SO-30-M1-YE3-100L-4": mes.StatusCompleted, "SO-30-M1-rotor": mes.StatusCompleted} {
		r.must("planner", "GET", "/work-orders/"+id, nil, &w, 200)
		if w.Status != want {
			t.Fatalf("work order %s is %s, want %s", id, w.Status, want)
		}
	}
	var ks []mes.KPI
	r.must("manager", "GET", "/kpis?by=order&order=SO-30", nil, &ks, 200)
	if len(ks) != 1 || ks[0].Units != 3 || ks[0].LeadTimeH == nil || math.Abs(*ks[0].LeadTimeH-done.Sub(released).Hours()) > 0.01 || ks[0].Orders != 1 {
		t.Fatalf("the order's KPIs: %+v (lead time want %.2f h)", ks, done.Sub(released).Hours())
	}
}

// TestShortClose: a planner closes an order short with a reason; it
// completes with the good it has and says by whom, why and how many.
func TestShortClose(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-40", 3)
	released := r.now()
	r.runAll("SO-40", "SO-40-", map[string]int{"test": 1, "pack": 0})
	var e apiError
	r.must("planner", "POST", "/orders/SO-40/close", mes.CloseRequest{}, &e, 400)
	if e.Field != "reason" {
		t.Fatalf("close without a reason: %+v", e)
	}
	r.must("operator", "POST", "/orders/SO-40/close", mes.CloseRequest{Reason: "x"}, nil, 403)
	r.advance(time.Hour)
	const why = "customer takes 2 of 3; the third is not remade"
	var o mes.Order
	r.must("planner", "POST", "/orders/SO-40/close", mes.CloseRequest{Reason: why}, &o, 200)
	if o.Status != mes.StatusCompleted || o.Good != 2 || o.Short == nil || o.Short.By != "u-planner" || o.Short.Reason != why || o.Short.Good != 2 ||
		o.Short.Ordered != 3 || !o.Completed.Equal(r.now()) {
		t.Fatalf("closed short: %+v %+v", o, o.Short)
	}
	var w mes.WorkOrder
	r.must("planner", "GET", "/work-orders/SO-40-YE3-100L-4", nil, &w, 200)
	if w.Status != mes.StatusClosed {
		t.Fatalf("the motor's work order of a closed order is %s", w.Status)
	}
	r.must("planner", "POST", "/orders/SO-40/close", mes.CloseRequest{Reason: why}, &e, 409)
	r.must("planner", "POST", "/orders/SO-40/makeup", nil, &e, 409)
	var ks []mes.KPI
	r.must("manager", "GET", "/kpis?by=order&order=SO-40", nil, &ks, 200)
	if len(ks) != 1 || ks[0].Orders != 1 || ks[0].LeadTimeH == nil || math.Abs(*ks[0].LeadTimeH-r.now().Sub(released).Hours()) > 0.01 {
		t.Fatalf("the closed order's KPIs: %+v", ks)
	}

	// an order with a card started cannot be closed until it is confirmed;
	// once closed, its cards take no more starts
	r.released("SO-41", 2)
	r.ok("SO-41-stator-stamp", "start", nil, nil)
	r.must("planner", "POST", "/orders/SO-41/close", mes.CloseRequest{Reason: why}, &e, 409)
	if !strings.Contains(e.Error, "confirm SO-41-stator-stamp") {
		t.Fatalf("close with a card started: %+v", e)
	}
	r.ok("SO-41-stator-stamp", "confirm", nil, nil)
	r.must("planner", "POST", "/orders/SO-41/close", mes.CloseRequest{Reason: "cancelled by the customer after stamping"}, &o, 200)
	if _, e, code := r.scanAs("operator", "SO-41-stator-wind", "start", nil, nil, ""); code != 409 || !strings.Contains(e.Error, "SO-41 is completed") {
		t.Fatalf("a start on a closed order: %d %+v", code, e)
	}
	r.must("planner", "POST", "/orders", mes.NewOrder{ID: "SO-42", Customer: "c", Product: "YE3-100L-4", Quantity: 1, Due: r.now().Add(time.Hour)}, nil, 201)
	r.must("planner", "POST", "/orders/SO-42/close", mes.CloseRequest{Reason: why}, &e, 409)
	if !strings.Contains(e.Error, "cancel it instead") {
		t.Fatalf("close of a planned order: %+v", e)
	}
	r.must("planner", "POST", "/orders/SO-42/release", nil, nil, 200)
	r.must("planner", "POST", "/orders/SO-42/close", mes.CloseRequest{Reason: why}, &e, 409)
	if !strings.Contains(e.Error, "SO-42 is released and nothing has started: cancel it instead") {
		t.Fatalf("close of a released order nothing of which started: %+v", e)
	}
}

// TestConcurrentCompletion: the last cards of an order's two final work
// orders (the order's and its make-up's) confirmed from many terminals at
// once complete the order exactly once, with the good of both.
func TestConcurrentCompletion(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-50", 4)
	r.runAll("SO-50", "SO-50-", map[string]int{"test": 1})
	var o mes.Order
	r.must("planner", "GET", "/orders/SO-50", nil, &o, 200)
	if o.Good != 3 {
		t.Fatalf("good %d after the first work order", o.Good)
	}
	// unpick: the make-up up to its pack, and a fresh order's pack too
	var mu mes.MakeUp
	r.must("planner", "POST", "/orders/SO-50/makeup", mes.MakeUpRequest{Reason: "one failed the hi-pot test"}, &mu, 201)
	if mu.WorkOrders[0].Reason != "one failed the hi-pot test" {
		t.Fatalf("make-up reason: %+v", mu.WorkOrders[0])
	}
	rs, _ := r.db.Records("SO-50")
	var ops []string
	for _, op := range rs.Operations {
		if strings.HasPrefix(op.WorkOrder, "SO-50-M1-") && op.Op != "pack" {
			ops = append(ops, op.ID)
		}
	}
	for _, op := range partsFirst(ops) {
		r.ok(op, "confirm", nil, nil)
	}
	r.released("SO-51", 2) // and a second order finishing at the same moment
	rs, _ = r.db.Records("SO-51")
	ops = ops[:0]
	for _, op := range rs.Operations {
		if op.Op != "pack" {
			ops = append(ops, op.ID)
		}
	}
	for _, op := range partsFirst(ops) {
		r.ok(op, "confirm", nil, nil)
	}
	packs := []string{"SO-50-M1-YE3-100L-4-pack", "SO-51-YE3-100L-4-pack"}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			op := packs[i%2]
			r.must("operator", "POST", "/scan", mes.Scan{Token: r.db.CardToken(op), Action: "confirm", Station: "PK1", ScanID: fmt.Sprintf("T%d", i)}, nil, 200)
		})
	}
	wg.Wait()
	for id, want := range map[string]int{"SO-50": 4, "SO-51": 2} {
		r.must("planner", "GET", "/orders/"+id, nil, &o, 200)
		if o.Status != mes.StatusCompleted || o.Good != want {
			t.Fatalf("%s: %s with %d good, want completed with %d", id, o.Status, o.Good, want)
		}
		var aud mes.Page[mes.AuditEntry]
		r.must("manager", "GET", "/audit?kind=order&id="+id, nil, &aud, 200)
		n := 0
		for _, a := range aud.Items {
			if bytes.Contains(a.After, []byte(`"status":"completed"`)) && !bytes.Contains(a.Before, []byte(`"status":"completed"`)) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s completed %d times in the audit log", id, n)
		}
	}
	var done []string
	r.db.Store().View(func(t *recstore.Tx) error {
		done = t.During("x/time/done/order/", time.Time{}, time.Time{})
		return nil
	})
	if len(done) != 2 {
		t.Fatalf("the completion index holds %v", done)
	}
}
