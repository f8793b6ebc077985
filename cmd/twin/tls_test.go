package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/twin/tlsconf"
)

// trusting is an HTTP client that trusts the CA of the twin on data.
func trusting(t testing.TB, data string) *http.Client {
	t.Helper()
	cfg, err := tlsconf.ClientConfig(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

// serveOnce runs twin serve on data until it says where its web view
// is; it returns that address (host:port), what it printed, and a stop
// that waits for it.
func serveOnce(t *testing.T, data string, args ...string) (addr string, out *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	var errs syncBuffer
	exited := make(chan struct{})
	var code int
	go func() {
		defer close(exited)
		code = run(ctx, append([]string{"serve", "--plant", "../../testdata/plants/one-station.yaml", "--data", data, "--http", "127.0.0.1:0"}, args...), out, &errs)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-exited
			if code != 0 {
				t.Errorf("serve: exit %d\n%s\n%s", code, out.String(), errs.String())
			}
		})
	}
	t.Cleanup(stop) // a test that fails midway
	re := regexp.MustCompile(`records API +https?://([^/\s]+)/api/v1/`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, stop
		}
		select {
		case <-exited:
			t.Fatalf("serve exited %d:\n%s\n%s", code, out.String(), errs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve says no records API after 30 s:\n%s\n%s", out.String(), errs.String())
		}
	}
}

