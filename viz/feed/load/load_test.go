package load

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"twin/plant"
	"twin/viz/feed"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func serve(tb testing.TB) (string, func()) {
	p, err := plant.Load("../../../testdata/plants/motor.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	tk := NewTicker(p, 100*time.Millisecond)
	f := feed.New(tk, feed.Options{Token: "t"})
	srv := httptest.NewServer(f)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?token=t", func() { f.Close(); srv.Close(); tk.Stop() }
}

// TestLoad: 50 clients at 10 updates/s each get about 10 messages a second,
// with no gaps.
func TestLoad(t *testing.T) {
	url, stop := serve(t)
	defer stop()
	r, err := Run(context.Background(), url, 50, 10, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Failed != 0 || r.Gaps != 0 || r.PerClient < 8 || r.PerClient > 11 {
		t.Fatalf("%v", r)
	}
}

// BenchmarkClients1000: 1,000 WebSocket clients on loopback, each at 10
// updates/s, the source changing 10 times a second; the latency from a
// scene being made to a client holding it. The bar: p99 < 100 ms.
// The clients run in a process of their own (TestLoadChild), so that
// server-cpu is the feed's own work: its CPU time per second of the
// measurement, and per message a client received.
func BenchmarkClients1000(b *testing.B) {
	url, stop := serve(b)
	defer stop()
	var last Result
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		r, c, err := runChild(b, url, 1000, 10, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		last, cpu = r, c
	}
	b.ReportMetric(float64(last.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(last.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(last.Max.Microseconds())/1000, "max-ms")
	b.ReportMetric(last.PerClient, "msgs/client/s")
	b.ReportMetric(float64(last.Clients), "clients")
	b.ReportMetric(float64(last.Gaps), "gaps")
	b.ReportMetric(float64(cpu.Microseconds())/1000/last.Duration.Seconds(), "server-cpu-ms/s")
	if last.Messages > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(last.Messages), "server-cpu-µs/msg")
	}
	b.Logf("%v; server CPU %v", last, cpu.Round(time.Millisecond))
}

// runChild runs the load in a child process (TestLoadChild) and returns
// what its clients saw and this process's CPU time while they measured.
func runChild(b *testing.B, url string, n, rate int, d time.Duration) (Result, time.Duration, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadChild$", "-test.v")
	cmd.Env = append(os.Environ(), fmt.Sprintf("TWIN_LOAD_CHILD=%s %d %d %s", url, n, rate, d))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Result{}, 0, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return Result{}, 0, err
	}
	var r Result
	var from, cpu time.Duration
	found := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		switch l := sc.Text(); {
		case l == "load: measuring":
			from = cpuTime()
		case l == "load: measured":
			cpu = cpuTime() - from
		case strings.HasPrefix(l, "load: result "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "load: result ")), &r); err != nil {
				return r, 0, err
			}
			found = true
		}
	}
	if err := cmd.Wait(); err != nil || !found {
		return r, 0, fmt.Errorf("the load's process: %v (result found: %v)", err, found)
	}
	return r, cpu, nil
}

// cpuTime is this process's CPU time, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLoadChild is the clients of BenchmarkClients1000, in a process of
// their own.
func TestLoadChild(t *testing.T) {
	arg, ok := os.LookupEnv("TWIN_LOAD_CHILD")
	if !ok {
		t.Skip("run by BenchmarkClients1000")
	}
	f := strings.Fields(arg)
	n, _ := strconv.Atoi(f[1])
	rate, _ := strconv.Atoi(f[2])
	d, _ := time.ParseDuration(f[3])
	l := Load{URL: f[0], Clients: n, Rate: rate, For: d, Measuring: func(on bool) {
		if on {
			fmt.Println("load: measuring")
		} else {
			fmt.Println("load: measured")
		}
	}}
	r, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	fmt.Printf("load: result %s\n", b)
}
