package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeBlocks returns the README's indented command blocks (four spaces
// or more after a blank line), each as its lines with the indent and
// the comments after "  # " left as they are.
func readmeBlocks(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]string
	var cur []string
	blank := true
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		code := strings.HasPrefix(line, "       ") || strings.HasPrefix(line, "    ") && !strings.HasPrefix(strings.TrimSpace(line), "-")
		switch {
		case code && (blank || cur != nil):
			cur = append(cur, strings.TrimSpace(line))
		case strings.TrimSpace(line) == "":
			if cur != nil {
				blocks = append(blocks, cur)
				cur = nil
			}
		default:
			if cur != nil {
				blocks = append(blocks, cur)
				cur = nil
			}
		}
		blank = strings.TrimSpace(line) == ""
	}
	if cur != nil {
		blocks = append(blocks, cur)
	}
	return blocks
}

// block is the README block whose first line starts with first, as one
// shell script (continued lines joined).
func block(t *testing.T, blocks [][]string, first string) string {
	t.Helper()
	for _, b := range blocks {
		if strings.HasPrefix(b[0], first) {
			return strings.ReplaceAll(strings.Join(b, "\n"), "\\\n", " ")
		}
	}
	t.Fatalf("the README has no command block beginning %q", first)
	return ""
}

// TestREADME runs the README's walkthrough as written, from a directory
// like a fresh clone's (bin/twin built there, the scenarios beside it),
// on the second run of the demo (the first made data/demo; the second
// continues it): the commands a reader types while the demo runs (sign
// in, the records, a KPI call, the running twin's forecast, a planner
// entering, releasing and scanning an order, a scan the routing refuses),
// then those for the demo stopped (replay, forecast, serving a replay,
// playing a scenario). The one change to the text: the demo's address,
// which the README says is the one it printed (the test's demo listens on
// a free port). twin-view's lines need a display and the cgo build: the
// viewer's own tests (cmd/twin-view) run them.
func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("builds twin and runs two demos")
	}
	blocks := readmeBlocks(t)
	running := block(t, blocks, "export TWIN_SERVER=") + "\n" + block(t, blocks, "export TWIN_API_TOKEN=$(bin/twin api POST /api/v1/login '{\"name\":\"li\"")
	stopped := block(t, blocks, "bin/twin replay --data data/demo")

	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "twin"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repo, _ := filepath.Abs("../..")
	for _, d := range []string{"scenarios", "testdata", "plant"} {
		if err := os.Symlink(filepath.Join(repo, d), filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	sh := func(ctx context.Context, script string) (string, error) {
		cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TWIN_SERVER=", "TWIN_API_TOKEN=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	demo := []string{"bin/twin", "demo", "--data", "data/demo", "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0"}
	// the first make demo
	if out, err := sh(context.Background(), strings.Join(append(demo, "--for", "8s", "--speed", "120", "--start", workingDay), " ")); err != nil {
		t.Fatalf("the first demo: %v\n%s", err, out)
	}
	// the second, and the walkthrough while it runs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "bin", "twin"), append(demo[1:], "--for", "3m", "--speed", "60")...)
	cmd.Dir = dir
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`records API +(http://[^/\s]+)/api/v1/`)
	var addr string
	for deadline := time.Now().Add(60 * time.Second); addr == ""; time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the second demo prints no records API:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "continuing its history") {
		t.Fatalf("the second demo does not continue the first:\n%s", out.String())
	}
	got, err := sh(ctx, strings.ReplaceAll(running, "http://127.0.0.1:8080", addr))
	if err != nil {
		t.Fatalf("the walkthrough, the demo running: %v\n%s\nthe demo:\n%s", err, got, out.String())
	}
	for _, want := range []string{
		"times in Asia/Shanghai",       // orders list
		`"oee":`,                       // the day's KPIs
		"forecast from",                // the running twin's forecast
		"the chain is intact",          // audit verify --server
		`"id": "PO-1001"`,              // orders add
		"PO-1001-stator-stamp started", // scan … --station PR1
		"confirmed",                    // scan … --good 5
		"good 5",
		"pack", // refused: pack comes after paint
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the walkthrough's output lacks %q:\n%s", want, got)
		}
	}
	if !regexp.MustCompile(`(?i)comes after .*paint`).MatchString(got) {
		t.Errorf("the pack card scanned first was not refused for paint:\n%s", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "card.png")); err != nil || fi.Size() < 100 {
		t.Errorf("card.png: %v", err)
	}
	cancel()
	cmd.Wait()

	// the demo stopped: each line of the block, those that serve until
	// Ctrl-C until they say where
	for _, line := range strings.Split(stopped, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "bin/twin-view") || strings.HasPrefix(line, "--variants") {
			continue
		}
		serves := strings.Contains(line, "--http") || strings.HasPrefix(line, "bin/twin play")
		lctx, lcancel := context.WithTimeout(context.Background(), 60*time.Second)
		if serves {
			line = strings.SplitN(line, "#", 2)[0] + " --for 3s"
			if strings.Contains(line, "replay") {
				line = strings.Replace(line, "--for 3s", "", 1) // replay serves until Ctrl-C: the timeout stops it
				lcancel()
				lctx, lcancel = context.WithTimeout(context.Background(), 8*time.Second)
			}
		}
		got, err := sh(lctx, line)
		lcancel()
		if serves {
			if !strings.Contains(got, "web view") {
				t.Errorf("%s: it does not serve:\n%s", line, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, got)
		}
	}
}
