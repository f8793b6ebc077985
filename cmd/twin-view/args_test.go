package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"twin/cmd/twin-view/internal/display"
	"twin/plant/event"
	"twin/plant/reference"
	"twin/twin/datadir"
	"twin/twin/store"
)

var update = flag.Bool("update", false, "rewrite internal/display/usage.go from the flags")

// TestUsage: the usage internal/display prints for -h without a display is
// the one the flags print (go test -run TestUsage -update rewrites it).
func TestUsage(t *testing.T) {
	fs := flag.NewFlagSet("twin-view", flag.ContinueOnError)
	defineFlags(fs)
	var b bytes.Buffer
	fs.SetOutput(&b)
	usage(fs)()
	if *update {
		if strings.Contains(b.String(), "`") {
			t.Fatal("the usage has a backquote: it cannot be a raw string")
		}
		src := "package display\n\n// Usage is twin-view -h (a copy: TestUsage in cmd/twin-view checks it;\n// go test ./cmd/twin-view -run TestUsage -args -update rewrites it).\nconst Usage = `" + b.String() + "`\n"
		if err := os.WriteFile("internal/display/usage.go", []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if b.String() != display.Usage {
		t.Fatalf("internal/display.Usage is not the flags' usage: run go test ./cmd/twin-view -run TestUsage -args -update\nflags:\n%s\ncopy:\n%s", b.String(), display.Usage)
	}
}

// runView runs the viewer in dir with env (nil: this process's) and
// returns its output and exit status.
func runView(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(viewBin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// TestNoDisplay: without $DISPLAY, -h prints the usage (it panicked in
// Ebitengine's initialisation), and anything else says what to do, with
// status 1 and no stack trace.
func TestNoDisplay(t *testing.T) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") {
			env = append(env, kv)
		}
	}
	for _, h := range []string{"-h", "--help", "-help"} {
		out, code := runView(t, "", env, h)
		if code != 0 || out != display.Usage {
			t.Fatalf("twin-view %s without a display: exit %d\n%s", h, code, out)
		}
	}
	for _, args := range [][]string{{}, {"--data", "data/demo"}, {"--connect", "http://127.0.0.1:8080/?token=x"}, {"--", "-h"}} {
		out, code := runView(t, "", append(env, "DISPLAY="), args...)
		if code != 1 || out != display.Missing || strings.Contains(out, "panic") {
			t.Fatalf("twin-view %v without a display: exit %d\n%s", args, code, out)
		}
		for _, want := range []string{"$DISPLAY is not set", "on a desktop", "xvfb-run -a twin-view", "web page"} {
			if !strings.Contains(out, want) {
				t.Errorf("the message does not say %q", want)
			}
		}
	}
	// with a display, -h is the same usage, from the flag package
	if out, code := runView(t, "", nil, "-h"); code != 0 || out != display.Usage {
		t.Fatalf("twin-view -h: exit %d\n%s", code, out)
	}
}

// TestData: --data refuses a directory that is not there (and does not
// make it) or holds no history, and one a running twin holds, pointing to
// that twin; from another working directory and without --plant it shows
// a history with the plant the directory remembers.
func TestData(t *testing.T) {
	root := t.TempDir()
	missing := filepath.Join(root, "nope")
	out, code := runView(t, root, nil, "--data", missing, "--for", "1s")
	if code != 1 || !strings.Contains(out, "no data directory "+missing) {
		t.Fatalf("--data of a missing directory: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("twin-view made the missing directory")
	}
	if out, code := runView(t, root, nil, "--data", root, "--for", "1s"); code != 1 || !strings.Contains(out, root+" holds no history") {
		t.Fatalf("--data of an empty directory: exit %d\n%s", code, out)
	}

	// a history of the reference plant, its plant remembered
	data := filepath.Join(root, "data")
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := reference.Plant()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 4, 9, 0, 0, 0, p.Location).UnixNano()
	var evs []event.Event
	for i, u := range p.Units {
		evs = append(evs, event.Event{Time: t0 + int64(i), Kind: event.State, Source: event.Live, Asset: u.Path(), Value: float64(event.Running)})
	}
	if err := st.Append(evs); err != nil {
		t.Fatal(err)
	}
	if err := datadir.SavePlant(data, reference.Source); err != nil {
		t.Fatal(err)
	}
	web := "http://127.0.0.1:8080/?token=abc"
	if err := datadir.Announce(data, datadir.Server{Command: "twin serve", PID: 77, Web: web}); err != nil {
		t.Fatal(err)
	}
	out, code = runView(t, root, nil, "--data", "data", "--for", "1s")
	if code != 1 || !strings.Contains(out, "data is in use by a running twin serve (pid 77") || !strings.Contains(out, "twin-view --connect '"+web+"'") || strings.Contains(out, "Cannot acquire") {
		t.Fatalf("--data of a held directory: exit %d\n%s", code, out)
	}
	st.Close()
	datadir.Withdraw(data)
	shot := filepath.Join(root, "frame.png")
	out, code = runView(t, root, nil, "--data", "data", "--for", "1s", "--screenshot", shot)
	if code != 0 || !strings.Contains(out, "plant qijiang-motor: data/plant.yaml (the plant the twin on data ran with)") || !strings.Contains(out, "frames ") {
		t.Fatalf("--data from another directory: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(shot); err != nil {
		t.Fatal(err)
	}
}
