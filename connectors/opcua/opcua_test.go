package opcua

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/ingest"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// server's (gopcua's, ended with Close) and the client's (ended with Run).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// port is the port a server listens on.
func port(t testing.TB, s *Server) int {
	u, err := url.Parse(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testPlant(t testing.TB) *plant.Plant {
	p, err := plant.Load("../../testdata/plants/tandem.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tags are the node tags of every unit and signal, as "auto" makes them.
func tags(p *plant.Plant, ns string) []plant.NodeTag {
	var out []plant.NodeTag
	for _, u := range p.Units {
		for _, sig := range plant.Signals() {
			out = append(out, plant.NodeTag{Node: "ns=" + ns + ";s=" + u.ID() + "." + plant.OPCUANodeName(sig), Asset: u.Path(), Signal: sig})
		}
	}
	return out
}

type collect struct {
	mu   sync.Mutex
	evs  []event.Event
	seen []time.Time
}

func (c *collect) EmitBatch(evs []event.Event, ack func(error)) {
	now := time.Now()
	c.mu.Lock()
	for range evs {
		c.seen = append(c.seen, now)
	}
	c.evs = append(c.evs, evs...)
	c.mu.Unlock()
	if ack != nil {
		ack(nil)
	}
}

func (c *collect) find(asset string, kind event.Kind, name string, value float64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.evs {
		if e.Asset == asset && e.Kind == kind && e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

// atLeast reports whether the sink holds a measurement name of asset of
// v or more.
func (c *collect) atLeast(asset, name string, v float64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.evs {
		if e.Asset == asset && e.Kind == event.Measure && e.Name == name && e.Value >= v {
			return true
		}
	}
	return false
}

func waitFor(t testing.TB, what string, d time.Duration, ok func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startServer starts a server on a free loopback port (opt.Port 0) or on
// opt.Port; it is closed when the test ends.
func startServer(t testing.TB, p *plant.Plant, opt ServerOptions) *Server {
	t.Helper()
	s, err := StartFree(context.Background(), p, opt)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Port != 0 && port(t, s) != opt.Port {
		s.Close()
		t.Fatalf("port %d is taken", opt.Port)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func follow(t testing.TB, cfg plant.OPCUAServer, opt ClientOptions) (*Client, *collect) {
	sink := &collect{}
	c := NewClient(cfg, sink, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	if err := c.WaitSubscribed(wctx); err != nil {
		t.Fatalf("%v; stats %+v", err, c.Stats())
	}
	return c, sink
}

func TestSubscribe(t *testing.T) {
	p := testPlant(t)
	s := startServer(t, p, ServerOptions{})
	defer s.Close()
	if s.Namespace() != 2 || s.NodeID("W1", "State") != "ns=2;s=W1.State" {
		t.Fatalf("namespace %d, node %s", s.Namespace(), s.NodeID("W1", "State"))
	}
	w1 := p.Units[1].Path()
	nodes := append(tags(p, "2"),
		// a wrong tag: a power reading taken for a machine state; and a node that does not exist
		plant.NodeTag{Node: "ns=2;s=" + p.Units[1].ID() + ".PowerKW", Asset: w1, Signal: plant.SignalState},
		plant.NodeTag{Node: "ns=2;s=NoSuchUnit.State", Asset: w1, Signal: plant.SignalState})
	cfg := plant.OPCUAServer{Endpoint: s.Endpoint(), Interval: 50 * time.Millisecond, Nodes: nodes}
	c, sink := follow(t, cfg, ClientOptions{})
	now := time.Now().UnixNano()
	s.Emit(event.Event{Time: now, Kind: event.State, Asset: w1, Value: float64(event.Running)})
	s.Emit(event.Event{Time: now, Kind: event.Counter, Asset: w1, Name: "good", Value: 41})
	s.Emit(event.Event{Time: now, Kind: event.Measure, Asset: w1, Name: "power_kw", Value: 7.5})
	waitFor(t, "the values", 5*time.Second, func() bool {
		return sink.find(w1, event.State, "", float64(event.Running)) && sink.find(w1, event.Counter, "good", 41) && sink.find(w1, event.Measure, "power_kw", 7.5)
	})
	// 7.5 is no state: counted, reported as a Fault, and ingest goes on
	waitFor(t, "the malformed value", 5*time.Second, func() bool { return c.Stats().Malformed >= 1 })
	s.Emit(event.Event{Time: now + 1e9, Kind: event.Counter, Asset: w1, Name: "good", Value: 42})
	waitFor(t, "a value after the malformed one", 5*time.Second, func() bool { return sink.find(w1, event.Counter, "good", 42) })
	faults := 0
	sink.mu.Lock()
	for _, e := range sink.evs {
		if e.Kind == event.Fault && strings.Contains(e.Ref, "7.5") {
			faults++
		}
	}
	sink.mu.Unlock()
	if faults == 0 {
		t.Errorf("no Fault event for the malformed value; stats %+v", c.Stats())
	}
	quarantine(t, p, s, sink)
}

// TestNoValueBeforeThePlant: a server the plant has not written to yet
// answers "waiting for initial data"; the client records nothing for it
// (no zero counter stamped with the wall clock), and the plant's first
// value arrives with the plant's time.
func TestNoValueBeforeThePlant(t *testing.T) {
	p := testPlant(t)
	s := startServer(t, p, ServerOptions{})
	defer s.Close()
	at := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC).UnixNano()
	// the plant writes at 2026-03-04 09:00: so stands the receive clock
	plantClock := ingest.Clock{Now: func() time.Time { return time.Unix(0, at).Add(time.Second) }}
	c, sink := follow(t, plant.OPCUAServer{Endpoint: s.Endpoint(), Interval: 50 * time.Millisecond, Nodes: tags(p, "2")}, ClientOptions{Clock: plantClock})
	// the server sends what its monitored items hold first, then the
	// changes, in order: once the plant's first value is in, whatever the
	// nodes held before it has come too
	w1 := p.Units[1].Path()
	s.Emit(event.Event{Time: at, Kind: event.Counter, Asset: w1, Name: "good", Value: 5})
	waitFor(t, "the first value", 5*time.Second, func() bool { return sink.find(w1, event.Counter, "good", 5) })
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.evs) != 1 || c.Stats().Malformed != 0 {
		t.Errorf("before and with the plant's first value: %d events (want that one), %d malformed", len(sink.evs), c.Stats().Malformed)
	}
	for _, e := range sink.evs {
		if e.Time != at {
			t.Fatalf("an event not at the plant's time: %+v", e)
		}
	}
}

// cert makes a self-signed certificate for an OPC UA application.
func cert(t testing.TB, uri string) ([]byte, *rsa.PrivateKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "twin test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageDataEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, BasicConstraintsValid: true,
		URIs: []*url.URL{u}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func TestSecure(t *testing.T) {
	p := testPlant(t)
	sc, sk := cert(t, "urn:twin:virtual-plant")
	s := startServer(t, p, ServerOptions{Secure: true, Certificate: sc, Key: sk})
	defer s.Close()
	cc, ck := cert(t, "urn:twin:client")
	w1 := p.Units[1].Path()
	for i, mode := range []string{"Sign", "SignAndEncrypt"} {
		t.Run(mode, func(t *testing.T) {
			cfg := plant.OPCUAServer{Endpoint: s.Endpoint(), Policy: "Basic256Sha256", Mode: mode, User: "operator", Password: "secret",
				Interval: 50 * time.Millisecond, Nodes: tags(p, "2")}
			_, sink := follow(t, cfg, ClientOptions{Certificate: cc, Key: ck})
			v := float64(100 + i)
			s.Emit(event.Event{Time: time.Now().UnixNano(), Kind: event.Counter, Asset: w1, Name: "good", Value: v})
			waitFor(t, "a value over "+mode, 5*time.Second, func() bool { return sink.find(w1, event.Counter, "good", v) })
		})
	}
	// without a certificate the client says so and does not connect
	c := NewClient(plant.OPCUAServer{Endpoint: s.Endpoint(), Policy: "Basic256Sha256", Mode: "Sign", Nodes: tags(p, "2")}, &collect{}, ClientOptions{})
	if _, err := c.options(context.Background()); err == nil {
		t.Error("a secure connection without a certificate was accepted")
	}
}

// TestServerRestart: the server goes away and comes back on the same
// port; the client resumes by itself.
func TestServerRestart(t *testing.T) {
	p := testPlant(t)
	s := startServer(t, p, ServerOptions{})
	cfg := plant.OPCUAServer{Endpoint: s.Endpoint(), Interval: 50 * time.Millisecond, Nodes: tags(p, "2")}
	c, sink := follow(t, cfg, ClientOptions{})
	w1 := p.Units[1].Path()
	s.Emit(event.Event{Time: time.Now().UnixNano(), Kind: event.Counter, Asset: w1, Name: "good", Value: 1})
	waitFor(t, "the first value", 5*time.Second, func() bool { return sink.find(w1, event.Counter, "good", 1) })
	s.Close()
	down := time.Now()
	time.Sleep(500 * time.Millisecond) // the outage under test: half a second
	s2 := startServer(t, p, ServerOptions{Port: port(t, s)})
	defer s2.Close()
	waitFor(t, "the client to resubscribe", 20*time.Second, func() bool { return c.Stats().Connects >= 2 && c.Stats().Subscribed })
	s2.Emit(event.Event{Time: time.Now().UnixNano(), Kind: event.Counter, Asset: w1, Name: "good", Value: 2})
	waitFor(t, "a value after the restart", 5*time.Second, func() bool { return sink.find(w1, event.Counter, "good", 2) })
	t.Logf("monitoring resumed %v after the server went down (0.5 s down)", time.Since(down).Round(time.Millisecond))
}

// BenchmarkLatency: 1,000 value changes a second on the server; for each
// change, the time until the client's sink holds that value or a newer one
// of the same node (the twin's state is then up to date). OPC UA servers
// may coalesce changes within a publishing interval (gopcua's revises the
// queue to 1): "delivered" is the share of changes seen one by one.
func BenchmarkLatency(b *testing.B) {
	p := testPlant(b)
	s := startServer(b, p, ServerOptions{})
	defer s.Close()
	cfg := plant.OPCUAServer{Endpoint: s.Endpoint(), Interval: 20 * time.Millisecond, Nodes: tags(p, "2")}
	_, sink := follow(b, cfg, ClientOptions{})
	units := p.Units
	b.ResetTimer()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	n := max(b.N, 3000)
	emitted := make([]time.Time, n+1)
	start := time.Now()
	for i := 1; i <= n; i++ {
		// 1,000 a second on average: catch up after a late tick
		if due := int(time.Since(start) / time.Millisecond); i > due {
			<-tick.C
		}
		u := units[i%len(units)]
		emitted[i] = time.Now()
		s.Emit(event.Event{Time: emitted[i].UnixNano(), Kind: event.Measure, Asset: u.Path(), Name: "power_kw", Value: float64(i)})
	}
	rate := float64(n) / time.Since(start).Seconds()
	b.StopTimer()
	// every node's last change in: the others came before it
	for k := n - len(units) + 1; k <= n; k++ {
		u := units[k%len(units)]
		waitFor(b, "the last changes", 10*time.Second, func() bool { return sink.atLeast(u.Path(), "power_kw", float64(k)) })
	}
	type seen struct {
		v float64
		t time.Time
	}
	byAsset := map[string][]seen{}
	delivered := 0
	sink.mu.Lock()
	for i, e := range sink.evs {
		if e.Kind == event.Measure && e.Name == "power_kw" && e.Value > 0 {
			byAsset[e.Asset] = append(byAsset[e.Asset], seen{e.Value, sink.seen[i]})
			delivered++
		}
	}
	sink.mu.Unlock()
	var lat []float64
	for i := 1; i <= n; i++ {
		got := byAsset[units[i%len(units)].Path()]
		k := sort.Search(len(got), func(k int) bool { return got[k].v >= float64(i) })
		if k == len(got) {
			b.Fatalf("change %d never reached the sink", i)
		}
		lat = append(lat, float64(got[k].t.Sub(emitted[i]).Microseconds())/1000)
	}
	sort.Float64s(lat)
	var sum float64
	for _, l := range lat {
		sum += l
	}
	// ns/op is the latency of a change (the loop's own time is its pacing)
	b.ReportMetric(sum/float64(len(lat))*1e6, "ns/op")
	b.ReportMetric(rate, "changes/s")
	b.ReportMetric(float64(delivered)/float64(n), "delivered")
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
}

// quarantine: a value whose source timestamp is years ahead of the
// receive clock (a PLC whose clock was set to 2100) is handed on as a
// quarantine fault with its node, value and timestamps, at the receive
// time; values in bounds go on as before. (Part of TestSubscribe: a
// subscription takes seconds to set up.)
func quarantine(t *testing.T, p *plant.Plant, s *Server, sink *collect) {
	w1 := p.Units[1].Path()
	before := time.Now().UnixNano()
	s.Emit(event.Event{Time: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Kind: event.Counter, Asset: w1, Name: "good", Value: 43})
	s.Emit(event.Event{Time: before, Kind: event.Measure, Asset: w1, Name: "power_kw", Value: 7.7})
	find := func() (fault *event.Event, counter bool) {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		for i, e := range sink.evs {
			if e.Kind == event.Fault && e.Name == "quarantine/ahead" {
				x := sink.evs[i]
				fault = &x
			}
			counter = counter || e.Kind == event.Counter && e.Value == 43
		}
		return fault, counter
	}
	waitFor(t, "the values after the one stamped 2100", 5*time.Second, func() bool { f, _ := find(); return f != nil && sink.find(w1, event.Measure, "power_kw", 7.7) })
	after := time.Now().UnixNano()
	fault, counter := find()
	if counter {
		t.Error("the reading stamped 2100 was handed on")
	}
	node := s.NodeID(p.Units[1].ID(), "GoodCount")
	for _, want := range []string{"claimed 2100-01-01T00:00:00Z", "OPC UA " + s.Endpoint() + " node " + node + ", value 43", "source timestamp 2100-01-01T00:00:00Z"} {
		if !strings.Contains(fault.Ref, want) {
			t.Errorf("the fault's text lacks %q: %s", want, fault.Ref)
		}
	}
	if fault.Asset != w1 || fault.Time < before || fault.Time > after {
		t.Errorf("fault on %s at %v: want it on the unit at the receive time", fault.Asset, time.Unix(0, fault.Time))
	}
}
