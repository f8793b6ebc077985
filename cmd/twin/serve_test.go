package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
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
//
// The test waits for signals, not for time: the gateway starts once the
// twin has subscribed (a message published before the twin's first
// subscription has no session to wait in: it never reaches the twin), and
// the twin is stopped once its live state holds the last message (the
// messages of one session arrive in order).
func TestServeKill9(t *testing.T) {
	dir := t.TempDir()
	url := mosquitto(t)
	plantFile := onePlant(t, dir, url, "twin-kill9")
	data := filepath.Join(dir, "data")
	const token = "kill9-view-token"

	twin := serveChild(t, "serve", "--plant", plantFile, "--data", data, "--http", "127.0.0.1:0", "--token", token)
	twin.wait(t, "the twin to subscribe", twin.subscribed)
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("gw-kill9").SetCleanSession(false))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	const n = 3000
	for i := 1; i <= n; i++ {
		if i == 1200 {
			twin.kill() // SIGKILL, mid-stream; it returns once the process is gone
			twin = serveChild(t, "serve", "--plant", plantFile, "--data", data, "--http", "127.0.0.1:0", "--token", token)
		}
		tok := pub.Publish("gw/M1/good", 1, false, strconv.Itoa(i))
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
		if i%100 == 0 {
			time.Sleep(20 * time.Millisecond) // a gateway's pace, so the kill falls mid-stream
		}
	}
	// the twin catches up: its live state holds the last message
	twin.wait(t, "the twin's web view", twin.listening)
	good := func() float64 {
		resp, err := http.Get("http://" + twin.addr() + "/api/scene?token=" + token)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var sc struct {
			Stations []struct{ Good float64 } `json:"stations"`
		}
		if json.NewDecoder(resp.Body).Decode(&sc) != nil || len(sc.Stations) != 1 {
			return -1
		}
		return sc.Stations[0].Good
	}
	for end := time.Now().Add(60 * time.Second); good() != n; {
		if time.Now().After(end) {
			t.Fatalf("after 60 s the twin's state holds message %v of %d", good(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	twin.term()

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

// child is twin serve in a process of its own (TestServeChild), with what
// it prints watched for.
type child struct {
	cmd        *exec.Cmd
	out        *watch
	subscribed chan struct{} // the broker confirmed the subscriptions
	listening  chan struct{} // the web view is up
	mu         sync.Mutex
	web        string
}

func serveChild(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{subscribed: make(chan struct{}), listening: make(chan struct{})}
	web := regexp.MustCompile(`web view\s+http://([^/\s]+)/`)
	var once1, once2 sync.Once
	c.out = &watch{line: func(l string) {
		if strings.Contains(l, "mqtt: subscribed") {
			once1.Do(func() { close(c.subscribed) })
		}
		if m := web.FindStringSubmatch(l); m != nil {
			c.mu.Lock()
			c.web = m[1]
			c.mu.Unlock()
			once2.Do(func() { close(c.listening) })
		}
	}}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	c.cmd.Env = append(os.Environ(), "TWIN_SERVE_CHILD="+strings.Join(args, "\x1f"))
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.kill)
	return c
}

func (c *child) wait(t *testing.T, what string, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s; it printed:\n%s", what, c.out)
	}
}

func (c *child) addr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.web
}

func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
}

func (c *child) term() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
}

// TestServeChild is twin serve, run by TestServeKill9 as a process of its
// own.
func TestServeChild(t *testing.T) {
	args, ok := os.LookupEnv("TWIN_SERVE_CHILD")
	if !ok {
		t.Skip("run by TestServeKill9")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if code := run(ctx, strings.Split(args, "\x1f"), os.Stdout, os.Stderr); code != 0 {
		t.Fatalf("serve: exit %d", code)
	}
}
