package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/twin/mes"
	"twin/twin/mes/api"
)

// TestOrdersPlantTime: on a computer in another zone (New York here), twin
// orders add --due 2026-12-01T16:00 means 16:00 in the plant (Chongqing,
// UTC+08:00), and twin orders list prints the plant's times and names
// the zone. Before, --due was read in the computer's zone (16:00 in New
// York is 05:00 the next day in the plant) and the list printed UTC.
func TestOrdersPlantTime(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// the server's clock in UTC, as on a server set to UTC
	db, err := mes.Open(filepath.Join(t.TempDir(), "mes"), mes.Options{Plant: p, Now: func() time.Time { return time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateUser("test", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: "planner password"}); err != nil {
		t.Fatal(err)
	}
	is, err := db.IssueToken("test", "li", mes.NewToken{Label: "cli test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(db, nil))
	defer srv.Close()
	// the commands run in a process of their own on a computer in New
	// York (TZ): setting time.Local here would race with the runtime
	ny := func(args ...string) (string, string, int) {
		t.Helper()
		return cliChild(t, []string{"TZ=America/New_York"}, args...)
	}
	cli := func(args ...string) string {
		t.Helper()
		out, errs, code := ny(append(append([]string{}, args...), "--server", srv.URL, "--token", is.Token)...)
		if code != 0 {
			t.Fatalf("twin %v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
	out := cli("orders", "add", "--id", "PO-1", "--customer", "Wuhan Pumps", "--product", "YE3-160M-4", "--qty", "5", "--due", "2026-12-01T16:00")
	if !strings.Contains(out, `"due": "2026-12-01T16:00:00+08:00"`) || !strings.Contains(out, `"created": "2026-11-30T09:00:00+08:00"`) {
		t.Fatalf("orders add --due 2026-12-01T16:00 on a computer in New York:\n%s", out)
	}
	cli("orders", "add", "--id", "PO-2", "--customer", "Wuhan Pumps", "--product", "YE3-160M-4", "--qty", "5", "--due", "2026-12-02T08:00:00Z")
	out = cli("orders", "list")
	if !strings.HasPrefix(out, "times in Asia/Shanghai (UTC+08:00)\n") {
		t.Fatalf("orders list does not name the plant's zone first:\n%s", out)
	}
	for _, row := range []string{`(?m)^PO-1 .* 2026-12-01 16:00 `, `(?m)^PO-2 .* 2026-12-02 16:00 `} {
		if !regexp.MustCompile(row).MatchString(out) {
			t.Fatalf("orders list: no row %s:\n%s", row, out)
		}
	}
	if _, errs, code := ny("orders", "add", "--customer", "c", "--product", "YE3-160M-4", "--qty", "1", "--due", "next friday", "--server", srv.URL, "--token", is.Token); code != 1 || !strings.Contains(errs, "due") || !strings.Contains(errs, "plant time, Asia/Shanghai") {
		t.Fatalf("a bad --due: exit %d: %s", code, errs)
	}
}

// cliChild runs twin with args in a process of its own (this test binary,
// as TestCLIChild) with env added, and returns its output and exit code.
func cliChild(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIChild$")
	cmd.Env = append(append(os.Environ(), env...), "TWIN_CLI_CHILD="+strings.Join(args, "\x1f"))
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errs.String(), code
}

// TestCLIChild is twin in a process of its own, for cliChild.
func TestCLIChild(t *testing.T) {
	args := os.Getenv("TWIN_CLI_CHILD")
	if args == "" {
		t.Skip("run by cliChild")
	}
	os.Exit(run(context.Background(), strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// TestParseWhen: --from, --to and --at read plant time as the plant file
// and the API do (one parser), and a bad one names the plant's zone.
func TestParseWhen(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"2026-03-20T16:00":          "2026-03-20T16:00:00+01:00",
		"2026-03-20 16:00:30":       "2026-03-20T16:00:30+01:00",
		"2026-03-20":                "2026-03-20T00:00:00+01:00",
		"2026-03-29T02:30":          "2026-03-29T03:00:00+02:00", // the spring gap: its end
		"2026-03-20T15:00:00Z":      "2026-03-20T16:00:00+01:00",
		"2026-03-20T23:00:00+08:00": "2026-03-20T16:00:00+01:00",
	} {
		ns, err := parseWhen(in, berlin)
		if got := time.Unix(0, ns).In(berlin).Format(time.RFC3339); err != nil || got != want {
			t.Errorf("parseWhen(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := parseWhen("20.3.2026", berlin); err == nil || !strings.Contains(err.Error(), "plant time, Europe/Berlin") {
		t.Errorf("a bad time: %v", err)
	}
}

// TestCommandsNameTheZone: the demo (its header and its summary), replay
// and forecast say once in which zone the times they print are.
func TestCommandsNameTheZone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a demo")
	}
	if err := os.Chdir("../.."); err != nil { // the demo's default plant is relative to the repository
		t.Fatal(err)
	}
	defer os.Chdir("cmd/twin")
	data := t.TempDir()
	note := "times in Asia/Shanghai (UTC+08:00)"
	out, errs, code := runCLI(t, "demo", "--data", data, "--for", "3s", "--speed", "900", "--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "  plant clock             "+note+"\n") || !strings.Contains(out, "\nsummary, "+note+"\n") || strings.Count(out, note) != 2 {
		t.Fatalf("the demo does not name the zone in its header and its summary:\n%s", out)
	}
	// the forecast's JSON: every time with the plant's offset
	out, errs, code = runCLI(t, "forecast", "--data", data, "--json", "--horizon", "8h", "--replications", "2")
	times := regexp.MustCompile(`"\d{4}-\d\d-\d\dT[^"]*"`).FindAllString(out, -1)
	if code != 0 || len(times) == 0 {
		t.Fatalf("forecast --json: exit %d\n%s\n%s", code, out, errs)
	}
	for _, tm := range times {
		if !strings.HasSuffix(tm, `+08:00"`) {
			t.Errorf("forecast --json: %s is not plant time", tm)
		}
	}
	for _, args := range [][]string{{"replay", "--data", data}, {"forecast", "--data", data, "--horizon", "8h", "--replications", "2"}} {
		out, errs, code := runCLI(t, args...)
		// once, before any time: after the line that says which plant it read
		if i := strings.Index(out, note); code != 0 || strings.Count(out, note) != 1 || i < 0 || strings.Count(out[:i], "\n") > 1 {
			t.Fatalf("%s: exit %d, the zone named %d times, want once at the top:\n%s\n%s", args[0], code, strings.Count(out, note), out, errs)
		}
	}
}
