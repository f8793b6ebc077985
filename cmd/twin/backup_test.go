package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/twin/backup"
	"twin/twin/store"
)

// TestServeBackup: twin serve follows a stream from mosquitto while an
// admin takes a full backup and an increment over the API (twin backup
// --server), and its schedule makes one into --backup-dir. The stream
// goes on during and after the backups. Restored, the full backup and
// its increment make a data directory that verifies, whose history ends
// where the increment's manifest says (nothing after it); a request
// without an admin's token is refused (TestRoleMatrix checks the roles).
func TestServeBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("a twin serve in a process of its own")
	}
	t.Setenv("TWIN_ADMIN_PASSWORD", adminPassword)
	dir := t.TempDir()
	url := mosquitto(t)
	plantFile := onePlant(t, dir, url, "twin-backup")
	data, bdir := filepath.Join(dir, "data"), filepath.Join(dir, "backups")
	tw := serveChild(t, "serve", "--plant", plantFile, "--data", data, "--http", "127.0.0.1:0", "--http-only", "--backup-dir", bdir, "--backup-every", "1h")
	tw.wait(t, "the twin to subscribe", tw.subscribed)
	tw.wait(t, "the twin's web view", tw.listening)

	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("gw-backup"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the gateway, until stopped
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if tok := pub.Publish("gw/M1/good", 1, false, strconv.Itoa(i)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Errorf("publish %d: %v", i, tok.Error())
				return
			}
			sent.Add(1)
		}
	}()
	server := "http://" + tw.addr()
	resp, err := http.Post(server+"/api/v1/login", "application/json", strings.NewReader(`{"name":"admin","password":"`+adminPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if login.Token == "" {
		t.Fatalf("no admin token: %s", resp.Status)
	}
	waitBackup(t, "1000 readings sent", func() bool { return sent.Load() > 1000 })

	full, incr := filepath.Join(dir, "full.tar"), filepath.Join(dir, "incr.tar")
	before := sent.Load()
	if out, errs, code := runCLI(t, "backup", "--server", server, "--token", login.Token, "--out", full); code != 0 || !strings.Contains(out, "backed up into") {
		t.Fatalf("twin backup --server: exit %d\n%s%s", code, out, errs)
	}
	if sent.Load() == before {
		t.Fatal("nothing was sent during the backup")
	}
	waitBackup(t, "1000 readings more", func() bool { return sent.Load() > before+2000 })
	if out, errs, code := runCLI(t, "backup", "--server", server, "--token", login.Token, "--out", incr, "--since", full); code != 0 || !strings.Contains(out, "incremental backup") {
		t.Fatalf("twin backup --since: exit %d\n%s%s", code, out, errs)
	}
	after := sent.Load()
	waitBackup(t, "readings after the increment", func() bool { return sent.Load() > after+500 })
	if _, errs, code := runCLI(t, "backup", "--server", server, "--token", "not-a-token", "--out", filepath.Join(dir, "x.tar")); code != 1 || !strings.Contains(errs, "sign in") {
		t.Errorf("a backup without an admin's token: exit %d %s", code, errs)
	}
	waitBackup(t, "the scheduled backup", func() bool {
		m, _ := filepath.Glob(filepath.Join(bdir, "twin-*-full.tar"))
		return len(m) == 1
	})
	close(stop)
	wg.Wait()
	tw.term()

	m2, err := backup.Check(incr)
	if err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(dir, "restored")
	if out, errs, code := runCLI(t, "restore", full, incr, "--data", restored); code != 0 {
		t.Fatalf("twin restore: exit %d\n%s%s", code, out, errs)
	}
	if out, errs, code := runCLI(t, "verify", "--data", restored); code != 0 || !strings.Contains(out, "everything checks") {
		t.Fatalf("twin verify of the restored directory: exit %d\n%s%s", code, out, errs)
	}
	var want uint64
	for _, p := range m2.Parts {
		if p.Hist != nil {
			want = p.Hist.LastSeq
		}
	}
	st, err := store.Open(restored, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := st.Seq()
	st.Close()
	orig, err := store.Open(data, store.Options{SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	total := orig.Seq()
	orig.Close()
	if got != want || got == 0 || total <= got {
		t.Errorf("restored history ends at event %d, the increment's manifest says %d; the twin's went on to %d", got, want, total)
	}
	for _, f := range []string{"plant.yaml", "mes/card.key"} {
		a, _ := os.ReadFile(filepath.Join(data, f))
		b, err := os.ReadFile(filepath.Join(restored, f))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s not restored as it was (%v)", f, err)
		}
	}
}

// waitBackup waits for cond, at most 60 s.
func waitBackup(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited 60 s for %s", what)
		}
	}
}
