package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/plant/kpi"
	"twin/plant/model"
	"twin/sim"
	"twin/twin/ingest"
	"twin/twin/mes/recstore"
	"twin/twin/mes/schedule"
	"twin/twin/state"
	"twin/twin/store"

	"twin/twin/mes"
)

// rig is a records server as twin serve runs it: the twin's history and
// live state (Badger on disk), the records (Badger on disk), the API on a
// real TCP port, and a plant clock the test moves.
type rig struct {
	t     testing.TB
	dir   string
	p     *plant.Plant
	st    *store.Store
	in    *ingest.Ingest
	db    *mes.DB
	srv   *httptest.Server
	mu    sync.Mutex
	clock time.Time
	tok   map[string]string // role → token
	// sess, when set, has do send a role's session cookie and CSRF
	// token instead of its Bearer token
	sess  map[string]*browser
	count map[string]float64
	// realHash hashes each password for itself (TestLogin)
	realHash bool
	// logger is the records' log (nil: none)
	logger *slog.Logger
	// signin throttles the records' sign-ins (zero: the defaults)
	signin mes.SignInOptions
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func loadPlantErr() (*plant.Plant, error) { return plant.Load("../../../testdata/plants/motor.yaml") }

func loadPlant(t testing.TB) *plant.Plant {
	p, err := loadPlantErr()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newRig(t testing.TB, dir string) *rig {
	r := &rig{t: t, dir: dir, p: loadPlant(t), clock: time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)), count: map[string]float64{}}
	r.open()
	t.Cleanup(r.close)
	return r
}

func (r *rig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

func (r *rig) advance(d time.Duration) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock = r.clock.Add(d)
	return r.clock
}

func (r *rig) open() {
	var err error
	if r.st, err = store.Open(r.dir+"/history", store.Options{Logger: quiet}); err != nil {
		r.t.Fatal(err)
	}
	s, err := r.st.StateAt(r.now().UnixNano())
	if err != nil {
		r.t.Fatal(err)
	}
	r.in = ingest.New(r.st, s, ingest.Options{Logger: quiet, Clock: ingest.Clock{Now: r.now}})
	log := quiet
	if r.logger != nil {
		log = r.logger
	}
	if r.db, err = mes.Open(r.dir+"/mes", mes.Options{Plant: r.p, History: r.st, Live: r.in, Now: r.now, Logger: log, HashPassword: r.hash, SignIn: r.signin}); err != nil {
		r.t.Fatal(err)
	}
	r.srv = httptest.NewServer(New(r.db, &schedule.Planner{Records: r.db, Live: r.in}))
}

// hash is the rig's password hash: cheap, unless a test wants the real one.
func (r *rig) hash(pw string) string {
	if r.realHash {
		return mes.HashPassword(pw)
	}
	return cheap()
}

func (r *rig) close() {
	if r.srv == nil {
		return
	}
	r.srv.Close()
	r.db.Close()
	r.in.Close()
	r.st.Close()
	r.srv = nil
}

// restart stops everything and opens it again from the disk.
func (r *rig) restart() {
	r.close()
	r.open()
}

// cheap is one real argon2id hash, reused for every password the tests
// set (TestLogin checks the real thing): it keeps the suite fast.
var cheap = sync.OnceValue(func() string { return mes.HashPassword("correct horse") })

// users makes one user per role and a token for each (their passwords
// all "correct horse": one real argon2id hash, reused, keeps the suite fast).
func (r *rig) users() {
	r.tok = map[string]string{}
	for _, role := range mes.Roles {
		if _, err := r.db.CreateUser("setup", mes.NewUser{Name: "u-" + role, Roles: []string{role}, Password: "correct horse " + role}); err != nil {
			r.t.Fatal(err)
		}
		is, err := r.db.IssueToken("setup", "u-"+role, mes.NewToken{Label: "test"})
		if err != nil {
			r.t.Fatal(err)
		}
		r.tok[role] = is.Token
	}
}

