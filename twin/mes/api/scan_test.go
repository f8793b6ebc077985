package api

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"twin/plant/event"

	"twin/twin/mes"
)

// released enters and releases an order and returns its operations.
func (r *rig) released(id string, qty int) []string {
	r.t.Helper()
	if _, err := r.db.CreateOrder("planner", mes.NewOrder{ID: id, Customer: "c", Product: "YE3-100L-4", Quantity: qty, Due: r.now().Add(24 * time.Hour)}); err != nil {
		r.t.Fatal(err)
	}
	var ops []string
	o, err := r.db.ReleaseOrder("planner", id)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, w := range o.WorkOrders {
		wo, _ := r.db.WorkOrder(w)
		ops = append(ops, wo.Operations...)
	}
	return ops
}

// partsFirst puts an order's operations (as released returns them: the
// product's work order first) in an order the routing accepts: the part
// work orders' before the product's, each along its routing.
func partsFirst(ops []string) []string {
	out := slices.Clone(ops)
	slices.SortStableFunc(out, func(a, b string) int {
		pa, pb := strings.Contains(a, "-YE3-"), strings.Contains(b, "-YE3-")
		switch {
		case pa == pb:
			return 0
		case pb:
			return -1
		}
		return 1
	})
	return out
}

// through confirms, in the routing's sequence, every operation of order
// id that comes before operation upTo.
func (r *rig) through(id, upTo string) {
	r.t.Helper()
	rs, err := r.db.Records(id)
	if err != nil {
		r.t.Fatal(err)
	}
	var ops []string
	for _, o := range rs.Operations {
		ops = append(ops, o.ID)
	}
	for _, op := range partsFirst(ops) {
		if op == upTo {
			return
		}
		if _, err := r.db.DoScan("op", mes.Scan{Token: r.db.CardToken(op), Action: "confirm", Station: opStation(op), Worker: "W-1"}); err != nil {
			r.t.Fatalf("confirm %s: %v", op, err)
		}
	}
	r.t.Fatalf("%s is not an operation of %s", upTo, id)
}

// TestConcurrentScans: a card scanned on many terminals at once confirms
// exactly once; a retried delivery of one scan is answered from the first.
func TestConcurrentScans(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-7", 4)
	op := "SO-7-YE3-100L-4-pack"
	tok := r.db.CardToken(op)
	r.through("SO-7", op)
	r.must("operator", "POST", "/scan", mes.Scan{Token: tok, Action: "start", Station: "PK1"}, nil, 200)
	const terminals = 16
	results := make([]mes.ScanResult, terminals)
	var wg sync.WaitGroup
	for i := range terminals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.must("operator", "POST", "/scan", mes.Scan{Token: tok, Action: "confirm", ScanID: fmt.Sprintf("T%02d-1", i), Terminal: fmt.Sprintf("T%02d", i), Worker: fmt.Sprintf("W-%02d", i), Good: ptr(4)}, &results[i], 200)
		}()
	}
	wg.Wait()
	firsts := 0
	for _, res := range results {
		if !res.Duplicate {
			firsts++
		}
		if res.Operation.Confirmations != 1 || res.Operation.Status != mes.OpConfirmed {
			t.Fatalf("a terminal saw %+v", res.Operation)
		}
	}
	if firsts != 1 {
		t.Fatalf("%d of %d concurrent scans confirmed, want exactly 1", firsts, terminals)
	}
	// the same scan delivered again
	var again mes.ScanResult
	r.must("operator", "POST", "/scan", mes.Scan{Token: tok, Action: "confirm", ScanID: "T03-1", Good: ptr(1)}, &again, 200)
	if !again.Duplicate || again.Operation.Good != 4 {
		t.Fatalf("retried scan: %+v", again)
	}
	var aud mes.Page[mes.AuditEntry]
	r.must("manager", "GET", "/audit?kind=operation&id="+op, nil, &aud, 200)
	confirms := 0
	for _, a := range aud.Items {
		if a.Action == "scan.confirm" {
			confirms++
		}
	}
	if confirms != 1 {
		t.Fatalf("%d confirmations in the audit log", confirms)
	}
	// a start scan twice is one start
	r.released("SO-7B", 4)
	op2 := "SO-7B-stator-stamp"
	var a, b mes.ScanResult
	r.must("operator", "POST", "/scan", mes.Scan{Token: r.db.CardToken(op2), Station: "PR1"}, &a, 200)
	r.must("operator", "POST", "/scan", mes.Scan{Token: r.db.CardToken(op2), Action: "start", Station: "PR1"}, &b, 200)
	if a.Duplicate || !b.Duplicate || b.Operation.StartedAt != a.Operation.StartedAt {
		t.Fatalf("double start: %+v / %+v", a, b)
	}
}

