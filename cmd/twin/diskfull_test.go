package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/mes"
	"twin/twin/store"
)

// TestDiskFull: twin serve keeps its data on a small tmpfs that fills up
// while readings stream in and a planner enters orders. The twin does not
// crash (before: SIGBUS in Badger's memtable write, again at every
// restart): it stops writing and acknowledging, answers writes 503
// disk_full and reads 200, and when the space is freed it carries on by
// itself: every reading published during the outage is in the history,
// once, and orders are taken again.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=320m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	url := mosquitto(t)
	plantFile := onePlant(t, dir, url, "twin-diskfull")
	data := filepath.Join(mnt, "data")

	// a planner's token, in the records before the twin starts
	p, err := plant.Load(plantFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser("test", mes.NewUser{Name: "pat", Roles: []string{mes.RolePlanner}, Password: "a planner's long password"}); err != nil {
		t.Fatal(err)
	}
	is, err := db.IssueToken("test", "pat", mes.NewToken{Label: "disk full test"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	const reserve = 96 << 20
	twin := serveChild(t, "serve", "--plant", plantFile, "--data", data, "--http", "127.0.0.1:0", "--token", "view-token", "--disk-reserve", strconv.Itoa(reserve>>20))
	twin.wait(t, "the twin to subscribe", twin.subscribed)
	twin.wait(t, "the twin's web view", twin.listening)
	api := func(method, path string, body any) (int, string) {
		t.Helper()
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, "http://"+twin.addr()+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+is.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v; the twin printed:\n%s", method, path, err, twin.out)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		return resp.StatusCode, out.String()
	}
	order := func(id string) map[string]any {
		return map[string]any{"id": id, "customer": "Chongqing Pumps", "product": "widget", "quantity": 2, "due": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}
	}
	if code, body := api("POST", "/api/v1/orders", order("BEFORE")); code != 201 {
		t.Fatalf("an order before the disk fills: %d %s", code, body)
	}
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("gw-diskfull").SetCleanSession(false))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	publish := func(from, to int) {
		for i := from; i <= to; i++ {
			if tok := pub.Publish("gw/M1/good", 1, false, strconv.Itoa(i)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatalf("publish %d: %v", i, tok.Error())
			}
		}
	}
	publish(1, 500)

	// the disk fills up to its last block
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	f.Close()
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil || st.Bavail*uint64(st.Bsize) >= 1<<20 {
		t.Fatalf("the disk is not full: %v, %d blocks free", err, st.Bavail)
	}
	logged := func(s string) func() bool { return func() bool { return strings.Contains(twin.out.String(), s) } }
	waitUntil(t, "the twin to see the disk full", 30*time.Second, logged("disk is full"), twin.out.String)

	alarms := func() []string {
		resp, err := http.Get("http://" + twin.addr() + "/api/scene?token=view-token")
		if err != nil {
			return []string{"no scene: " + err.Error()}
		}
		defer resp.Body.Close()
		var sc struct{ Alarms []string }
		json.NewDecoder(resp.Body).Decode(&sc)
		return sc.Alarms
	}
	waitUntil(t, "the views' alarm", 10*time.Second, func() bool { a := alarms(); return len(a) == 1 && strings.Contains(a[0], "disk is full") },
		func() string { return fmt.Sprint(alarms()) })
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + twin.addr() + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "\ntwin_disk_full 1\n") {
		t.Errorf("/metrics while the disk is full: %d, twin_disk_full 1 not in it", code)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "disk") {
		t.Errorf("/readyz while the disk is full: %d %s", code, body)
	}
	publish(501, 1000)
	code, body := api("POST", "/api/v1/orders", order("DURING"))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"disk_full"`) {
		t.Errorf("an order while the disk is full: %d %s; want 503 disk_full", code, body)
	}
	if code, body := api("GET", "/api/v1/orders/BEFORE", nil); code != 200 {
		t.Errorf("reading an order while the disk is full: %d %s", code, body)
	}
	waitUntil(t, "the twin to hold readings", 30*time.Second, logged("readings are held"), twin.out.String)
	if twin.cmd.ProcessState != nil {
		t.Fatalf("the twin died with the disk full:\n%s", twin.out)
	}

	// IT frees the space: the twin carries on by itself
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the twin to write again", 30*time.Second, logged("space is back"), twin.out.String)
	waitUntil(t, "an order to be taken again", 30*time.Second, func() bool {
		code, _ := api("POST", "/api/v1/orders", order("AFTER"))
		return code == 201
	}, twin.out.String)
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "\ntwin_disk_full 0\n") {
		t.Errorf("/metrics after the space came back: %d, twin_disk_full 0 not in it", code)
	}
	if a := alarms(); len(a) != 0 {
		t.Errorf("the views still show %q after the space came back", a)
	}
	publish(1001, 1100)
	// the history holds every reading once: the twin stops when its
	// last is stored (the live state may hold it before the store does:
	// stop once the state has it, then count what the store kept)
	waitUntil(t, "the twin's state to hold the last reading", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + twin.addr() + "/api/scene?token=view-token")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var sc struct {
			Stations []struct{ Good float64 } `json:"stations"`
		}
		return json.NewDecoder(resp.Body).Decode(&sc) == nil && len(sc.Stations) == 1 && sc.Stations[0].Good == 1100
	}, twin.out.String)
	twin.term()
	if !twin.cmd.ProcessState.Success() {
		t.Fatalf("twin serve exited with %v:\n%s", twin.cmd.ProcessState, twin.out)
	}
	hist, err := store.Open(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	seen := map[float64]int{}
	hist.Range(0, time.Now().Add(time.Hour).UnixNano(), func(e event.Event) error {
		if e.Kind == event.Counter {
			seen[e.Value]++
		}
		return nil
	})
	var wrong []string
	for i := 1; i <= 1100; i++ {
		if seen[float64(i)] != 1 {
			wrong = append(wrong, fmt.Sprintf("%d×%d", i, seen[float64(i)]))
		}
	}
	if len(wrong) > 0 {
		t.Fatalf("%d of 1,100 readings not in the history exactly once: %s", len(wrong), strings.Join(wrong[:min(20, len(wrong))], " "))
	}
	t.Logf("1,100 readings, 500 of them published while the disk was full: each in the history once; the twin never stopped")
}
