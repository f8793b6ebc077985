package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/plant/event"
	"twin/twin/store"
)

// TestServeKill9: twin serve follows a QoS 1 stream from mosquitto; it is
// killed with SIGKILL in the middle and started again. Every message the
// gateway published is in the history at the end: what the twin had
// acknowledged was on disk, and what it had not, the broker sent again.
func TestServeKill9(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/mosquitto"); err != nil {
		t.Fatal("mosquitto is not installed: run make deps")
	}
	dir := t.TempDir()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "mosquitto.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("user root\nlistener %d 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nmax_queued_messages 0\nmax_inflight_messages 0\n", port, dir)), 0o644)
	broker := exec.Command("/usr/sbin/mosquitto", "-c", conf)
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { broker.Process.Kill(); broker.Wait() }()
	time.Sleep(300 * time.Millisecond)
	url := "tcp://127.0.0.1:" + strconv.Itoa(port)

	src, err := os.ReadFile("../../testdata/plants/one-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plantFile := filepath.Join(dir, "plant.yaml")
	tags := fmt.Sprintf("\ntags:\n  mqtt:\n    - url: %s\n      client_id: twin-kill9\n      topics:\n        - {topic: gw/M1/good, asset: M1, signal: good}\n", url)
	os.WriteFile(plantFile, append(src, tags...), 0o644)
	data := filepath.Join(dir, "data")

	serve := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
		cmd.Env = append(os.Environ(), "TWIN_SERVE_CHILD="+plantFile+"|"+data)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	twin := serve()
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("gw-kill9").SetCleanSession(false))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	time.Sleep(500 * time.Millisecond) // the twin subscribes
	const n = 3000
	for i := 1; i <= n; i++ {
		if i == 1200 {
			twin.Process.Kill() // SIGKILL, mid-stream
			twin.Wait()
			time.Sleep(200 * time.Millisecond)
			twin = serve()
		}
		tok := pub.Publish("gw/M1/good", 1, false, strconv.Itoa(i))
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
		if i%100 == 0 {
			time.Sleep(20 * time.Millisecond) // a gateway's pace, so the kill falls mid-stream
		}
	}
	time.Sleep(2 * time.Second) // the twin catches up
	twin.Process.Signal(syscall.SIGTERM)
	twin.Wait()

	st, err := store.Open(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[float64]bool{}
	err = st.Range(0, time.Now().Add(time.Hour).UnixNano(), func(e event.Event) error {
		if e.Kind == event.Counter {
			seen[e.Value] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if !seen[float64(i)] {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d messages missing after kill -9: %s", len(missing), n, strings.Join(missing[:min(20, len(missing))], " "))
	}
	t.Logf("%d messages published, twin killed at message 1200 and restarted; all %d in the history (%d events stored)", n, len(seen), st.Seq())
}

// TestServeChild is twin serve, run by TestServeKill9 as a process of its
// own.
func TestServeChild(t *testing.T) {
	args, ok := os.LookupEnv("TWIN_SERVE_CHILD")
	if !ok {
		t.Skip("run by TestServeKill9")
	}
	plantFile, data, _ := strings.Cut(args, "|")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var out, errb strings.Builder
	if code := run(ctx, []string{"serve", "--plant", plantFile, "--data", data}, &out, &errb); code != 0 {
		t.Fatalf("serve: exit %d: %s", code, errb.String())
	}
}
