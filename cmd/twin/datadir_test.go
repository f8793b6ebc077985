package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"twin/plant/reference"
	"twin/twin/datadir"
)

// TestDataDirectory runs the demo from a directory that is not the
// repository, with no --plant: it runs the built-in reference plant and
// its data directory remembers it. While the demo runs, the commands that
// open its data directory say that the running demo holds it, with its
// address and what works instead of Badger's lock message. After it
// stops, replay, forecast and users work on the directory, from there,
// without --plant, and say which plant they used.
func TestDataDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := os.Stat("testdata/plants/motor.yaml"); err == nil {
		t.Fatal("the test must run outside the repository")
	}
	data := "data" // relative to the working directory, as a person types it
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data", data, "--for", "2m", "--speed", "600", "--start", workingDay, "--mqtt", "127.0.0.1:0", "--opcua", "off", "--http", "127.0.0.1:0"}, &out, &errs)
	}()
	re := regexp.MustCompile(`web view +(https://\S+)`)
	var web string
	for deadline := time.Now().Add(60 * time.Second); web == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			web = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no web view after 60 s:\n%s\n%s", out.String(), errs.String())
		}
	}
	if !strings.Contains(out.String(), "the built-in reference plant (plant/reference/motor.yaml)") {
		t.Fatalf("the demo does not say it runs the built-in plant:\n%s", out.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(data, datadir.ServerName)); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the demo wrote no %s: %v", datadir.ServerName, err)
		}
	}
	held := data + " is in use by a running twin demo (pid " + strconv.Itoa(os.Getpid()) + ", web page " + web + ")"
	for _, c := range []struct {
		args []string
		ways []string
	}{
		{[]string{"replay", "--data", data}, []string{"its web page, " + web, "twin-view --connect '" + web + "'"}},
		{[]string{"forecast", "--data", data}, []string{"the running twin's own forecast: twin forecast --server https://"}},
		{[]string{"users", "list", "--data", data}, []string{"twin api GET /api/v1/users --server " + strings.TrimSuffix(web[:strings.Index(web, "/?")], "/")}},
		{[]string{"serve", "--data", data, "--http", "127.0.0.1:0"}, []string{"its web page, " + web}},
	} {
		o, e, code := runCLI(t, c.args...)
		if code != 1 || !strings.Contains(e, held) || !strings.Contains(e, "stop that twin") || strings.Contains(e, "Cannot acquire") {
			t.Fatalf("twin %s on the running demo's directory: exit %d\n%s%s", strings.Join(c.args, " "), code, o, e)
		}
		for _, w := range c.ways {
			if !strings.Contains(e, w) {
				t.Errorf("twin %s: the error does not offer %q:\n%s", strings.Join(c.args, " "), w, e)
			}
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	if _, err := os.Stat(filepath.Join(data, datadir.ServerName)); !os.IsNotExist(err) {
		t.Fatalf("the demo stopped and left %s: %v", datadir.ServerName, err)
	}
	if b, err := os.ReadFile(filepath.Join(data, datadir.PlantName)); err != nil || !bytes.Equal(b, reference.Source) {
		t.Fatalf("the data directory does not remember the demo's plant: %v", err)
	}
	said := "plant qijiang-motor: " + filepath.Join(data, datadir.PlantName) + " (the plant the twin on data ran with)"
	o, e, code := runCLI(t, "replay", "--data", data)
	if code != 0 || !strings.Contains(o, said) || !strings.Contains(o, "replayed ") {
		t.Fatalf("replay from elsewhere: exit %d\n%s%s", code, o, e)
	}
	o, e, code = runCLI(t, "replay", "--data", data, "--from", "2020-01-01T08:00", "--to", "2020-01-02T08:00")
	if code != 1 || !strings.Contains(e, "nothing to replay from 2020-01-01T08:00 to 2020-01-02T08:00: the history in data runs from 2026-03-04T09:00 to ") || !strings.Contains(e, "(plant time, Asia/Shanghai)") {
		t.Fatalf("replay outside the history: exit %d\n%s%s", code, o, e)
	}
	o, e, code = runCLI(t, "forecast", "--data", data, "--horizon", "24h", "--replications", "2")
	if code != 0 || !strings.Contains(o, said) || !strings.Contains(o, "forecast from") {
		t.Fatalf("forecast from elsewhere: exit %d\n%s%s", code, o, e)
	}
	o, e, code = runCLI(t, "users", "list", "--data", data)
	if code != 0 || !strings.HasPrefix(o, "admin ") {
		t.Fatalf("users from elsewhere: exit %d\n%s%s", code, o, e)
	}
	// and a directory that is not there is not made
	o, e, code = runCLI(t, "replay", "--data", "dat")
	if code != 1 || !strings.Contains(e, "no data directory dat (in ") {
		t.Fatalf("replay --data dat: exit %d\n%s%s", code, o, e)
	}
	if _, err := os.Stat("dat"); !os.IsNotExist(err) {
		t.Fatal("replay made the directory it was given")
	}
}