// do sends a request as role and decodes the JSON answer into out.
func (r *rig) do(role, method, path string, in, out any) int {
	r.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.srv.URL+"/api/v1"+path, body)
	if b := r.sess[role]; b != nil {
		req.AddCookie(b.cookie)
		req.Header.Set(CSRFHeader, b.csrf)
	} else if role != "" {
		req.Header.Set("Authorization", "Bearer "+r.tok[role])
	}
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			r.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if out, ok := out.(*apiError); ok && resp.StatusCode >= 400 {
		json.Unmarshal(b, out)
	}
	return resp.StatusCode
}

func (r *rig) must(role, method, path string, in, out any, want int) {
	r.t.Helper()
	var e apiError
	if out == nil {
		out = &e
	}
	if code := r.do(role, method, path, in, out); code != want {
		r.t.Fatalf("%s %s as %s: status %d, want %d (%v)", method, path, role, code, want, e)
	}
}

// machine emits what a machine's gateway would: its state and counters.
func (r *rig) machine(unit string, st event.MachineState, good float64) {
	u := r.p.FindUnit(unit)
	at := r.now().UnixNano()
	r.count[unit] += good
	r.in.EmitBatch([]event.Event{
		{Time: at, Kind: event.State, Asset: u.Path(), Value: float64(st), Source: event.Live},
		{Time: at, Kind: event.Counter, Asset: u.Path(), Name: "good", Value: r.count[unit], Source: event.Live},
		{Time: at, Kind: event.Measure, Asset: u.Path(), Name: "energy_kwh", Value: r.count[unit] * 0.5, Source: event.Live},
	}, nil)
	// the live state has it when EmitBatch returns
	var have float64
	r.in.View(func(s *state.State) {
		if a := s.Asset(u.Path()); a != nil {
			have = a.Counters["good"]
		}
	})
	if have != r.count[unit] {
		r.t.Fatalf("machine %s: the live state has the count %v, want %v", unit, have, r.count[unit])
	}
}

// client keeps a connection per terminal, as terminals do.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func ptr[T any](v T) *T { return &v }