// TestForgedCards: a token altered in any part, made up, or signed with
// another server's key is refused, and nothing changes.
func TestForgedCards(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-8", 1)
	op := "SO-8-YE3-100L-4-pack"
	tok := r.db.CardToken(op)
	parts := strings.Split(tok, ".")
	other, err := mes.Open(t.TempDir(), mes.Options{Plant: r.p, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	foreign := other.CardToken(op)
	other.Close()
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	forged := map[string]string{
		"signature altered":    parts[0] + "." + parts[1] + "." + flip(parts[2], 3),
		"operation altered":    parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("SO-8-YE3-100L-4-paint")) + "." + parts[2],
		"payload bit flipped":  parts[0] + "." + flip(parts[1], 2) + "." + parts[2],
		"version altered":      "v2." + parts[1] + "." + parts[2],
		"no signature":         parts[0] + "." + parts[1],
		"made up":              "v1.U08tOC1ZRTMtMTAwTC00LXBhY2s.AAAAAAAAAAAAAAAAAAAAAA",
		"another server's key": foreign,
		"empty":                "",
	}
	for name, f := range forged {
		var e apiError
		if code := r.do("operator", "POST", "/scan", mes.Scan{Token: f, Station: "PK1"}, &e); code != 400 || e.Field != "token" {
			t.Errorf("%s: status %d %+v, want 400 naming token", name, code, e)
		}
	}
	o, _ := r.db.Operation(op)
	if o.Status != mes.OpPending {
		t.Fatalf("a forged card changed the operation: %+v", o)
	}
	r.through("SO-8", op)
	r.must("operator", "POST", "/scan", mes.Scan{Token: tok, Station: "PK1"}, nil, 200)
}

// TestCrashLosesNothing kills a records process with SIGKILL while it
// confirms scans and checks that every scan it acknowledged is on disk.
func TestCrashLosesNothing(t *testing.T) {
	if dir := os.Getenv("MES_CRASH_DIR"); dir != "" {
		crashChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLosesNothing$")
	cmd.Env = append(os.Environ(), "MES_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if op, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked = append(acked, op)
			if len(acked) == 60 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	cmd.Wait()
	if len(acked) < 60 {
		t.Fatalf("the child acknowledged only %d scans", len(acked))
	}
	db, err := mes.Open(dir, mes.Options{Plant: loadPlant(t), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range acked {
		o, err := db.Operation(id)
		if err != nil || o.Status != mes.OpConfirmed || o.Confirmations != 1 {
			t.Fatalf("acknowledged %s lost after the crash: %+v %v", id, o, err)
		}
	}
	t.Logf("%d acknowledged confirmations survived SIGKILL", len(acked))
}

// crashChild confirms operations one after the other and prints each
// acknowledgement, until it is killed.
func crashChild(dir string) {
	p, err := loadPlantErr()
	if err != nil {
		panic(err)
	}
	db, err := mes.Open(dir, mes.Options{Plant: p, Logger: quiet})
	if err != nil {
		panic(err)
	}
	for n := 0; ; n++ {
		id := fmt.Sprintf("C-%04d", n)
		if _, err := db.CreateOrder("planner", mes.NewOrder{ID: id, Customer: "c", Product: "YE3-100L-4", Quantity: 1, Due: time.Now().Add(time.Hour)}); err != nil {
			panic(err)
		}
		o, err := db.ReleaseOrder("planner", id)
		if err != nil {
			panic(err)
		}
		var ops []string
		for _, id := range o.WorkOrders {
			w, _ := db.WorkOrder(id)
			ops = append(ops, w.Operations...)
		}
		for _, op := range partsFirst(ops) {
			st := opStation(op)
			if _, err := db.DoScan("op", mes.Scan{Token: db.CardToken(op), Action: "confirm", Station: st, Worker: "W-1"}); err != nil {
				panic(err)
			}
			fmt.Printf("ACK %s\n", op)
		}
	}
}

// TestSharedMachine: operations running on one machine at the same time
// share its counter, so none of them is compared with it; one that runs
// alone afterwards is.
func TestSharedMachine(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.released("SO-8", 2)
	r.released("SO-9", 2)
	scan := func(op, action string, good *int) mes.ScanResult {
		var res mes.ScanResult
		r.must("operator", "POST", "/scan", mes.Scan{Token: r.db.CardToken(op), Action: action, Station: "PR1", Worker: "W-1", Good: good}, &res, 200)
		return res
	}
	a, b, c := "SO-8-stator-stamp", "SO-8-rotor-stamp", "SO-9-stator-stamp"
	r.machine("PR1", event.Running, 0)
	if res := scan(a, "start", nil); res.Operation.Shared {
		t.Fatalf("%s alone on PR1 is marked shared", a)
	}
	if res := scan(b, "start", nil); !res.Operation.Shared {
		t.Fatalf("%s started beside %s is not marked shared", b, a)
	}
	if res := scan(c, "start", nil); !res.Operation.Shared {
		t.Fatalf("%s started third is not marked shared", c)
	}
	r.machine("PR1", event.Running, 5) // not 2 each: the count is the machine's
	for _, op := range []string{a, b, c} {
		res := scan(op, "confirm", ptr(2))
		if !res.Operation.Shared || res.Operation.Mismatch || res.Flag != nil {
			t.Fatalf("%s: a shared operation was compared with the machine: %+v", op, res)
		}
	}
	// alone now: compared, and a disagreement is flagged
	d := "SO-9-rotor-stamp"
	if res := scan(d, "start", nil); res.Operation.Shared {
		t.Fatalf("%s alone on PR1 after the others confirmed is marked shared", d)
	}
	r.machine("PR1", event.Running, 1)
	if res := scan(d, "confirm", ptr(2)); !res.Operation.Mismatch || res.Flag == nil {
		t.Fatalf("%s: counted 1, confirmed 2, not flagged: %+v", d, res)
	}
}
