// Package mqtttest runs a real MQTT broker for tests: Debian's mosquitto,
// on a free loopback port, in a directory of the test's, stopped when the
// test ends. It is not a mock: it is the broker plants run.
//
// A broker is ready when mosquitto itself says so ("… running", after it
// has bound its port), never after a sleep or a connection that another
// process could answer. mosquitto cannot be handed a listener, so the
// port is picked free and closed first; if another process takes it in
// between, mosquitto says "Address already in use" and Start tries again
// on another.
//
//	b := mqtttest.Start(t, mqtttest.Options{Config: "allow_anonymous true\n"})
//	c, _ := mqtt.New(plant.MQTTBroker{URL: b.URL(), …}, sink, mqtt.Options{})
package mqtttest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Path is where Debian installs mosquitto.
const Path = "/usr/sbin/mosquitto"

// Options configure a broker.
type Options struct {
	// Config is mosquitto.conf after its listener line (which Start
	// writes: the port on 127.0.0.1): allow_anonymous, persistence,
	// limits, TLS files, more log destinations. Start adds
	// "log_dest stderr" (it reads mosquitto's log there; stdout would be
	// buffered in a pipe) and runs it as root.
	Config string
	// Dir holds the configuration (and what Config puts there); default
	// a t.TempDir.
	Dir string
}

// Broker is a mosquitto process.
type Broker struct {
	Port int
	Dir  string

	tb   testing.TB
	conf string

	mu   sync.Mutex
	cmd  *exec.Cmd
	log  *logWatch
	exit chan struct{} // closed when the process has exited
}

// Start starts mosquitto on a free loopback port and returns once it is
// ready; the test fails if it cannot start. It stops when the test ends.
func Start(tb testing.TB, opt Options) *Broker {
	tb.Helper()
	if _, err := os.Stat(Path); err != nil {
		tb.Fatal("mosquitto is not installed: run make deps (apt-get install mosquitto mosquitto-clients)")
	}
	if opt.Dir == "" {
		opt.Dir = tb.TempDir()
	}
	b := &Broker{Dir: opt.Dir, tb: tb, conf: opt.Config}
	tb.Cleanup(b.Stop)
	var err error
	for try := 0; try < 10; try++ {
		if b.Port, err = freePort(); err != nil {
			break
		}
		if err = b.start(); err != errPortTaken {
			break
		}
	}
	if err != nil {
		tb.Fatalf("mosquitto: %v", err)
	}
	return b
}

// URL is the broker's address: tcp://127.0.0.1:port.
func (b *Broker) URL() string { return "tcp://127.0.0.1:" + strconv.Itoa(b.Port) }

// Restart starts the broker again on the same port, with the same
// configuration and directory (its persistence, if Config keeps one),
// after Stop; it returns once mosquitto is ready.
func (b *Broker) Restart() error {
	if err := b.start(); err != nil {
		return fmt.Errorf("mosquitto: restart on port %d: %w", b.Port, err)
	}
	return nil
}

// Stop ends mosquitto with SIGTERM (it saves its persistence) and waits
// for it; a mosquitto that has not exited after 10 s is killed. Stopping
// a stopped broker does nothing.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	// mosquitto loses a signal that comes right after it says it runs
	// (before its main loop): say it again until it listens
	again := time.NewTicker(100 * time.Millisecond)
	defer again.Stop()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for stopped := false; !stopped; {
		b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exit:
			stopped = true
		case <-again.C:
		case <-deadline.C:
			b.cmd.Process.Kill()
			<-b.exit
			stopped = true
		}
	}
	b.cmd = nil
}

// Log is what mosquitto logged (the last 1 MiB), for a test's failure
// message.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.log == nil {
		return ""
	}
	return b.log.String()
}

var errPortTaken = fmt.Errorf("the port was taken")

// start runs mosquitto on b.Port and waits until it is ready, or has
// failed.
func (b *Broker) start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		return fmt.Errorf("running already")
	}
	conf := filepath.Join(b.Dir, "mosquitto.conf")
	text := fmt.Sprintf("user root\nlistener %d 127.0.0.1\n%s\nlog_dest stderr\n", b.Port, b.conf)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return err
	}
	lw := newLogWatch()
	cmd := exec.Command(Path, "-c", conf)
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		return err
	}
	exit := make(chan struct{})
	go func() { // reaps the process; Stop waits for it
		cmd.Wait()
		close(exit)
	}()
	b.cmd, b.log, b.exit = cmd, lw, exit
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-lw.running:
		return nil
	case <-exit:
		b.cmd = nil
		if strings.Contains(lw.String(), "Address already in use") {
			return errPortTaken
		}
		return fmt.Errorf("it exited at start: %s", lw)
	case <-t.C:
		cmd.Process.Kill()
		<-exit
		b.cmd = nil
		return fmt.Errorf("not running after 10 s: %s", lw)
	}
}

// freePort is a loopback port free now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logWatch keeps mosquitto's log and closes running when it says it is.
type logWatch struct {
	mu      sync.Mutex
	buf     []byte
	line    []byte
	running chan struct{}
	once    sync.Once
}

func newLogWatch() *logWatch { return &logWatch{running: make(chan struct{})} }

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > 1<<20 {
		w.buf = w.buf[len(w.buf)-1<<20:]
	}
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		// "mosquitto version 2.0.11 running": its listeners are bound
		if l := w.line[:i]; bytes.Contains(l, []byte("mosquitto version")) && bytes.HasSuffix(bytes.TrimSpace(l), []byte("running")) {
			w.once.Do(func() { close(w.running) })
		}
		w.line = w.line[i+1:]
	}
	return len(p), nil
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
