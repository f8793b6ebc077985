package api

import (
	"strings"
	"testing"
	"time"

	"twin/plant/event"
	"twin/twin/mes"
)

// scan sends a scan as the operator and returns the answer, the error
// body and the status.
func (r *rig) scan(s mes.Scan) (mes.ScanResult, apiError, int) {
	r.t.Helper()
	var res mes.ScanResult
	var e apiError
	code := r.do("operator", "POST", "/scan", s, map[bool]any{true: &res, false: &e}[true])
	if code >= 300 {
		r.do("operator", "POST", "/scan", s, &e) // the same refusal again, for its body
	}
	return res, e, code
}

// TestPartialConfirmations: a shift reports what it made (action report)
// and the operation stays started; the good it reports passes on to the
// next operation at once, which may count no more than that; the final
// confirmation adds to the reports; each count is a record with its scan
// id, exactly once; scrap needs a reason the operation offers; the
// machine's count is compared with the total; all of it survives a
// restart of the records on disk.
func TestPartialConfirmations(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	var stamp, wind string
	for _, o := range r.released("PO-9", 10) {
		switch {
		case strings.HasSuffix(o, "-stator-stamp"):
			stamp = o
		case strings.HasSuffix(o, "-stator-wind"):
			wind = o
		}
	}
	n := func(v int) *int { return &v }
	sc := func(op, action, id string, good, scrap *int, reason string) mes.Scan {
		return mes.Scan{Token: r.db.CardToken(op), Action: action, ScanID: id, Station: opStation(op), Worker: "W-7", Good: good, Scrap: scrap, ScrapReason: reason}
	}
	okScan := func(s mes.Scan) mes.ScanResult {
		t.Helper()
		res, e, code := r.scan(s)
		if code != 200 {
			t.Fatalf("%s %s: status %d %+v", s.Action, s.ScanID, code, e)
		}
		return res
	}
	// a report before the start is refused
	if _, e, code := r.scan(sc(stamp, "report", "R0", n(1), nil, "")); code != 409 || !strings.Contains(e.Error, "has not started") {
		t.Fatalf("report before the start: %d %+v", code, e)
	}
	r.machine("PR1", event.Running, 0)
	okScan(sc(stamp, "start", "S1", nil, nil, ""))
	r.machine("PR1", event.Running, 4)
	res := okScan(sc(stamp, "report", "R1", n(4), nil, ""))
	if res.Action != "reported" || res.Operation.Status != mes.OpStarted || res.Operation.Good != 4 || res.Operation.Reports != 1 || res.Count == nil || res.Count.Good != 4 {
		t.Fatalf("the first report: %+v", res)
	}
	first := res.Count.ID
	// the same report delivered again changes nothing
	if again := okScan(sc(stamp, "report", "R1", n(4), nil, "")); !again.Duplicate || again.Operation.Good != 4 || again.Count == nil || again.Count.ID != first {
		t.Fatalf("the report retried: %+v", again)
	}
	// wind may count what stamp has passed on: 4, not 5
	r.machine("W1", event.Running, 0)
	okScan(sc(wind, "start", "S2", nil, nil, ""))
	if _, e, code := r.scan(sc(wind, "report", "R2", n(5), nil, "")); code != 409 || e.Code != "out_of_sequence" ||
		!strings.Contains(e.Error, "is still running and has reported 4 good: confirm at most 4 here") {
		t.Fatalf("wind reporting more than stamp passed on: %d %+v", code, e)
	}
	// scrap needs a reason wind offers
	for _, c := range []struct{ reason, want string }{
		{"", "required with scrap 1: say why, one of winding_short, winding_open, insulation_damage"},
		{"casting_porosity", `"casting_porosity" is not a scrap reason of operation wind`},
		{"dropped", `no scrap reason "dropped" in the plant's list`},
	} {
		_, e, code := r.scan(sc(wind, "report", "R3", n(2), n(1), c.reason))
		if code != 400 || e.Field != "scrap_reason" || !strings.Contains(e.Error, c.want) {
			t.Errorf("scrap reason %q: %d %+v, want 400 …%s…", c.reason, code, e, c.want)
		}
	}
	res = okScan(sc(wind, "report", "R3", n(2), n(1), "winding_short"))
	if res.Operation.Good != 2 || res.Operation.Scrap != 1 || len(res.Operation.ScrapReasons) != 1 || res.Operation.ScrapReasons[0] != (mes.Tally{Code: "winding_short", N: 1}) {
		t.Fatalf("wind's report: %+v", res.Operation)
	}
	// stamp's final confirmation adds its 6 to the 4 reported
	r.machine("PR1", event.Running, 6)
	res = okScan(sc(stamp, "confirm", "C1", n(6), nil, ""))
	if res.Operation.Status != mes.OpConfirmed || res.Operation.Good != 10 || res.Operation.Mismatch || res.Flag != nil {
		t.Fatalf("stamp confirmed 6 more (the machine counted 10 in all): %+v flag %+v", res.Operation, res.Flag)
	}
	if _, e, code := r.scan(sc(stamp, "report", "R4", n(1), nil, "")); code != 409 || !strings.Contains(e.Error, "is confirmed") {
		t.Fatalf("a report after the confirmation: %d %+v", code, e)
	}
	// wind confirms what is left by default: 10 passed on − 3 counted = 7;
	// its machine counted 8 while it ran: the total (9 good) disagrees
	r.machine("W1", event.Running, 8)
	res = okScan(sc(wind, "confirm", "C2", nil, nil, ""))
	if res.Operation.Good != 9 || res.Operation.Scrap != 1 || res.Count.Good != 7 || !res.Operation.Mismatch || res.Flag == nil || res.Flag.Manual != 9 || res.Flag.Machine != 8 {
		t.Fatalf("wind confirmed: %+v count %+v flag %+v", res.Operation, res.Count, res.Flag)
	}
	r.restart()
	var op mes.Operation
	r.must("supervisor", "GET", "/operations/"+wind, nil, &op, 200)
	if op.Good != 9 || op.Scrap != 1 || op.Reports != 1 || op.Confirmations != 1 || len(op.ScrapReasons) != 1 {
		t.Errorf("wind after a restart: %+v", op)
	}
	r.advance(time.Minute)
	var ks []mes.KPI
	r.must("manager", "GET", "/kpis?by=station&station=W1", nil, &ks, 200)
	if len(ks) != 1 || len(ks[0].ScrapByReason) != 1 || ks[0].ScrapByReason[0] != (mes.ReasonQty{Reason: "winding_short", Qty: 1}) {
		t.Errorf("W1's scrap by reason: %+v", ks)
	}
	r.must("manager", "GET", "/kpis?by=order&order=PO-9", nil, &ks, 200)
	if len(ks) != 1 || len(ks[0].ScrapByReason) != 1 || ks[0].ScrapByReason[0].Reason != "winding_short" {
		t.Errorf("PO-9's scrap by reason: %+v", ks)
	}
	var recs mes.OrderRecords
	r.must("planner", "GET", "/orders/PO-9/records", nil, &recs, 200)
	got := map[string]mes.Count{}
	for _, c := range recs.Counts {
		got[c.ScanID] = c
	}
	if len(recs.Counts) != 4 || got["R1"].Good != 4 || got["R1"].Action != "report" || got["R1"].Worker != "W-7" || got["R1"].By != "u-operator" ||
		got["R3"].ScrapReason != "winding_short" || got["C1"].Action != "confirm" || got["C1"].Good != 6 || got["C2"].Good != 7 || got["R1"].At.IsZero() {
		t.Errorf("count records: %+v", recs.Counts)
	}
}