// TestServeHTTPS: twin serve serves HTTPS by default, with a certificate
// it makes on the first start (signed by a local CA in DATA/tls, for
// the names asked, its SHA-256 printed and the one served), and reuses
// on the next; HSTS on its answers; the CA for phones at /ca.pem. The
// CLI refuses its certificate with the hint until it is given the CA
// (--ca, $TWIN_CA, or --data DIR), then works. --http-only serves plain
// HTTP without HSTS, and the CLI says so when asked for https://.
func TestServeHTTPS(t *testing.T) {
	t.Setenv("TWIN_ADMIN_PASSWORD", "an admin's password")
	t.Setenv("TWIN_CA", "")
	data := t.TempDir()
	caFile := filepath.Join(data, "tls", "ca.pem")
	addr, out, stop := serveOnce(t, data, "--tls-host", "plant-pc.example")
	said := regexp.MustCompile(`HTTPS certificate +SHA-256 ([0-9A-F:]{95})`).FindStringSubmatch(out.String())
	if said == nil || !strings.Contains(out.String(), "made now, for ") || !strings.Contains(out.String(), "plant-pc.example") {
		t.Fatalf("serve does not say its certificate:\n%s", out.String())
	}
	abs, _ := filepath.Abs(caFile)
	if !strings.Contains(out.String(), "local CA                "+abs) || !strings.Contains(out.String(), "--ca "+caFile) {
		t.Errorf("serve does not say where its CA is (%s):\n%s", abs, out.String())
	}
	if fi, err := os.Stat(filepath.Join(data, "tls", "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the CA's key: %v %v, want mode 0600", fi.Mode(), err)
	}
	// the certificate served, as a client that asks for plant-pc.example sees it
	cfg, err := tlsconf.ClientConfig(caFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ServerName = "plant-pc.example"
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("a client trusting DATA/tls/ca.pem, as plant-pc.example: %v", err)
	}
	cs := conn.ConnectionState()
	conn.Close()
	if sum := sha256.Sum256(cs.PeerCertificates[0].Raw); strings.ReplaceAll(said[1], ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("serve printed %s, served %X", said[1], sum)
	}
	if cs.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", cs.Version)
	}
	old := &tls.Config{RootCAs: cfg.RootCAs, MaxVersion: tls.VersionTLS11, ServerName: "localhost"}
	if c, err := tls.Dial("tcp", addr, old); err == nil {
		c.Close()
		t.Error("TLS 1.1 was accepted")
	}
	hc := trusting(t, data)
	base := "https://" + addr
	r, err := hc.Get(base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Strict-Transport-Security") != tlsconf.HSTS {
		t.Errorf("GET /api/v1/openapi.json over HTTPS: %s, Strict-Transport-Security %q", r.Status, r.Header.Get("Strict-Transport-Security"))
	}
	r, err = hc.Get(base + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(r.Body)
	r.Body.Close()
	if want, _ := os.ReadFile(caFile); r.StatusCode != 200 || !bytes.Equal(got.Bytes(), want) || r.Header.Get("Content-Type") != "application/x-x509-ca-cert" {
		t.Errorf("GET /ca.pem: %s %s, %d bytes, want the CA's %d", r.Status, r.Header.Get("Content-Type"), got.Len(), len(want))
	}

	// the CLI: refused with the hint, then trusted through each way
	_, errs, code := runCLI(t, "api", "POST", "/api/v1/login", `{"name":"admin","password":"an admin's password"}`, "--server", base)
	if code != 1 || !strings.Contains(errs, "run with --ca DATA/tls/ca.pem") {
		t.Fatalf("the CLI without the CA: exit %d %s", code, errs)
	}
	o, errs, code := runCLI(t, "api", "POST", "/api/v1/login", `{"name":"admin","password":"an admin's password"}`, "--server", base, "--ca", caFile)
	tok := regexp.MustCompile(`"token": "([^"]+)"`).FindStringSubmatch(o)
	if code != 0 || tok == nil {
		t.Fatalf("twin api --ca: exit %d\n%s%s", code, o, errs)
	}
	if o, errs, code := runCLI(t, "audit", "verify", "--server", base, "--data", data, "--token", tok[1]); code != 0 || !strings.Contains(o, "the chain is intact") {
		t.Errorf("twin audit verify --server --data (its CA): exit %d\n%s%s", code, o, errs)
	}
	t.Setenv("TWIN_CA", caFile)
	if o, errs, code := runCLI(t, "orders", "list", "--server", base, "--token", tok[1]); code != 0 || !strings.Contains(o, "times in") {
		t.Errorf("twin orders list with $TWIN_CA: exit %d\n%s%s", code, o, errs)
	}
	other := filepath.Join(t.TempDir(), "other")
	if _, err := tlsconf.Open(tlsconf.Options{Dir: other}); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := runCLI(t, "scan", "nope", "--server", base, "--token", tok[1], "--ca", filepath.Join(other, "ca.pem")); code != 1 || !strings.Contains(errs, "not signed by the CA in "+filepath.Join(other, "ca.pem")) {
		t.Errorf("twin scan with another twin's CA: exit %d %s", code, errs)
	}
	if _, errs, code := runCLI(t, "orders", "list", "--server", "http://"+addr, "--token", tok[1]); code != 1 || !strings.Contains(errs, "use "+base) {
		t.Errorf("http:// to the HTTPS twin: exit %d %s", code, errs)
	}
	t.Setenv("TWIN_CA", "")
	stop()

	// the next start keeps it
	_, out, stop = serveOnce(t, data, "--tls-host", "plant-pc.example")
	if !strings.Contains(out.String(), "SHA-256 "+said[1]) || !strings.Contains(out.String(), "kept from the last start") {
		t.Errorf("the second start does not serve the same certificate (%s):\n%s", said[1], out.String())
	}
	stop()

	// --http-only: plain HTTP, no HSTS, nothing said of certificates
	addr, out, stop = serveOnce(t, data, "--http-only")
	defer stop()
	if strings.Contains(out.String(), "HTTPS") || !strings.Contains(out.String(), "records API             http://") {
		t.Errorf("--http-only:\n%s", out.String())
	}
	r, err = http.Get("http://" + addr + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("over plain HTTP: %s, Strict-Transport-Security %q", r.Status, r.Header.Get("Strict-Transport-Security"))
	}
	if _, errs, code := runCLI(t, "orders", "list", "--server", "https://"+addr, "--ca", caFile); code != 1 || !strings.Contains(errs, "use http://"+addr) {
		t.Errorf("https:// to an --http-only twin: exit %d %s", code, errs)
	}
}
