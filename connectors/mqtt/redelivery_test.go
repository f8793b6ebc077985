package mqtt

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"twin/plant"
	"twin/plant/event"
)

// The child process of TestRedeliveryAfterKill: a twin's ingest path
// (client, ingest, Badger) that acknowledges only the readings with odd
// values, prints "stored N" once the history holds N readings and then
// waits to be killed.
const redeliveryChildEnv = "TWIN_MQTT_REDELIVERY_CHILD" // "URL|DIR|N"

func redeliveryCfg(url string) plant.MQTTBroker {
	return plant.MQTTBroker{URL: url, ClientID: "twin-test-redelivery", Topics: []plant.TopicTag{{Topic: "qijiang/stator/W1/good", Asset: w1, Signal: plant.SignalGood}}}
}

// halfAck passes events on to the ingest and acknowledges upstream only
// the messages of odd values: the even ones are stored but never
// acknowledged, as when the twin dies between the two.
type halfAck struct {
	next interface {
		EmitBatch([]event.Event, func(error))
	}
	mu     sync.Mutex
	stored int
	kick   chan struct{}
}

func (h *halfAck) EmitBatch(evs []event.Event, ack func(error)) {
	h.next.EmitBatch(evs, func(err error) {
		if err != nil {
			return
		}
		h.mu.Lock()
		even := false
		for _, e := range evs {
			if e.Kind == event.Counter {
				h.stored++
				even = int(e.Value)%2 == 0
			}
		}
		h.mu.Unlock()
		select {
		case h.kick <- struct{}{}:
		default:
		}
		if !even {
			ack(nil)
		}
	})
}

func TestRedeliveryChild(t *testing.T) {
	arg := os.Getenv(redeliveryChildEnv)
	if arg == "" {
		t.Skip("the child of TestRedeliveryAfterKill")
	}
	parts := strings.Split(arg, "|")
	url, dir := parts[0], parts[1]
	n, _ := strconv.Atoi(parts[2])
	_, in, _ := openTwin(t, filepath.Join(dir, "history"))
	h := &halfAck{next: in, kick: make(chan struct{}, 1)}
	c, err := New(redeliveryCfg(url), h, Options{SessionDir: filepath.Join(dir, "mqtt")})
	if err != nil {
		t.Fatal(err)
	}
	go c.Run(context.Background())
	for range h.kick {
		h.mu.Lock()
		k := h.stored
		h.mu.Unlock()
		if k >= n {
			fmt.Printf("stored %d\n", k)
			select {} // until killed
		}
	}
}

// TestRedeliveryAfterKill: readings without a timestamp of their own,
// stored by a twin that is then killed (SIGKILL, no clean stop) before
// it acknowledged half of them. The broker sends those again on the next
// start (DUP, the same packet identifiers); the session journal gives
// them the receive time of their first delivery, and the history holds
// every reading once. Before, each got a second receive time: the
// history held the unacknowledged half twice.
func TestRedeliveryAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process and mosquitto")
	}
	b := startBrokerWith(t, false)
	dir := t.TempDir()
	cfg := redeliveryCfg(b.URL())
	c0, err := New(cfg, &collect{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start(t, c0)() // the persistent session
	const n = 400
	pub := gateway(t, b, "gw-test-redelivery")
	publish(t, pub, cfg.Topics[0].Topic, 1, n) // {"value": i}: no timestamp

	child := exec.Command(os.Args[0], "-test.run=^TestRedeliveryChild$", "-test.count=1")
	child.Env = append(os.Environ(), redeliveryChildEnv+"="+b.URL()+"|"+dir+"|"+strconv.Itoa(n))
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the child ended before it stored the %d readings: %v", n, child.Wait())
			}
			if strings.HasPrefix(l, "stored ") {
				break wait
			}
		case <-deadline:
			child.Process.Kill()
			t.Fatalf("the child did not store the %d readings in 60 s", n)
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	for range lines {
	}

	st, in, closeTwin := openTwin(t, filepath.Join(dir, "history"))
	if evs, _ := storedCounters(t, st); evs != n {
		t.Fatalf("the killed twin's history holds %d readings, want %d", evs, n)
	}
	c, err := New(cfg, in, Options{SessionDir: filepath.Join(dir, "mqtt")})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, c)
	waitFor(t, "the unacknowledged half again", 30*time.Second, func() bool { return c.Stats().Messages >= n/2 })
	stop()
	closeTwin()
	st, _, _ = openTwin(t, filepath.Join(dir, "history"))
	evs, distinct := storedCounters(t, st)
	s := c.Stats()
	t.Logf("after the restart: %d messages again, %d recognised; the history holds %d readings, %d distinct", s.Messages, s.Redelivered, evs, distinct)
	if evs != n || distinct != n {
		t.Errorf("the history holds %d readings (%d distinct), want each of the %d once; client stats %+v", evs, distinct, n, s)
	}
	if s.Redelivered != n/2 {
		t.Errorf("%d redelivered messages recognised, want the %d unacknowledged", s.Redelivered, n/2)
	}
}

// TestJournal: a record is found again only for its packet identifier
// and the same topic and payload; a torn or foreign slot is no record; a
// file of another size is not trusted.
func TestJournal(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir, "tcp://broker:1883", "twin/a b")
	if err != nil {
		t.Fatal(err)
	}
	h := messageHash("t/x", []byte("42"))
	if _, ok := j.lookup(7, h); ok {
		t.Fatal("a new journal holds a record")
	}
	if err := j.record(7, h, 1234567890); err != nil {
		t.Fatal(err)
	}
	if at, ok := j.lookup(7, h); !ok || at != 1234567890 {
		t.Errorf("lookup(7) = %d, %v", at, ok)
	}
	if _, ok := j.lookup(8, h); ok {
		t.Error("found under another packet identifier")
	}
	if _, ok := j.lookup(7, messageHash("t/x", []byte("43"))); ok {
		t.Error("found for another payload")
	}
	if _, ok := j.lookup(7, messageHash("t/y", []byte("42"))); ok {
		t.Error("found for another topic")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, journalName("tcp://broker:1883", "twin/a b"))
	if strings.ContainsAny(filepath.Base(path), "/ ") || journalName("tcp://other:1883", "twin/a b") == filepath.Base(path) {
		t.Errorf("journal name %q: want a safe name of its own per broker", filepath.Base(path))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff}, 7*journalSlot+9) // a torn time
	f.Close()
	j, err = openJournal(dir, "tcp://broker:1883", "twin/a b")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := j.lookup(7, h); ok {
		t.Error("a torn record was trusted")
	}
	j.record(9, h, 5)
	j.Close()
	os.Truncate(path, 100) // not a journal's size
	j, err = openJournal(dir, "tcp://broker:1883", "twin/a b")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, ok := j.lookup(9, h); ok {
		t.Error("a record of a file of another size was trusted")
	}
}
