package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"twin/plant/reference"
	"twin/twin/mes"
	"twin/twin/store"
)

// TestMissing: a directory that is not there, or holds no history, is
// refused, and nothing is created.
func TestMissing(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{filepath.Join(root, "nope"), root} {
		_, err := OpenHistory(dir, store.Options{})
		var m *MissingError
		if !errors.As(err, &m) || m.Dir != dir || !strings.Contains(err.Error(), "--data of a twin serve or twin demo") {
			t.Fatalf("%s: %v", dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("OpenHistory made the missing directory")
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("OpenHistory wrote into an empty directory: %v", ents)
	}
	if err := CheckRecords(root); err == nil || !strings.Contains(err.Error(), "no records in "+root) {
		t.Fatalf("records: %v", err)
	}
}

// TestInUse: a history and records held by a running twin (here: opened in
// this process, which Badger's flock refuses the same way) are reported
// as in use, with the address the twin announced; after a clean stop
// they open again.
func TestInUse(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := reference.Plant()
	if err != nil {
		t.Fatal(err)
	}
	db, err := mes.Open(filepath.Join(dir, Records), mes.Options{Plant: p, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	// without an announcement: in use, by someone
	_, err = OpenHistory(dir, store.Options{})
	var busy *InUseError
	if !errors.As(err, &busy) || busy.Server != nil || !strings.Contains(err.Error(), dir+" is in use by another process") {
		t.Fatalf("held history: %v", err)
	}
	web := "http://127.0.0.1:8080/?token=abc"
	if err := Announce(dir, Server{Command: "twin demo", PID: 4242, Started: time.Now(), Web: web, API: "http://127.0.0.1:8080/api/v1/"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, ServerName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("serve.json: %v %v (want 0600: the address carries the token)", fi.Mode(), err)
	}
	_, err = OpenHistory(dir, store.Options{})
	if !errors.As(err, &busy) || busy.Server == nil || busy.Server.PID != 4242 || !strings.Contains(err.Error(), "a running twin demo (pid 4242, web page "+web+")") {
		t.Fatalf("held history, announced: %v", err)
	}
	_, err = mes.Open(filepath.Join(dir, Records), mes.Options{Plant: p})
	if err = Busy(dir, err); !errors.As(err, &busy) || busy.Server == nil {
		t.Fatalf("held records: %v", err)
	}
	if err := Busy(t.TempDir(), errors.New("disk full")); err.Error() != "disk full" {
		t.Fatalf("Busy changed another error: %v", err)
	}
	// the twin stops
	db.Close()
	st.Close()
	if err := Withdraw(dir); err != nil {
		t.Fatal(err)
	}
	if err := Withdraw(dir); err != nil {
		t.Fatal("Withdraw twice:", err)
	}
	st, err = OpenHistory(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// TestLoadPlant: --plant, else the plant the directory remembers, else
// the built-in reference plant (where the command allows it).
func TestLoadPlant(t *testing.T) {
	dir := t.TempDir()
	p, err := LoadPlant(dir, "", true)
	if err != nil || p.ID != "qijiang-motor" || !strings.Contains(p.From, "built-in reference plant") {
		t.Fatalf("nothing remembered: %v %+v", err, p)
	}
	if _, err := LoadPlant(dir, "", false); err == nil || !strings.Contains(err.Error(), "give --plant FILE") {
		t.Fatalf("nothing remembered, no built-in: %v", err)
	}
	one, err := os.ReadFile("../../testdata/plants/one-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := SavePlant(dir, one); err != nil {
		t.Fatal(err)
	}
	p, err = LoadPlant(dir, "", false)
	if err != nil || p.ID == "qijiang-motor" || p.File != filepath.Join(dir, PlantName) || !strings.Contains(p.From, "the plant the twin on "+dir+" ran with") {
		t.Fatalf("remembered: %v %+v", err, p)
	}
	p, err = LoadPlant(dir, "../../testdata/plants/motor.yaml", false)
	if err != nil || p.ID != "qijiang-motor" || p.From != "../../testdata/plants/motor.yaml" {
		t.Fatalf("--plant: %v %+v", err, p)
	}
	_, err = LoadPlant(dir, "myplant.yaml", true)
	if err == nil || !strings.Contains(err.Error(), "no plant file myplant.yaml (in ") || !strings.Contains(err.Error(), "leave --plant out") {
		t.Fatalf("missing --plant: %v", err)
	}
	os.WriteFile(filepath.Join(dir, PlantName), []byte("id: [\n"), 0o644)
	if _, err := LoadPlant(dir, "", true); err == nil || !strings.Contains(err.Error(), "give --plant FILE to use another") {
		t.Fatalf("a broken remembered plant: %v", err)
	}
}

// TestWipeKeepsTLS: a demo started anew keeps its certificate and CA
// (phones installed the CA), and removes the rest.
func TestWipeKeepsTLS(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{filepath.Join(TLS, "ca.pem"), PlantName, filepath.Join(Records, "x")} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o700)
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := Wipe(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, TLS, "ca.pem")); err != nil {
		t.Errorf("the CA went: %v", err)
	}
	for _, gone := range []string{PlantName, Records} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s stayed", gone)
		}
	}
}
