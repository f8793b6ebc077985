package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"twin/plant"
	"twin/twin/mes"
)

// TestDemoReplayForecast runs the demo for a few seconds (virtual plant →
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
	out, errs, code := runCLI(t, "demo", "--data", data, "--for", "5s", "--speed", "900", "--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", ua)
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
		out, errs, code := runCLI(t, "demo", "--data", data, "--for", "6s", "--speed", "1200", "--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0")
		if code != 0 {
			t.Fatalf("demo %d: exit %d\n%s\n%s", run, code, out, errs)
		}
		m := regexp.MustCompile(`records: (\d+) orders entered and released, (\d+) card scans, (\d+) unit tests.*, (\d+) refused`).FindStringSubmatch(out)
		if m == nil || m[1] == "0" || m[2] == "0" {
			t.Fatalf("demo %d: the floor wrote no records:\n%s", run, out)
		}
		if m[4] != "0" { // the floor does what a shop floor would: nothing the records must refuse
			t.Fatalf("demo %d: the records refused %s of the floor's entries:\n%s\n%s", run, m[4], out, errs)
		}
	}
	// a token from the records on disk, for the first account
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
	srv := httptest.NewServer(mes.NewAPI(db))
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
