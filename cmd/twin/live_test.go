package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/forecast"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/twin/store"
	"twin/viz/scene"
)

// demoUntil runs twin demo with args until its plant has run span of
// plant time (its scenes' time, from the first it shows; at most 2 min
// of wall time), then stops it as Ctrl-C would: a demo on a loaded
// machine runs behind its --speed, so a wall-clock --for would cover
// less of the plant's day than the test needs.
func demoUntil(t *testing.T, span time.Duration, args ...string) (string, string, int) {
	t.Helper()
	const token = "demo-until"
	var out, errs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	// plain HTTP: the demo's HTTPS is TestDemoRunsAgain's and TestDemoWebPage's
	go func() { done <- run(ctx, append(args, "--token", token, "--http-only"), &out, &errs) }()
	web := regexp.MustCompile(`web view +(http://[^/\s]+)/`)
	var first, now int64
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		select {
		case code := <-done: // it ended by itself: an error
			return out.String(), errs.String(), code
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("after 2 min the demo's plant had run %v of the %v the test waits for:\n%s\n%s", time.Duration(now-first), span, out.String(), errs.String())
		}
		m := web.FindStringSubmatch(out.String())
		if m == nil {
			continue
		}
		resp, err := http.Get(m[1] + "/api/scene?token=" + token)
		if err != nil {
			continue
		}
		var sc struct {
			Time int64 `json:"time"`
		}
		err = json.NewDecoder(resp.Body).Decode(&sc)
		resp.Body.Close()
		if err != nil || sc.Time == 0 {
			continue
		}
		if first == 0 {
			first = sc.Time
		}
		if now = sc.Time; time.Duration(now-first) >= span {
			break
		}
	}
	cancel()
	code := <-done // before reading out: the summary comes as it ends
	return out.String(), errs.String(), code
}

// TestDemoReplayForecast runs the demo for 75 min of plant time (virtual plant →
// embedded broker → twin → history), then replays the history and
// forecasts from it, as a user would.
func TestDemoReplayForecast(t *testing.T) {
	if err := os.Chdir("../.."); err != nil { // the demo's default plant is relative to the repository
		t.Fatal(err)
	}
	defer os.Chdir("cmd/twin")
	data := t.TempDir()
	ua := "127.0.0.1:0"
	if raceEnabled {
		ua = "off" // gopcua's server races on node values (see the Makefile)
	}
	out, errs, code := demoUntil(t, 75*time.Minute, "demo", "--data", data, "--speed", "900", "--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", ua, "--http", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errs)
	}
	m := regexp.MustCompile(`history: (\d+) events .*\(malformed messages: (\d+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo output:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	v := regexp.MustCompile(`received (\d+) MQTT messages and (\d+) OPC UA values`).FindStringSubmatch(out)
	if v == nil || v[1] == "0" || (!raceEnabled && v[2] == "0") {
		t.Fatalf("connectors: %v\n%s", v, out)
	}
	if n < 200 || m[2] != "0" || !strings.Contains(out, "running") || !strings.Contains(out, "open orders") || !strings.Contains(out, "forecast from") {
		t.Fatalf("demo recorded %s events, %s malformed:\n%s", m[1], m[2], out)
	}
	out, errs, code = runCLI(t, "replay", "--data", data)
	if code != 0 || !strings.Contains(out, "replayed "+m[1]+" events") {
		t.Fatalf("replay: exit %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "forecast", "--data", data, "--json", "--horizon", "72h", "--replications", "3")
	if code != 0 {
		t.Fatalf("forecast: exit %d\n%s", code, errs)
	}
	var f struct {
		Orders     []struct{ ID string } `json:"orders"`
		Bottleneck string                `json:"bottleneck"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil || len(f.Orders) == 0 || f.Bottleneck == "" {
		t.Fatalf("forecast JSON: %v\n%s", err, out)
	}
}

