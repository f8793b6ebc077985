package api

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"twin/twin/mes"
)

// TestSignInFloodMemory: 32 sign-ins at once with unknown names keep the
// server under 1 GiB of memory (the old code hashed each at 64 MiB at
// once, and twice: 8.2 GB in the test). The server is a process
// of its own (this test binary again), so its peak resident set
// (VmHWM in /proc/PID/status) is the server's alone.
func TestSignInFloodMemory(t *testing.T) {
	if os.Getenv("TWIN_FLOOD_SERVER") == "1" {
		floodServer(t)
		return
	}
	if testing.Short() {
		t.Skip("32 argon2id hashes in a server process of its own")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: cannot read the server's peak memory")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignInFloodMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TWIN_FLOOD_SERVER=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	url := ""
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "serving "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatal("the server process printed no address")
	}
	hwm := func() int {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				return kb
			}
		}
		t.Fatal("no VmHWM in /proc/PID/status")
		return 0
	}
	before := hwm()
	r := &rig{t: t, srv: nil}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			code, _, _ := r.postTo(url, "/login", mes.Login{Name: fmt.Sprintf("nobody-%d", i), Password: "not the password at all"})
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	peak := hwm()
	t.Logf("32 sign-ins at once with unknown names: the server's peak RSS %d MiB (before: %d MiB); answers %v", peak/1024, before/1024, codes)
	if peak > 1<<20 {
		t.Fatalf("the server's peak RSS is %d MiB, want under 1 GiB", peak/1024)
	}
	// on a quick machine the hashes keep up, and the one address's
	// failures reach its lockout (30) before the last sign-ins: 429
	if codes[401]+codes[503]+codes[429] != 32 || codes[401] == 0 || codes[429] > 2 {
		t.Fatalf("answers %v, want 401 (checked), 503 (every hashing slot busy) or, past the address's 30th failure, 429; some 401", codes)
	}
}

// floodServer is the server of TestSignInFloodMemory: the records and
// the API on a free port, until stdin closes.
func floodServer(t *testing.T) {
	r := newRig(t, t.TempDir())
	fmt.Println("serving " + r.srv.URL)
	bufio.NewReader(os.Stdin).ReadString(0) // until the test closes it
}