// TestOrderToKPI runs an order through the records over HTTP: entered,
// released, lots received, every card scanned on and confirmed with the
// machines counting, material booked, the end-of-line test with one
// nonconforming unit re-inspected after rework, the server restarted in
// the middle, the order completed, and its KPIs.
func TestOrderToKPI(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	due := r.now().Add(48 * time.Hour)
	var o mes.Order
	r.must("planner", "POST", "/orders", mes.NewOrder{ID: "SO-1001", Customer: "Wuhan Pumps", Priority: 1, Product: "YE3-100L-4", Quantity: 3, Due: due}, &o, 201)
	if o.Status != mes.StatusPlanned {
		t.Fatalf("new order is %s", o.Status)
	}
	// the same id twice is a conflict; a bad quantity names its field
	r.must("planner", "POST", "/orders", mes.NewOrder{ID: "SO-1001", Customer: "x", Product: "YE3-100L-4", Quantity: 1, Due: due}, nil, 409)
	var e apiError
	if code := r.do("planner", "POST", "/orders", map[string]any{"customer": "x", "product": "YE3-100L-4", "quantity": "three", "due": due}, &e); code != 400 || e.Field != "quantity" {
		t.Fatalf("quantity as a string: %d %+v", code, e)
	}
	r.must("planner", "POST", "/orders/SO-1001/release", nil, &o, 200)
	if len(o.WorkOrders) != 3 {
		t.Fatalf("work orders %v, want the motor's, the stator's and the rotor's", o.WorkOrders)
	}
	r.must("planner", "POST", "/orders/SO-1001/release", nil, nil, 409)
	for _, lot := range []mes.NewLot{{ID: "L-HS-1", Material: "housing", Supplier: "Chongqing Foundry", Quantity: 10}, {ID: "L-ES-1", Material: "endshield", Supplier: "Fuling Castings", Quantity: 20}, {ID: "L-BR-1", Material: "bearing", Supplier: "HRB", Quantity: 50}} {
		r.must("planner", "POST", "/lots", lot, nil, 201)
	}
	var recs mes.OrderRecords
	r.must("manager", "GET", "/orders/SO-1001/records", nil, &recs, 200)
	if len(recs.Operations) != 3+4+5 || len(recs.Units) != 3 {
		t.Fatalf("%d operations, %d units", len(recs.Operations), len(recs.Units))
	}
	// a card's QR code
	req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1/operations/SO-1001-YE3-100L-4-test/card.png", nil)
	req.Header.Set("Authorization", "Bearer "+r.tok["operator"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("card.png: %d, %q", resp.StatusCode, png[:min(8, len(png))])
	}

	scan := func(op, action, station string, good *int) mes.ScanResult {
		var card CardInfo
		r.must("operator", "GET", "/operations/"+op+"/card", nil, &card, 200)
		var res mes.ScanResult
		r.must("operator", "POST", "/scan", mes.Scan{Token: card.Token, Action: action, Station: station, Worker: "W-017", Good: good}, &res, 200)
		return res
	}
	// runs one operation: scan on, the machine runs and counts, scan off
	run := func(op, unit string, made, confirmed int) mes.ScanResult {
		t.Helper()
		if res := scan(op, "", unit, nil); res.Action != "started" || res.Duplicate {
			t.Fatalf("%s: start scan %+v", op, res)
		}
		r.advance(10 * time.Minute)
		r.machine(unit, event.Running, 0)
		r.advance(40 * time.Minute)
		r.machine(unit, event.Idle, float64(made))
		r.advance(5 * time.Minute)
		res := scan(op, "", unit, ptr(confirmed))
		if res.Action != "confirmed" || res.Duplicate || res.Operation.Good != confirmed {
			t.Fatalf("%s: confirm scan %+v", op, res)
		}
		return res
	}
	for _, c := range []struct{ op, unit string }{{"stator-stamp", "PR1"}, {"stator-wind", "W1"}, {"stator-impregnate", "OV1"}} {
		run("SO-1001-"+c.op, c.unit, 3, 3)
	}
	// the machine counted 2, the operator says 3: flagged, not merged
	res := run("SO-1001-rotor-stamp", "PR1", 2, 3)
	if res.Flag == nil || !res.Operation.Mismatch || res.Flag.Machine != 2 || res.Flag.Manual != 3 {
		t.Fatalf("count mismatch not flagged: %+v", res)
	}

	// restart the server mid-way: nothing lost
	var before mes.Page[mes.AuditEntry]
	r.must("admin", "GET", "/audit?limit=1000", nil, &before, 200)
	r.restart()
	var after mes.Page[mes.AuditEntry]
	r.must("admin", "GET", "/audit?limit=1000", nil, &after, 200)
	if len(after.Items) != len(before.Items) || len(before.Items) < 20 {
		t.Fatalf("audit entries %d before the restart, %d after", len(before.Items), len(after.Items))
	}
	var op mes.Operation
	r.must("operator", "GET", "/operations/SO-1001-rotor-stamp", nil, &op, 200)
	if op.Status != mes.OpConfirmed || op.Good != 3 || !op.Mismatch {
		t.Fatalf("after restart: %+v", op)
	}

	for _, c := range []struct{ op, unit string }{{"rotor-cast", "DC1"}, {"rotor-machine", "CNC1"}, {"rotor-balance", "BAL1"}, {"YE3-100L-4-pressfit", "PF1"}} {
		run("SO-1001-"+c.op, c.unit, 3, 3)
	}
	// material: bearings at the press, housings, end shields and the made parts at assembly
	var cons mes.Consumption
	r.must("operator", "POST", "/consumptions", mes.NewConsumption{Operation: "SO-1001-YE3-100L-4-pressfit", Lot: "L-BR-1"}, &cons, 201)
	if cons.Quantity != 6 {
		t.Fatalf("bearings booked %v, want 2 × 3", cons.Quantity)
	}
	for _, lot := range []string{"L-HS-1", "L-ES-1", "SO-1001-stator", "SO-1001-rotor"} {
		r.must("operator", "POST", "/consumptions", mes.NewConsumption{Operation: "SO-1001-YE3-100L-4-assemble", Lot: lot}, nil, 201)
	}
	r.must("operator", "POST", "/consumptions", mes.NewConsumption{Operation: "SO-1001-YE3-100L-4-assemble", Lot: "L-HS-1", Serials: []string{"SO-1001-0001"}, PerUnit: 8}, &e, 400)
	run("SO-1001-YE3-100L-4-assemble", "AS1", 3, 3)

	// end-of-line test: units 1 and 3 pass, unit 2 fails, is reworked and passes
	eol := "SO-1001-YE3-100L-4-test"
	scan(eol, "start", "EOL1", nil)
	good := map[string]float64{"insulation resistance": 520, "no-load current": 9.8, "hi-pot leakage": 1.2}
	bad := map[string]float64{"insulation resistance": 60, "no-load current": 9.8, "hi-pot leakage": 1.2}
	var in mes.Inspection
	r.must("quality", "POST", "/inspections", mes.NewInspection{Serial: "SO-1001-0001", Operation: eol, Values: good}, &in, 201)
	if !in.Pass || in.NC != "" {
		t.Fatalf("unit 1: %+v", in)
	}
	r.must("quality", "POST", "/inspections", mes.NewInspection{Serial: "SO-1001-0002", Operation: eol, Values: bad}, &in, 201)
	if in.Pass || in.NC == "" {
		t.Fatalf("unit 2 should fail and open a nonconformance: %+v", in)
	}
	nc := in.NC
	var u mes.Unit
	r.must("quality", "GET", "/units/SO-1001-0002", nil, &u, 200)
	if u.Status != mes.UnitRework || u.Reinspection != eol {
		t.Fatalf("unit 2 not routed to rework with a re-inspection: %+v", u)
	}
	var ncs mes.Page[mes.Nonconformance]
	r.must("quality", "GET", "/nonconformances?open=true", nil, &ncs, 200)
	if len(ncs.Items) != 1 || ncs.Items[0].ID != nc || ncs.Items[0].ReworkAt != "repair" || ncs.Items[0].Reinspection != "pending" {
		t.Fatalf("open nonconformances %+v", ncs.Items)
	}
	// a missing characteristic names it
	r.must("quality", "POST", "/inspections", mes.NewInspection{Serial: "SO-1001-0003", Operation: eol, Values: map[string]float64{"no-load current": 10}}, &e, 400)
	r.must("quality", "POST", "/nonconformances/"+nc+"/disposition", mes.Disposition{Decision: "rework", Note: "re-dip the winding"}, nil, 200)
	r.advance(30 * time.Minute)
	r.must("quality", "POST", "/inspections", mes.NewInspection{Serial: "SO-1001-0002", Operation: eol, Values: good}, &in, 201)
	if !in.Pass || !in.Reinspection || in.NC != nc {
		t.Fatalf("re-inspection: %+v", in)
	}
	r.must("quality", "POST", "/inspections", mes.NewInspection{Serial: "SO-1001-0003", Operation: eol, Values: good}, &in, 201)
	var ncOne mes.Page[mes.Nonconformance]
	r.must("quality", "GET", "/nonconformances?order=SO-1001", nil, &ncOne, 200)
	if len(ncOne.Items) != 1 || ncOne.Items[0].Status != "closed" || ncOne.Items[0].Reinspection != "passed" || ncOne.Items[0].Disposition != "rework" {
		t.Fatalf("nonconformance after re-inspection: %+v", ncOne.Items)
	}
	r.advance(30 * time.Minute)
	r.machine("EOL1", event.Running, 0)
	r.advance(20 * time.Minute)
	r.machine("EOL1", event.Idle, 3)
	r.must("operator", "POST", "/scan", mes.Scan{Token: r.db.CardToken(eol), Good: ptr(3)}, nil, 200)
	run("SO-1001-YE3-100L-4-paint", "PT1", 3, 3)
	run("SO-1001-YE3-100L-4-pack", "PK1", 3, 3)

	r.must("planner", "GET", "/orders/SO-1001", nil, &o, 200)
	if o.Status != mes.StatusCompleted || o.Good != 3 || o.Completed.IsZero() {
		t.Fatalf("order not completed: %+v", o)
	}

	// genealogy both ways
	var back mes.Backward
	r.must("quality", "GET", "/units/SO-1001-0002/genealogy", nil, &back, 200)
	lots := map[string]bool{}
	for _, m := range back.Materials {
		lots[m.Lot.ID] = true
	}
	for _, l := range []string{"L-BR-1", "L-HS-1", "L-ES-1", "SO-1001-stator", "SO-1001-rotor"} {
		if !lots[l] {
			t.Fatalf("genealogy of unit 2 lacks %s: %v", l, lots)
		}
	}
	if len(back.Inspections) != 2 || len(back.Nonconformances) != 1 || back.Order.Customer != "Wuhan Pumps" {
		t.Fatalf("genealogy: %d inspections, %d nonconformances, customer %q", len(back.Inspections), len(back.Nonconformances), back.Order.Customer)
	}
	var fwd mes.Forward
	r.must("quality", "GET", "/lots/L-BR-1/where-used", nil, &fwd, 200)
	if len(fwd.Units) != 3 || len(fwd.Orders) != 1 || fwd.Lot.Remaining != 44 {
		t.Fatalf("where-used of the bearings: %d units, %d orders, %v left", len(fwd.Units), len(fwd.Orders), fwd.Lot.Remaining)
	}

	// KPIs of the order: FPY 2/3, on time, labour and energy per unit
	var ks []mes.KPI
	r.must("manager", "GET", "/kpis?by=order&order=SO-1001", nil, &ks, 200)
	if len(ks) != 1 {
		t.Fatalf("kpis %+v", ks)
	}
	k := ks[0]
	if k.FPY == nil || math.Abs(*k.FPY-2.0/3) > 1e-12 || k.OnTime == nil || *k.OnTime != 1 || k.Units != 3 {
		t.Fatalf("order KPIs: %+v", k)
	}
	// 12 operations with a scan on and a scan off 55 min apart, and the EOL's
	if k.LabourH < 12*55/60.0 || k.LabourPer == nil || k.KWhPerUnit == nil || *k.KWhPerUnit <= 0 || k.CO2PerUnit == nil {
		t.Fatalf("order labour/energy KPIs: %+v", k)
	}
	// the assembly bench's OEE over the hour of its run: 40 min running of 55 observed
	from := url.QueryEscape(o.Created.Format(time.RFC3339))
	r.must("manager", "GET", "/kpis?by=station&station=AS1&from="+from+"&to="+url.QueryEscape(r.now().Format(time.RFC3339)), nil, &ks, 200)
	if len(ks) != 1 || ks[0].Availability == nil || ks[0].OEE == nil || ks[0].GQ != 3 || ks[0].APT <= 0 {
		t.Fatalf("station KPIs: %+v", ks)
	}
	if a := *ks[0].Availability; a <= 0 || a > 1 {
		t.Fatalf("availability %v", a)
	}
	ks = nil
	r.must("manager", "GET", "/kpis?by=line&from="+from, nil, &ks, 200)
	if len(ks) != 3 {
		t.Fatalf("line KPIs: %d rows", len(ks))
	}
	ks = nil
	r.advance(time.Minute) // windows end before now
	r.must("manager", "GET", "/kpis?by=day&from="+o.Created.Format(time.DateOnly), nil, &ks, 200)
	if len(ks) == 0 || ks[0].Orders != 1 || ks[0].Units != 3 {
		t.Fatalf("day KPIs: %+v", ks)
	}
	r.must("manager", "GET", "/kpis?by=week", nil, &e, 400)
	if e.Field != "by" {
		t.Fatalf("by=week: %+v", e)
	}

	// labour: per worker and day, and the payroll CSV adds up to the same hours
	var hrs []mes.Hours
	r.must("manager", "GET", "/labour/hours", nil, &hrs, 200)
	if len(hrs) == 0 || hrs[0].Worker != "W-017" {
		t.Fatalf("hours %+v", hrs)
	}
	req, _ = http.NewRequest("GET", r.srv.URL+"/api/v1/labour/payroll.csv", nil)
	req.Header.Set("Authorization", "Bearer "+r.tok["manager"])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(mes.PayrollHeader, ",") {
		t.Fatalf("payroll: %v %v", err, rows)
	}
	var sum, want float64
	for _, row := range rows[1:] {
		var h float64
		fmt.Sscan(row[8], &h)
		sum += h
	}
	for _, h := range hrs {
		want += h.Hours
	}
	if d := sum - want; d > 0.01 || d < -0.01 {
		t.Fatalf("payroll sums to %.4f h, hours by day to %.4f", sum, want)
	}

	// the audit log has the order's story and cannot be written
	var aud mes.Page[mes.AuditEntry]
	r.must("manager", "GET", "/audit?kind=order&id=SO-1001", nil, &aud, 200)
	var actions []string
	for _, a := range aud.Items {
		actions = append(actions, a.Action)
	}
	if got := strings.Join(actions, " "); !strings.HasPrefix(got, "order.create order.release scan.start") || !strings.HasSuffix(got, "scan.confirm") {
		t.Fatalf("order audit: %s", got)
	}
	if aud.Items[1].Before == nil || !bytes.Contains(aud.Items[1].Before, []byte(`"planned"`)) || !bytes.Contains(aud.Items[1].After, []byte(`"released"`)) {
		t.Fatalf("release audit before/after: %s → %s", aud.Items[1].Before, aud.Items[1].After)
	}
	for _, m := range []string{"PUT", "DELETE", "POST", "PATCH"} {
		if code := r.do("admin", m, "/audit", map[string]any{}, nil); code != 404 && code != 405 {
			t.Fatalf("%s /audit: %d, want 404 or 405", m, code)
		}
	}
	var again mes.Page[mes.AuditEntry]
	r.must("manager", "GET", "/audit?kind=order&id=SO-1001", nil, &again, 200)
	if len(again.Items) != len(aud.Items) {
		t.Fatalf("the audit log changed: %d entries, then %d", len(aud.Items), len(again.Items))
	}
}

// TestPaging walks a list page by page.
func TestPaging(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	for i := range 25 {
		r.must("planner", "POST", "/orders", mes.NewOrder{ID: fmt.Sprintf("P-%03d", i), Customer: "c", Product: "YE3-160M-4", Quantity: 1, Due: r.now().Add(time.Hour)}, nil, 201)
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		var p mes.Page[mes.Order]
		r.must("planner", "GET", "/orders?limit=10&cursor="+cursor, nil, &p, 200)
		pages++
		for _, o := range p.Items {
			if seen[o.ID] {
				t.Fatalf("%s twice", o.ID)
			}
			seen[o.ID] = true
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 25 || pages != 3 {
		t.Fatalf("%d orders in %d pages", len(seen), pages)
	}
	var e apiError
	r.must("planner", "GET", "/orders?limit=0", nil, &e, 400)
	if e.Field != "limit" {
		t.Fatalf("limit=0: %+v", e)
	}
	r.must("planner", "GET", "/orders?cursor=zzz", nil, &e, 400)
	r.must("planner", "GET", "/orders?from=yesterday", nil, &e, 400)
	if e.Field != "from" {
		t.Fatalf("from=yesterday: %+v", e)
	}
}

// TestLogin signs in with a password hashed with argon2id, and checks
// that wrong passwords, unknown and disabled users get 401.
func TestLogin(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.realHash = true
	if _, err := r.db.CreateUser("setup", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: "ten chars at least"}); err != nil {
		t.Fatal(err)
	}
	var pw string
	r.db.Store().View(func(tx *recstore.Tx) error { _, err := tx.Get("pw/li", &pw); return err })
	if !strings.HasPrefix(pw, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("stored password %q is not argon2id", pw)
	}
	var is mes.Issued
	r.must("", "POST", "/login", mes.Login{Name: "li", Password: "ten chars at least"}, &is, 200)
	req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+is.Token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me mes.User
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if resp.StatusCode != 200 || me.Name != "li" || is.Info.Expires.IsZero() {
		t.Fatalf("me: %d %+v, token %+v", resp.StatusCode, me, is.Info)
	}
	r.must("", "POST", "/login", mes.Login{Name: "li", Password: "ten chars at leasT"}, nil, 401)
	r.must("", "POST", "/login", mes.Login{Name: "nobody", Password: "ten chars at least"}, nil, 401)
	if _, err := r.db.ChangeUser("setup", "li", mes.UserChange{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	r.must("", "POST", "/login", mes.Login{Name: "li", Password: "ten chars at least"}, nil, 401)
	if _, err := r.db.Authenticate(is.Token); err == nil {
		t.Fatal("a disabled user's token still works")
	}
	// the audit log never holds the hash
	aud, err := r.db.Audit("", "", time.Time{}, time.Time{}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range aud.Items {
		if bytes.Contains(a.After, []byte("argon2")) || bytes.Contains(a.Before, []byte("argon2")) {
			t.Fatalf("audit entry %d holds a password hash", a.Seq)
		}
	}
}

// A day the twin watched only from 09:00: the KPIs of the day count the
// time it saw, the hours before are unobserved (not planned, not lost),
// and its availability is the plant's own (the simulated plant's, over
// the same hours). Stations add up to their lines and lines to the day.
func TestKPIsOfAPartlyObservedDay(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	// the plant: simulated from Monday 00:00; the twin starts watching on
	// Wednesday at 09:00 (the plant tells it its whole state then, as a
	// gateway's birth does) and watches until 15:00
	watch, until := 2*sim.Day+9*sim.Hour, 2*sim.Day+15*sim.Hour
	var evs []event.Event
	var live bool
	m, err := model.New(r.p, model.Options{Seed: 5, Warmup: watch, Source: event.Live, Sink: event.SinkFunc(func(e event.Event) {
		if live {
			evs = append(evs, e)
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	m.RunUntil(watch)
	live = true
	m.EmitState()
	m.RunUntil(until)
	truth := m.Result()
	if err := r.st.Append(evs); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.clock = m.WallTime(until)
	r.mu.Unlock()

	var days, stations, lines []mes.KPI
	r.must("manager", "GET", "/kpis?by=day", nil, &days, 200)
	r.must("manager", "GET", "/kpis?by=station", nil, &stations, 200)
	r.must("manager", "GET", "/kpis?by=line", nil, &lines, 200)
	if len(days) != 1 || days[0].Key != "2026-03-04" {
		t.Fatalf("days %+v", days)
	}
	d := days[0]
	n := float64(len(r.p.Units))
	if math.Abs(d.Unobserved-9*n) > 1e-9 {
		t.Fatalf("unobserved %.6f h, want 9 h × %v machines", d.Unobserved, n)
	}
	wantA := truth.Availability
	if d.Availability == nil || math.Abs(*d.Availability-wantA) > 1e-9 {
		t.Fatalf("availability %v, the plant's own over the hours watched %v", d.Availability, wantA)
	}
	if math.Abs(d.APT-truth.Times.APT.Hours()) > 1e-9 || math.Abs(d.PBT-truth.Times.PBT().Hours()) > 1e-9 {
		t.Fatalf("APT %v PBT %v, the plant's %v %v", d.APT, d.PBT, truth.Times.APT.Hours(), truth.Times.PBT().Hours())
	}
	// the twin cannot know how long the parts in process at 09:00 had run:
	// it credits what it saw of their runs (at most their planned time),
	// so on six hours its OEE is within a point of the plant's own
	if d.OEE == nil || math.Abs(*d.OEE-truth.OEE) > 0.01 {
		t.Fatalf("OEE %v (E %v), the plant's %v (E %v)", *d.OEE, *d.Effectiveness, truth.OEE, truth.Effectiveness)
	}
	if d.Units != float64(truth.Produced) {
		t.Fatalf("units %v, the plant made %d", d.Units, truth.Produced)
	}
	sum := func(rows []mes.KPI) (apt, pbt, pq, gq, planned float64) {
		for _, k := range rows {
			apt, pbt, pq, gq, planned = apt+k.APT, pbt+k.PBT, pq+k.PQ, gq+k.GQ, planned+k.Planned
		}
		return
	}
	for name, rows := range map[string][]mes.KPI{"stations": stations, "lines": lines} {
		apt, pbt, pq, gq, planned := sum(rows)
		if math.Abs(apt-d.APT) > 1e-9 || math.Abs(pbt-d.PBT) > 1e-9 || pq != d.PQ || gq != d.GQ || math.Abs(planned-d.Planned) > 1e-9 {
			t.Errorf("%s add up to APT %v PBT %v PQ %v GQ %v planned %v; the day: %v %v %v %v %v", name, apt, pbt, pq, gq, planned, d.APT, d.PBT, d.PQ, d.GQ, d.Planned)
		}
	}
	for _, l := range lines {
		var in []mes.KPI
		for _, s := range stations {
			for _, u := range r.p.Units {
				if u.ID() == s.Key && kpi.LineOf(u) == l.Key {
					in = append(in, s)
				}
			}
		}
		apt, pbt, _, _, _ := sum(in)
		if math.Abs(apt-l.APT) > 1e-9 || math.Abs(pbt-l.PBT) > 1e-9 {
			t.Errorf("line %s: APT %v PBT %v, its stations' %v %v", l.Key, l.APT, l.PBT, apt, pbt)
		}
	}
	t.Logf("day %s: OEE %.4f (A %.4f E %.4f Q %.4f), unobserved %.1f h; the plant's own OEE %.4f", d.Key, *d.OEE, *d.Availability, *d.Effectiveness, *d.QualityRate, d.Unobserved, truth.OEE)
}

// Orders reach the twin from the records: a released order is in the
// twin's state (so the views list it and the forecast works it) with its
// quantity, due date and priority; a cancelled one is closed there; a
// planned one is not on the floor yet.
func TestOrdersReachTheTwin(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	due := r.now().Add(48 * time.Hour)
	for _, id := range []string{"PO-1", "PO-2", "PO-3"} {
		r.must("planner", "POST", "/orders", mes.NewOrder{ID: id, Customer: "Wuhan Pumps", Product: "YE3-160M-4", Quantity: 5, Due: due, Priority: 1}, nil, 201)
	}
	r.must("planner", "POST", "/orders/PO-1/release", nil, nil, 200)
	r.must("planner", "POST", "/orders/PO-2/release", nil, nil, 200)
	r.must("planner", "POST", "/orders/PO-2/cancel", nil, nil, 200)
	st := r.in.Snapshot()
	o := st.Order("PO-1")
	if o == nil || o.Quantity != 5 || o.Product != "YE3-160M-4" || o.Priority != 1 || o.Due/1e9 != due.Unix() || o.Status != "released" {
		t.Fatalf("the released order in the twin: %+v", o)
	}
	if o := st.Order("PO-2"); o == nil || o.Status != "cancelled" {
		t.Fatalf("the cancelled order in the twin: %+v", o)
	}
	if o := st.Order("PO-3"); o != nil {
		t.Fatalf("a planned order is not on the floor: %+v", o)
	}
}
