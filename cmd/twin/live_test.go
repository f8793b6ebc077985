package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
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
	out, errs, code := runCLI(t, "demo", "--data", data, "--for", "5s", "--speed", "900", "--mqtt", "127.0.0.1:0", "--opcua", ua)
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
