package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestHelpListsCommands(t *testing.T) {
	out, _, code := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "bench") || !strings.Contains(out, "example") {
		t.Fatalf("help exit %d:\n%s", code, out)
	}
	if _, errs, code := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: exit %d, %q", code, errs)
	}
}

func TestBenchMM1JSON(t *testing.T) {
	for _, style := range []string{"events", "servers", "customers"} {
		out, errs, code := runCLI(t, "bench", "mm1", "--customers", "200000", "--seed", "3", "--style", style)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", style, code, errs)
		}
		if strings.Count(out, "\n") != 1 {
			t.Fatalf("want one JSON line, got %q", out)
		}
		var r benchResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Customers != 200000 || r.Events < 2*200000 || r.WallSeconds <= 0 || r.CustomersPerS <= 0 ||
			math.Abs(r.TheoreticalWq-9) > 1e-9 || math.Abs(r.MeanWait-9)/9 > 0.25 || r.Style != style {
			t.Fatalf("%s: implausible result %+v", style, r)
		}
	}
	if _, _, code := runCLI(t, "bench", "mm1", "--lambda", "2"); code != 1 {
		t.Fatalf("unstable queue accepted (exit %d)", code)
	}
	if _, _, code := runCLI(t, "bench", "nope"); code != 2 {
		t.Fatalf("unknown benchmark: exit %d, want 2", code)
	}
}

func TestExamples(t *testing.T) {
	for _, ex := range []string{"machineshop", "carwash", "bank"} {
		out, errs, code := runCLI(t, "example", ex)
		if code != 0 || len(out) < 100 {
			t.Fatalf("%s: exit %d %s\n%s", ex, code, errs, out)
		}
	}
}
