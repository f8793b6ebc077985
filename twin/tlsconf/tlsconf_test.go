package tlsconf

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for the options.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// serve serves s's configuration on a free loopback port, answering
// every connection's handshake; it returns the address.
func serve(t testing.TB, s *Server) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", s.Config())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.(*tls.Conn).Handshake()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return l.Addr().String()
}

// handshake connects to addr as name, trusting cfg (nil: this machine's
// roots), and returns the certificate the server showed.
func handshake(t testing.TB, addr, name string, cfg *tls.Config) (*x509.Certificate, error) {
	t.Helper()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	cfg.ServerName = name
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

func TestGeneratedOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Made != "new" {
		t.Errorf("Made = %q, want new", s.Made)
	}
	for name, want := range map[string]os.FileMode{CAName: 0o644, CAKeyName: 0o600, CertName: 0o644, ServerKey: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700", dir, fi.Mode().Perm())
	}
	ca, _ := os.ReadFile(s.CAFile)
	again, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if again.Made != "" || again.Fingerprint() != s.Fingerprint() {
		t.Errorf("a second start made a certificate (%q): %s, was %s", again.Made, again.Fingerprint(), s.Fingerprint())
	}
	if ca2, _ := os.ReadFile(again.CAFile); !bytes.Equal(ca, ca2) {
		t.Error("a second start made another CA")
	}
	if got := s.Fingerprint(); len(got) != 32*3-1 || strings.Count(got, ":") != 31 {
		t.Errorf("fingerprint %q: want 32 hex pairs with colons", got)
	}
	// the served certificate is the one kept, and its fingerprint the one said
	addr := serve(t, again)
	cfg, err := ClientConfig(again.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := handshake(t, addr, "localhost", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(leaf) != s.Fingerprint() {
		t.Errorf("served %s, said %s", Fingerprint(leaf), s.Fingerprint())
	}
}

func TestNames(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Hosts: []string{"plant-pc.example", "10.11.12.13", "[fd00::7]"}})
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	want := []string{strings.ToLower(host), "localhost", "127.0.0.1", "::1", "plant-pc.example", "10.11.12.13", "fd00::7"}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() && (n.IP.To4() != nil || n.IP.IsPrivate()) {
			want = append(want, n.IP.String()) // the LAN addresses
		}
	}
	got := s.Names()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("the certificate does not name %s: %v", w, got)
		}
	}
	leaf := s.Leaf()
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || leaf.IsCA {
		t.Errorf("ext key usage %v, CA %v: want server auth, no CA (phones refuse otherwise)", leaf.ExtKeyUsage, leaf.IsCA)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 398*24*time.Hour {
		t.Errorf("valid for %v: browsers refuse more than 398 days", d)
	}
	// a client that trusts the CA reaches the twin by each name
	addr := serve(t, s)
	cfg, err := ClientConfig(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "plant-pc.example", "10.11.12.13"} {
		if _, err := handshake(t, addr, name, cfg); err != nil {
			t.Errorf("as %s: %v", name, err)
		}
	}
	_, err = handshake(t, addr, "other.example", cfg)
	var he x509.HostnameError
	if !errors.As(err, &he) {
		t.Fatalf("a name not in the certificate: %v, want a hostname error", err)
	}
	if msg := Explain(err, "https://other.example:8080", s.CAFile).Error(); !strings.Contains(msg, "--tls-host other.example") {
		t.Errorf("the hint: %s", msg)
	}
	// names that change (a new LAN address) make a new certificate, not a new CA
	ca, _ := os.ReadFile(s.CAFile)
	again, err := Open(Options{Dir: s.opts.Dir, Hosts: []string{"plant-pc.example", "10.11.12.14"}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Made != "renewed: it does not name 10.11.12.14" {
		t.Errorf("Made = %q, want it renewed for the new address", again.Made)
	}
	if ca2, _ := os.ReadFile(s.CAFile); !bytes.Equal(ca, ca2) {
		t.Error("new names made a new CA: phones would install it again")
	}
}

func TestRenewal(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	s, err := Open(Options{Dir: dir, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	first, end := s.Fingerprint(), s.Leaf().NotAfter
	ca, _ := os.ReadFile(s.CAFile)
	// at a start 31 days before the end: kept; 29 days before: renewed
	clk.set(end.Add(-31 * 24 * time.Hour))
	if again, err := Open(Options{Dir: dir, Now: clk.now}); err != nil || again.Made != "" {
		t.Fatalf("31 days before its end: %q, %v; want it kept", again.Made, err)
	}
	clk.set(end.Add(-29 * 24 * time.Hour))
	again, err := Open(Options{Dir: dir, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(again.Made, "renewed: it ends on") || again.Fingerprint() == first || !again.Leaf().NotAfter.After(end) {
		t.Errorf("29 days before its end: %q, %s (was %s), ends %v", again.Made, again.Fingerprint(), first, again.Leaf().NotAfter)
	}
	if ca2, _ := os.ReadFile(s.CAFile); !bytes.Equal(ca, ca2) {
		t.Error("renewing the certificate made a new CA")
	}

	// while serving: the handshake after the clock passed the renewal
	// point shows a new certificate, which a client trusting the CA takes
	clk.set(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	s, err = Open(Options{Dir: t.TempDir(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	cfg, _ := ClientConfig(s.CAFile)
	before, err := handshake(t, addr, "localhost", cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk.set(before.NotAfter.Add(-24 * time.Hour))
	cfg.Time = clk.now
	after, err := handshake(t, addr, "localhost", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(after) == Fingerprint(before) || !after.NotAfter.After(before.NotAfter) {
		t.Errorf("serving a day before the end: still %s ending %v", Fingerprint(after), after.NotAfter)
	}
	kept, _ := os.ReadFile(s.CertFile)
	if !bytes.Contains(kept, pemOf(after)) {
		t.Error("the renewed certificate is not the one kept on disk")
	}
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func TestGiven(t *testing.T) {
	made, err := Open(Options{Dir: t.TempDir(), Hosts: []string{"mes.plant.example"}})
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(filepath.Dir(made.CertFile), ServerKey)
	s, err := Open(Options{CertFile: made.CertFile, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	if s.CAFile != "" || s.Made != "" || s.Fingerprint() != made.Fingerprint() {
		t.Errorf("given: CA %q, made %q, %s; want none, none, %s", s.CAFile, s.Made, s.Fingerprint(), made.Fingerprint())
	}
	if _, err := Open(Options{CertFile: made.CertFile}); err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Errorf("a certificate without its key: %v", err)
	}
	if _, err := Open(Options{CertFile: made.CertFile, KeyFile: made.CAFile}); err == nil || !strings.Contains(err.Error(), made.CertFile) {
		t.Errorf("a key that is not one: %v", err)
	}
}

func TestUntrusted(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	_, err = handshake(t, addr, "localhost", nil)
	var te *TrustError
	if !errors.As(Explain(err, "https://"+addr, ""), &te) || !strings.Contains(te.Error(), "run with --ca DATA/tls/ca.pem") {
		t.Fatalf("an unknown CA: %v", Explain(err, "https://"+addr, ""))
	}
	cfg, _ := ClientConfig(other.CAFile)
	_, err = handshake(t, addr, "localhost", cfg)
	if msg := Explain(err, "https://"+addr, other.CAFile).Error(); !strings.Contains(msg, "not signed by the CA in "+other.CAFile) {
		t.Errorf("another twin's CA: %s", msg)
	}
	cfg, _ = ClientConfig(s.CAFile)
	if _, err := handshake(t, addr, "localhost", cfg); err != nil {
		t.Errorf("with its CA: %v", err)
	}
	// plain HTTP where HTTPS was asked
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	_, err = (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Get("https://" + plain.Listener.Addr().String())
	if msg := Explain(err, "https://"+plain.Listener.Addr().String(), s.CAFile).Error(); !strings.Contains(msg, "use http://") {
		t.Errorf("plain HTTP: %s", msg)
	}
	if _, err := ClientConfig(filepath.Join(t.TempDir(), "none.pem")); err == nil || !strings.Contains(err.Error(), "DATA/tls/ca.pem") {
		t.Errorf("a missing CA file: %v", err)
	}
}

func TestSecure(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Hosts: []string{"plant-pc.example"}})
	if err != nil {
		t.Fatal(err)
	}
	h := Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "v", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.Header().Add("Set-Cookie", "pref=zh; Path=/; secure")
		io.WriteString(w, "ok")
	}))
	// (not httptest's StartTLS: it adds a certificate of its own)
	l, err := tls.Listen("tcp", "127.0.0.1:0", s.Config())
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { defer close(done); tlsSrv.Serve(l) }()
	defer func() { tlsSrv.Close(); <-done }()
	plain := httptest.NewServer(h)
	defer plain.Close()
	cfg, _ := ClientConfig(s.CAFile)
	// a client that asks for plant-pc.example and dials the loopback
	addr := l.Addr().String()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	_, port, _ := net.SplitHostPort(addr)
	for _, tc := range []struct {
		name, url string
		client    *http.Client
		hsts      bool
		secure    bool
	}{
		{"https by name", "https://plant-pc.example:" + port + "/", c, true, true},
		{"https by address", "https://" + addr + "/", c, true, true},
		{"https on localhost", "https://localhost:" + port + "/", c, false, true},
		{"plain http", plain.URL + "/", http.DefaultClient, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.client.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if got := r.Header.Get("Strict-Transport-Security"); (got == HSTS) != tc.hsts {
				t.Errorf("Strict-Transport-Security %q, want it %v", got, tc.hsts)
			}
			cs := r.Cookies()
			if len(cs) != 2 {
				t.Fatalf("cookies %v", r.Header["Set-Cookie"])
			}
			// the session cookie is Secure on HTTPS only; pref set it itself
			if cs[0].Secure != tc.secure || !cs[1].Secure {
				t.Errorf("cookies %v: want session Secure %v, pref Secure", r.Header["Set-Cookie"], tc.secure)
			}
			for i, ck := range cs {
				if n := strings.Count(strings.ToLower(r.Header["Set-Cookie"][i]), "secure"); n > 1 {
					t.Errorf("cookie %s marked Secure twice: %s", ck.Name, r.Header["Set-Cookie"][i])
				}
			}
		})
	}
}

func FuzzSecureCookies(f *testing.F) {
	f.Add("session=v; Path=/; HttpOnly; SameSite=Strict")
	f.Add("a=b; Secure")
	f.Add("a=b;secure;path=/")
	f.Add("x")
	f.Fuzz(func(t *testing.T, c string) {
		h := http.Header{"Set-Cookie": {c}}
		secureCookies(h)
		got := h["Set-Cookie"][0]
		if !strings.HasPrefix(got, c) {
			t.Fatalf("%q became %q: the cookie changed", c, got)
		}
		again := http.Header{"Set-Cookie": {got}}
		secureCookies(again)
		if again["Set-Cookie"][0] != got {
			t.Fatalf("%q: marked twice: %q", got, again["Set-Cookie"][0])
		}
	})
}