// TestDemoRecordsCLI: the demo's floor writes the records (orders
// entered, cards scanned, units tested); then the records are served and
// scripted with twin orders, twin api and twin scan over HTTP.
func TestDemoRecordsCLI(t *testing.T) {
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("cmd/twin")
	data := t.TempDir()
	// twice: the second demo continues the first one's history and records
	for run := 1; run <= 2; run++ {
		args := []string{"demo", "--data", data, "--speed", "1200", "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0"}
		if run == 1 {
			args = append(args, "--start", workingDay)
		}
		out, errs, code := demoUntil(t, 2*time.Hour, args...)
		if code != 0 {
			t.Fatalf("demo %d: exit %d\n%s\n%s", run, code, out, errs)
		}
		m := regexp.MustCompile(`records: (\d+) orders entered and released, (\d+) card scans, (\d+) unit tests.*, (\d+) refused`).FindStringSubmatch(out)
		if m == nil || run == 1 && m[1] == "0" || m[2] == "0" {
			t.Fatalf("demo %d: the floor wrote no records:\n%s", run, out)
		}
		if m[4] != "0" { // the floor does what a shop floor would: nothing the records must refuse
			t.Fatalf("demo %d: the records refused %s of the floor's entries:\n%s\n%s", run, m[4], out, errs)
		}
	}
	// a token from the records on disk, for the first account (whose
	// made-up password must be changed first)
	withStdin(t, "blue motor on line two\n", func() {
		if _, errs, code := runCLI(t, "users", "passwd", "--data", data, "--name", "admin"); code != 0 {
			t.Fatalf("users passwd: %d %s", code, errs)
		}
	})
	tok, errs, code := runCLI(t, "users", "token", "--data", data, "--name", "admin")
	if code != 0 || !strings.HasPrefix(tok, "tw_") {
		t.Fatalf("users token: %d %q %s", code, tok, errs)
	}
	p, err := plant.Load("testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateUser("test", mes.NewUser{Name: "pat", Roles: []string{mes.RolePlanner, mes.RoleOperator}, Password: "planner password"}); err != nil {
		t.Fatal(err)
	}
	is, err := db.IssueToken("test", "pat", mes.NewToken{Label: "cli test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(db, nil))
	defer srv.Close()
	cli := func(args ...string) string {
		t.Helper()
		out, errs, code := runCLI(t, append(append([]string{}, args...), "--server", srv.URL, "--token", is.Token)...)
		if code != 0 {
			t.Fatalf("twin %v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
	if out := cli("orders", "list"); !regexp.MustCompile(`(?m)^G\d{5} `).MatchString(out) {
		t.Fatalf("orders list does not show the demo's orders:\n%s", out)
	}
	cli("orders", "add", "--id", "CLI-1", "--customer", "Wuhan Pumps", "--product", "YE3-200L-4", "--qty", "2", "--due", "2030-01-02T16:00:00+08:00")
	cli("orders", "release", "CLI-1")
	var card struct{ Token string }
	if err := json.Unmarshal([]byte(cli("api", "GET", "/api/v1/operations/CLI-1-YE3-200L-4-pack/card")), &card); err != nil || card.Token == "" {
		t.Fatalf("card: %v", err)
	}
	// the last card first: refused, saying what comes first and how to override
	if _, errs, code := runCLI(t, "scan", card.Token, "--station", "PK1", "--server", srv.URL, "--token", is.Token); code != 1 ||
		!strings.Contains(errs, "comes after CLI-1-YE3-200L-4-paint, which has not started") || !strings.Contains(errs, "--override REASON") {
		t.Fatalf("pack scanned first: exit %d %s", code, errs)
	}
	// the cards before it, in the routing's sequence
	for _, op := range []string{"stator-stamp", "stator-wind", "stator-impregnate", "rotor-stamp", "rotor-cast", "rotor-machine", "rotor-balance",
		"YE3-200L-4-pressfit", "YE3-200L-4-assemble", "YE3-200L-4-test", "YE3-200L-4-paint"} {
		st := map[string]string{"stamp": "PR1", "wind": "W1", "impregnate": "OV1", "cast": "DC1", "machine": "CNC1", "balance": "BAL1", "pressfit": "PF1",
			"assemble": "AS1", "test": "EOL1", "paint": "PT1"}[op[strings.LastIndex(op, "-")+1:]]
		if _, err := db.DoScan("pat", mes.Scan{Token: db.CardToken("CLI-1-" + op), Action: "confirm", Station: st}); err != nil {
			t.Fatalf("confirm CLI-1-%s: %v", op, err)
		}
	}
	if out := cli("scan", card.Token, "--station", "PK1"); !strings.Contains(out, "started on qijiang/final/final-line/packing/PK1") {
		t.Fatalf("scan start: %s", out)
	}
	if out := cli("scan", card.Token, "--good", "2"); !strings.Contains(out, "confirmed") || !strings.Contains(out, "good 2") {
		t.Fatalf("scan confirm: %s", out)
	}
	if out := cli("scan", card.Token, "--action", "confirm", "--good", "1"); !strings.Contains(out, "already so") || !strings.Contains(out, "good 2") {
		t.Fatalf("a second confirmation changed the first: %s", out)
	}
	if out := cli("orders", "show", "CLI-1"); !strings.Contains(out, `"status": "completed"`) || !strings.Contains(out, `"good": 2`) {
		t.Fatalf("CLI-1 after its pack confirmed 2 of 2: %s", out)
	}
	// a supervisor's override, a make-up and a short close
	if _, err := db.CreateUser("test", mes.NewUser{Name: "sam", Roles: []string{mes.RoleSupervisor}, Password: "supervisor password"}); err != nil {
		t.Fatal(err)
	}
	sup, err := db.IssueToken("test", "sam", mes.NewToken{Label: "cli test"})
	if err != nil {
		t.Fatal(err)
	}
	cli("orders", "add", "--id", "CLI-2", "--customer", "Wuhan Pumps", "--product", "YE3-200L-4", "--qty", "2", "--due", "2030-01-02T16:00:00+08:00")
	cli("orders", "release", "CLI-2")
	tok2 := db.CardToken("CLI-2-YE3-200L-4-pack")
	out, errs, code := runCLI(t, "scan", tok2, "--station", "PK1", "--action", "confirm", "--good", "1", "--override", "packed on the spare line, cards follow",
		"--server", srv.URL, "--token", sup.Token)
	if code != 0 || !strings.Contains(out, "confirmed") || !strings.Contains(out, "override OV-") || !strings.Contains(out, "by sam (packed on the spare line, cards follow)") {
		t.Fatalf("supervisor's override: exit %d\n%s%s", code, out, errs)
	}
	if _, errs, code := runCLI(t, "orders", "makeup", "CLI-2", "--server", srv.URL, "--token", is.Token); code != 0 {
		t.Fatalf("makeup of the shortfall: exit %d %s", code, errs)
	} else if out := cli("orders", "show", "CLI-2"); !strings.Contains(out, "CLI-2-M1-YE3-200L-4") || !strings.Contains(out, "CLI-2-M1-rotor") {
		t.Fatalf("CLI-2 after its make-up: %s", out)
	}
	if _, errs, code := runCLI(t, "orders", "close", "CLI-2", "--server", srv.URL, "--token", is.Token); code != 1 || !strings.Contains(errs, "--reason is required") {
		t.Fatalf("close without a reason: exit %d %s", code, errs)
	}
	if out := cli("orders", "close", "CLI-2", "--reason", "customer takes one now"); !strings.Contains(out, `"short_close"`) || !strings.Contains(out, `"reason": "customer takes one now"`) || !strings.Contains(out, `"by": "pat"`) {
		t.Fatalf("close short: %s", out)
	}
	// the same card altered is refused with the field named
	bad := card.Token[:len(card.Token)-2] + "xx"
	if _, errs, code := runCLI(t, "scan", bad, "--server", srv.URL, "--token", is.Token); code != 1 || !strings.Contains(errs, "token: not a valid card") {
		t.Fatalf("altered card: exit %d %s", code, errs)
	}
}

// workingDay is when the demo tests start the virtual plant: a Wednesday
// morning shift, so what they see does not hang on the hour they run at
// (the plant works two shifts, Monday to Saturday).
const workingDay = "2026-03-04T09:00"

// TestDemoRunsAgain runs the demo three times on one data directory, as
// the README invites. The second continues the first: the plant goes on
// where it stopped (no gap in the history, no warm-up), with every order
// the records have open, and the floor goes on scanning them with
// nothing refused; an order a planner enters through the API during it
// is in the twin's views and is worked by the plant. No maintenance plan
// is overdue by months. A --start on a directory with a history is
// refused, saying what to do; --fresh starts anew.
func TestDemoRunsAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("three demos")
	}
	t.Setenv("TWIN_ADMIN_PASSWORD", adminPassword)
	data := t.TempDir()
	demo := func(args ...string) string {
		t.Helper()
		out, errs, code := runCLI(t, append([]string{"demo", "--data", data, "--speed", "1200", "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0"}, args...)...)
		if code != 0 {
			t.Fatalf("demo %v: exit %d\n%s\n%s", args, code, out, errs)
		}
		if m := regexp.MustCompile(`, (\d+) refused`).FindStringSubmatch(out); m == nil || m[1] != "0" {
			t.Fatalf("demo %v: the records refused some of the floor's entries:\n%s\n%s", args, out, errs)
		}
		return out
	}
	bounds := func() (int64, int64) {
		st, err := store.Open(data, store.Options{SnapshotEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		first, last, _, err := st.Bounds()
		if err != nil {
			t.Fatal(err)
		}
		return first, last
	}
	demo("--for", "5s", "--start", workingDay)
	_, end1 := bounds()
	if _, errs, code := runCLI(t, "demo", "--data", data, "--start", workingDay, "--for", "1s"); code != 1 || !strings.Contains(errs, "drop --start") || !strings.Contains(errs, "--fresh") {
		t.Fatalf("--start on a history: exit %d %s", code, errs)
	}

	// the second run, and a planner's order through the API while it runs
	type result struct {
		out  string
		code int
		errs string
	}
	done := make(chan result, 1)
	var buf syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var errb bytes.Buffer
		code := run(ctx, []string{"demo", "--data", data, "--speed", "1200", "--for", "3m", "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0"}, &buf, &errb)
		done <- result{buf.String(), code, errb.String()}
	}()
	var base string
	re := regexp.MustCompile(`web view +(https://[^/\s]+)`)
	for deadline := time.Now().Add(60 * time.Second); base == ""; time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no web view:\n%s", buf.String())
		}
	}
	if !strings.Contains(buf.String(), "continuing its history:") {
		t.Fatalf("the second demo does not continue the first:\n%s", buf.String())
	}
	hc := trusting(t, data)
	tok := login(t, hc, base, "admin", adminPassword)
	post := func(path string, body any, want int) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		r, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != want {
			t.Fatalf("POST %s: %s %s", path, r.Status, msg)
		}
	}
	post("/api/v1/users", map[string]any{"name": "li", "roles": []string{"planner"}, "password": "a planner's password"}, 201)
	tok = login(t, hc, base, "li", "a planner's password")
	post("/api/v1/orders", map[string]any{"id": "API-1", "customer": "Wuhan Pumps", "product": "YE3-100L-4", "quantity": 3, "due": "2026-03-05T12:00"}, 201)
	post("/api/v1/orders/API-1/release", nil, 200)
	// in the views (and below: worked by the plant)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var sc scene.Scene
		getJSON(t, hc, base+"/api/scene?token="+tokenOf(t, buf.String()), "", &sc)
		if slices.ContainsFunc(sc.Orders, func(x scene.OpenOrder) bool { return x.ID == "API-1" && x.Quantity == 3 }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("API-1 is not in the views:\n%s", buf.String())
		}
	}
	demoReady(t, hc, base)
	// the forecast of the running twin, and the way to it from its held
	// directory
	if _, errs, code := runCLI(t, "forecast", "--data", data); code != 1 || !strings.Contains(errs, "twin forecast --server "+base) {
		t.Fatalf("forecast on the running demo's directory: exit %d\n%s", code, errs)
	}
	if out, errs, code := runCLI(t, "forecast", "--server", base, "--data", data, "--token", tok, "--replications", "4", "--horizon", "48h"); code != 0 ||
		!strings.Contains(out, "times in Asia/Shanghai") || !strings.Contains(out, "forecast from") || !strings.Contains(out, "motors") || !strings.Contains(out, "API-1") {
		t.Fatalf("forecast --server: exit %d\n%s%s", code, out, errs)
	}
	var alarms []mes.MaintStatus
	getJSON(t, hc, base+"/api/v1/maintenance/alarms", tok, &alarms)
	for _, a := range alarms {
		if a.Remaining < -24 {
			t.Errorf("maintenance %s overdue by %.0f h", a.Plan.ID, -a.Remaining)
		}
	}
	// the plant takes the order at its next step: once the views show it
	// started (a station works a unit of it, a unit of it is done, or it
	// is done and no longer open: plant time, however slow the machine),
	// Ctrl-C
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var sc scene.Scene
		getJSON(t, hc, base+"/api/scene?token="+tokenOf(t, buf.String()), "", &sc)
		i := slices.IndexFunc(sc.Orders, func(x scene.OpenOrder) bool { return x.ID == "API-1" })
		if i < 0 || sc.Orders[i].Done > 0 || slices.ContainsFunc(sc.Stations, func(s scene.Station) bool { return strings.HasPrefix(s.Job, "API-1/") }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 min no station works a unit of API-1:\n%s", buf.String())
		}
	}
	demoMetrics(t, hc, base)
	cancel()
	r := <-done
	if r.code != 0 || !strings.Contains(r.out, ", 0 refused") {
		t.Fatalf("the second demo: exit %d\n%s\n%s", r.code, r.out, r.errs)
	}
	first2, end2 := bounds()
	_ = first2
	// the plant went on from where it stopped: the second run's events
	// start a second after the first's end, and nothing was re-warmed.
	// Around the restart only (from an hour before it to the first event
	// an hour after it, plant time): how far the second run gets depends
	// on the wall time it takes, and on a slow machine it runs into the
	// night, when the plant is off and quiet for hours (a gap of 2h30m the
	// check once took for the restart's)
	st, err := store.Open(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	var gap, gapAt int64
	prev := int64(0)
	errPast := errors.New("past the restart")
	st.Range(end1-int64(time.Hour), end2, func(e event.Event) error {
		if prev != 0 && e.Time-prev > gap {
			gap, gapAt = e.Time-prev, prev
		}
		prev = e.Time
		if e.Time > end1+int64(time.Hour) {
			return errPast
		}
		return nil
	})
	// every order open in the records is open in the twin, and the plant
	// will work it: it is in the position the next demo resumes
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	where, err := forecast.Position(p, st, time.Unix(0, end2))
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if gap > int64(45*time.Minute) {
		t.Errorf("the history has a gap of %v around the restart (from %v; the first run ended at %v)", time.Duration(gap),
			time.Unix(0, gapAt).In(p.Location).Format(time.DateTime), time.Unix(0, end1).In(p.Location).Format(time.DateTime))
	}
	db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p})
	if err != nil {
		t.Fatal(err)
	}
	page, err := db.Orders(mes.OrderFilter{}, "", 1000)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	worked := map[string]bool{}
	for _, o := range where.Orders {
		worked[o.ID] = true
		if o.ID == "API-1" && len(o.Jobs) == 0 {
			t.Errorf("the plant has not started a unit of API-1: %+v", o)
		}
	}
	open := 0
	for _, o := range page.Items {
		if o.Status == mes.StatusReleased || o.Status == mes.StatusInProgress {
			open++
			if !worked[o.ID] {
				t.Errorf("order %s is open in the records (%s), and no plant works it", o.ID, o.Status)
			}
		}
	}
	if open == 0 || !worked["API-1"] {
		t.Errorf("%d open orders; API-1 worked: %v", open, worked["API-1"])
	}

	// --fresh: a new history, from the new start
	demo("--fresh", "--for", "2s", "--start", "2026-03-11T09:00")
	first3, _ := bounds()
	if want := time.Date(2026, 3, 11, 9, 0, 0, 0, p.Location).UnixNano(); first3 != want {
		t.Errorf("after --fresh the history starts at %v, want %v", time.Unix(0, first3), time.Unix(0, want))
	}
	t.Logf("%d orders open in the records, all in the plant's position; the longest quiet stretch around the restart %v", open, time.Duration(gap))
}

// tokenOf is the web view's access token a demo printed.
func tokenOf(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`\?token=(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no web view token in:\n%s", out)
	}
	return m[1]
}
