package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/twin/store"
)

// TestKPIsCLIMatchesAPI: twin kpis prints the numbers GET /api/v1/kpis
// answers (the one KPI engine behind both): a winder down 20 min for a
// reported breakdown and idle 10 min without a reason shows a loss of
// 0.50 h, 0.33 h of it breakdown, 0.17 h unexplained, in the API's JSON
// and in the CLI's table alike; with the scrap by reason.
func TestKPIsCLIMatchesAPI(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "history"), store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, p.Location) // a Monday, in the day shift
	w1 := p.FindUnit("W1").Path()
	ev := func(at time.Duration, s event.MachineState) event.Event {
		return event.Event{Time: t0.Add(at).UnixNano(), Kind: event.State, Asset: w1, Value: float64(s), Source: event.Live}
	}
	if err := st.Append([]event.Event{ev(0, event.Running), ev(10*time.Minute, event.Down), ev(30*time.Minute, event.Idle), ev(40*time.Minute, event.Running), ev(59*time.Minute, event.Running)}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(10 * time.Minute)
	db, err := mes.Open(filepath.Join(dir, "mes"), mes.Options{Plant: p, History: st, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ReportDowntime("op", mes.NewDowntime{ID: "D1", Station: "W1", Reason: "breakdown"}); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(30 * time.Minute)
	if _, err := db.EndStop("op", "D1", mes.EndDowntime{}); err != nil {
		t.Fatal(err)
	}
	// scrap with a reason, counted at W1
	if _, err := db.CreateOrder("planner", mes.NewOrder{ID: "PO-1", Customer: "c", Product: "YE3-100L-4", Quantity: 4, Due: t0.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReleaseOrder("planner", "PO-1"); err != nil {
		t.Fatal(err)
	}
	n := func(v int) *int { return &v }
	for _, s := range []mes.Scan{
		{Token: db.CardToken("PO-1-stator-stamp"), Action: "confirm", Station: "PR1", Good: n(4)},
		{Token: db.CardToken("PO-1-stator-wind"), Action: "start", Station: "W1"},
		{Token: db.CardToken("PO-1-stator-wind"), Action: "report", Good: n(1), Scrap: n(2), ScrapReason: "winding_short"},
	} {
		if _, err := db.DoScan("op", s); err != nil {
			t.Fatalf("%s: %v", s.Action, err)
		}
	}
	now = t0.Add(2 * time.Hour)
	if _, err := db.CreateUser("test", mes.NewUser{Name: "mgr", Roles: []string{mes.RoleManager, mes.RoleOperator}, Password: "manager password"}); err != nil {
		t.Fatal(err)
	}
	is, err := db.IssueToken("test", "mgr", mes.NewToken{Label: "cli test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(db, nil))
	defer srv.Close()
	const window = "--from=2026-03-02T08:00 --to=2026-03-02T09:00"
	// the API, asked directly
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/kpis?by=station&station=W1&from=2026-03-02T08:00&to=2026-03-02T09:00", nil)
	req.Header.Set("Authorization", "Bearer "+is.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ks []mes.KPI
	if err := json.Unmarshal(b, &ks); err != nil || len(ks) != 1 {
		t.Fatalf("GET /kpis: %v %s", err, b)
	}
	k := ks[0]
	if fmt.Sprintf("%.4f %.4f %.4f", k.LossH, k.UnexplainedH, k.Losses[0].Hours) != "0.5000 0.1667 0.3333" || k.Losses[0].Reason != "breakdown" ||
		len(k.ScrapByReason) != 1 || k.ScrapByReason[0] != (mes.ReasonQty{Reason: "winding_short", Qty: 2}) {
		t.Fatalf("the API's W1: loss %v %+v unexplained %v scrap %+v", k.LossH, k.Losses, k.UnexplainedH, k.ScrapByReason)
	}
	// the CLI prints the same numbers
	args := append([]string{"kpis", "--by", "station", "--station", "W1", "--server", srv.URL, "--token", is.Token}, strings.Fields(window)...)
	out, errs, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("twin kpis: %d %s %s", code, out, errs)
	}
	for _, want := range []string{
		"station W1  2026-03-02 08:00 – 2026-03-02 09:00 (Asia/Shanghai)",
		fmt.Sprintf("loss %.2f h: breakdown 故障 %.2f h, unexplained %.2f h", k.LossH, k.Losses[0].Hours, k.UnexplainedH),
		"loss 0.50 h: breakdown 故障 0.33 h, unexplained 0.17 h",
		fmt.Sprintf("PBT %.2f h, APT %.2f h", k.PBT, k.APT),
		"scrap by reason: winding_short 匝间短路 2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("twin kpis does not print %q:\n%s", want, out)
		}
	}
	// --json is the API's answer
	out, _, code = runCLI(t, append(args, "--json")...)
	var cli []mes.KPI
	if err := json.Unmarshal([]byte(out), &cli); code != 0 || err != nil || len(cli) != 1 || cli[0].LossH != k.LossH || cli[0].UnexplainedH != k.UnexplainedH {
		t.Errorf("twin kpis --json: %d %v %s", code, err, out)
	}
}
