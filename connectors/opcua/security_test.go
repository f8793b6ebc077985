package opcua

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"

	"twin/plant"
	"twin/plant/event"
)

func endpoints(t testing.TB, url string) []*ua.EndpointDescription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eps, err := opcua.GetEndpoints(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// TestEndpoints: a server with a certificate offers None, Basic256Sha256
// and Aes128_Sha256_RsaOaep (Sign and SignAndEncrypt), anonymous login
// only (gopcua's server would take any user name: it never checks one);
// a server without offers None. A client that names a user is told the
// server offers none.
func TestEndpoints(t *testing.T) {
	p := testPlant(t)
	sc, sk := cert(t, "urn:twin:virtual-plant")
	s := startServer(t, p, ServerOptions{Certificate: sc, Key: sk})
	t.Cleanup(func() { s.Close() })
	var got []string
	for _, ep := range endpoints(t, s.Endpoint()) {
		pm := strings.TrimPrefix(ep.SecurityPolicyURI, "http://opcfoundation.org/UA/SecurityPolicy#") + "/" + strings.TrimPrefix(ep.SecurityMode.String(), "MessageSecurityMode")
		got = append(got, pm)
		for _, tok := range ep.UserIdentityTokens {
			if tok.TokenType != ua.UserTokenTypeAnonymous {
				t.Errorf("%s offers %v login", pm, tok.TokenType)
			}
		}
		if len(ep.UserIdentityTokens) == 0 {
			t.Errorf("%s offers no login", pm)
		}
		if string(ep.ServerCertificate) != string(sc) || ep.Server.ApplicationURI != "urn:twin:virtual-plant" {
			t.Errorf("%s: certificate or application URI %q not the server's", pm, ep.Server.ApplicationURI)
		}
	}
	want := []string{"None/None", "Basic256Sha256/Sign", "Basic256Sha256/SignAndEncrypt", "Aes128_Sha256_RsaOaep/Sign", "Aes128_Sha256_RsaOaep/SignAndEncrypt"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("endpoints %v, want %v", got, want)
	}

	cc, ck := cert(t, "urn:twin:client")
	c := NewClient(plant.OPCUAServer{Endpoint: s.Endpoint(), Policy: "Basic256Sha256", Mode: "SignAndEncrypt", User: "operator", Password: "secret",
		Nodes: tags(p, "2")}, &collect{}, ClientOptions{Certificate: cc, Key: ck})
	if _, err := c.options(context.Background()); err == nil || !strings.Contains(err.Error(), "offers no user name login") {
		t.Errorf("a user name login to a server that offers none: %v", err)
	}

	plain := startServer(t, p, ServerOptions{})
	t.Cleanup(func() { plain.Close() })
	if eps := endpoints(t, plain.Endpoint()); len(eps) != 1 || eps[0].SecurityMode != ua.MessageSecurityModeNone {
		t.Errorf("a server without a certificate offers %d endpoints", len(eps))
	}
	// a key that is not the certificate's
	_, other := cert(t, "urn:twin:other")
	if _, err := NewServer(p, ServerOptions{Certificate: sc, Key: other}); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("a server with another certificate's key: %v", err)
	}
}

// TestTrustOnFirstUse: the client records the certificate an endpoint
// first presents and refuses another one there (raising the offline
// alarm, saying what to do) until the trust file names it too; a
// certificate pinned beforehand is the only one taken.
func TestTrustOnFirstUse(t *testing.T) {
	p := testPlant(t)
	first, firstKey := cert(t, "urn:twin:virtual-plant")
	s := startServer(t, p, ServerOptions{Certificate: first, Key: firstKey})
	cc, ck := cert(t, "urn:twin:client")
	file := filepath.Join(t.TempDir(), "opcua", TrustFileName)
	cfg := plant.OPCUAServer{Endpoint: s.Endpoint(), Policy: "Basic256Sha256", Mode: "SignAndEncrypt", Interval: 50 * time.Millisecond, Nodes: tags(p, "2")}
	sink := &collect{}
	c := NewClient(cfg, sink, ClientOptions{Certificate: cc, Key: ck, TrustFile: file})
	defer run(t, c)()
	waitFor(t, "the subscription", 15*time.Second, func() bool { return c.Stats().Subscribed })
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), s.Endpoint()+" "+Fingerprint(first)+"\n") || !strings.HasPrefix(string(b), "# ") {
		t.Fatalf("the trust file after the first connection: %v\n%s", err, b)
	}

	// another server (another certificate) at the same address
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	waitFor(t, "the old server gone", 15*time.Second, func() bool { return !c.Stats().Subscribed })
	<-closed
	second, secondKey := cert(t, "urn:twin:virtual-plant")
	s2 := startServer(t, p, ServerOptions{Port: port(t, s), Certificate: second, Key: secondKey})
	t.Cleanup(func() { s2.Close() })
	waitFor(t, "the new certificate refused", 15*time.Second, func() bool { return strings.Contains(c.Stats().LastError, Fingerprint(second)) })
	for _, want := range []string{"trusts only " + Fingerprint(first), file, s.Endpoint() + " " + Fingerprint(second)} {
		if e := c.Stats().LastError; !strings.Contains(e, want) {
			t.Errorf("the refusal does not say %q: %s", want, e)
		}
	}
	if c.Stats().Subscribed || !c.Stats().Offline {
		t.Errorf("refused, yet %+v", c.Stats())
	}
	if !sink.find(p.Units[1].Path(), event.Alarm, "opcua/offline", 500) {
		t.Error("no offline alarm while the server is refused")
	}
	// the operator trusts the renewed certificate too
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s.Endpoint() + " " + Fingerprint(second) + "\n")
	f.Close()
	waitFor(t, "the renewed certificate taken", 20*time.Second, func() bool { return c.Stats().Subscribed })

	// pinned beforehand: another certificate is refused from the start,
	// and the file is left as it was
	pinned := filepath.Join(t.TempDir(), TrustFileName)
	pin := "# pinned by hand\n" + s.Endpoint() + " " + Fingerprint(first) + "\n"
	if err := os.WriteFile(pinned, []byte(pin), 0o644); err != nil {
		t.Fatal(err)
	}
	c2 := NewClient(cfg, &collect{}, ClientOptions{Certificate: cc, Key: ck, TrustFile: pinned})
	_, err = c2.options(context.Background())
	var untrusted *UntrustedError
	if !errors.As(err, &untrusted) || untrusted.Got != Fingerprint(second) {
		t.Errorf("a certificate other than the pinned one: %v", err)
	}
	if b, _ := os.ReadFile(pinned); string(b) != pin {
		t.Errorf("the pinned file changed:\n%s", b)
	}
}

// TestTrustFile: what the trust file takes and what it refuses, with the
// line.
func TestTrustFile(t *testing.T) {
	fp := Fingerprint([]byte("a certificate"))
	for _, c := range []struct {
		name, text string
		want       map[string][]string
		err        string
	}{
		{"empty", "", map[string][]string{}, ""},
		{"comments and blank lines", "# servers\n\n   # none yet\n", map[string][]string{}, ""},
		{"one", "opc.tcp://gw:4840 " + fp + "\n", map[string][]string{"opc.tcp://gw:4840": {fp}}, ""},
		{"renewed, a trailing slash, upper case, a comment", "opc.tcp://gw:4840/ " + strings.ToUpper(fp) + " # old\nopc.tcp://gw:4840 sha256:" + strings.Repeat("ab", 32),
			map[string][]string{"opc.tcp://gw:4840": {fp, "sha256:" + strings.Repeat("ab", 32)}}, ""},
		{"no fingerprint", "opc.tcp://gw:4840\n", nil, "f:1: want an endpoint and a fingerprint"},
		{"SHA-1", "# x\nopc.tcp://gw:4840 " + strings.Repeat("ab", 20) + "\n", nil, "f:2:"},
		{"short", "opc.tcp://gw:4840 sha256:abcd", nil, "f:1:"},
		{"not hex", "opc.tcp://gw:4840 sha256:" + strings.Repeat("zz", 32), nil, "f:1:"},
		{"not an endpoint", "https://gw " + fp, nil, "f:1:"},
		{"three fields", "opc.tcp://gw:4840 " + fp + " extra", nil, "f:1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseTrust("f", []byte(c.text))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("%v %v, want %v", got, err, c.want)
			}
			for k, v := range c.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s: %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func FuzzParseTrust(f *testing.F) {
	fp := Fingerprint([]byte("x"))
	f.Add([]byte(trustHeader + "opc.tcp://127.0.0.1:4840 " + fp + "\n"))
	f.Add([]byte("opc.tcp://gw:4840/ " + fp + " # renewed\nopc.tcp://gw:4840 " + fp))
	f.Add([]byte("opc.tcp://gw:4840\n\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseTrust("f", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("an error without its place: %v", err)
			}
			return
		}
		// what it read, written back, reads the same
		var out strings.Builder
		for ep, fps := range m {
			if !strings.HasPrefix(ep, "opc.tcp://") || strings.HasSuffix(ep, "/") {
				t.Fatalf("endpoint %q", ep)
			}
			for _, fp := range fps {
				if !validFingerprint(fp) || fp != strings.ToLower(fp) {
					t.Fatalf("fingerprint %q", fp)
				}
				out.WriteString(ep + " " + fp + "\n")
			}
		}
		again, err := parseTrust("f", []byte(out.String()))
		if err != nil || len(again) != len(m) {
			t.Fatalf("written back: %v %v", again, err)
		}
		for ep, fps := range m {
			if !slices.Equal(again[ep], fps) {
				t.Fatalf("%s: %v, then %v", ep, fps, again[ep])
			}
		}
	})
}

// TestCertificateFiles: a certificate made once is kept (the key for its
// owner only) and read back the next time; PEM and DER are read; a key
// that is not the certificate's is refused.
func TestCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "opcua", "server.pem"), filepath.Join(dir, "opcua", "server.key")
	der, key, created, err := LoadOrCreateCertificate(cf, kf, "urn:twin:virtual-plant", "plant-pc", "10.0.0.5")
	if err != nil || !created {
		t.Fatalf("made: %v %v", created, err)
	}
	if st, err := os.Stat(kf); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the key's mode: %v %v", st.Mode(), err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil || len(c.URIs) != 1 || c.URIs[0].String() != "urn:twin:virtual-plant" || !slices.Contains(c.DNSNames, "plant-pc") ||
		!slices.Contains(c.DNSNames, "localhost") || len(c.IPAddresses) != 2 || c.KeyUsage&x509.KeyUsageDataEncipherment == 0 {
		t.Errorf("the certificate: %v %+v", err, c)
	}
	der2, key2, created, err := LoadOrCreateCertificate(cf, kf, "urn:twin:virtual-plant")
	if err != nil || created || string(der2) != string(der) || !key2.Equal(key) {
		t.Fatalf("read back: created %v, %v", created, err)
	}
	// DER files
	dc, dk := filepath.Join(dir, "c.der"), filepath.Join(dir, "k.der")
	os.WriteFile(dc, der, 0o644)
	os.WriteFile(dk, x509.MarshalPKCS1PrivateKey(key), 0o600)
	if der3, _, err := LoadCertificate(dc, dk); err != nil || string(der3) != string(der) {
		t.Errorf("DER: %v", err)
	}
	// PKCS #8
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	k8 := filepath.Join(dir, "k8.pem")
	os.WriteFile(k8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600)
	if _, _, err := LoadCertificate(cf, k8); err != nil {
		t.Errorf("PKCS #8: %v", err)
	}
	// another key; only one of the pair there
	_, other, _, _ := LoadOrCreateCertificate(filepath.Join(dir, "o.pem"), filepath.Join(dir, "o.key"), "urn:twin:other")
	ok := filepath.Join(dir, "other.key")
	os.WriteFile(ok, x509.MarshalPKCS1PrivateKey(other), 0o600)
	if _, _, err := LoadCertificate(cf, ok); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("another key: %v", err)
	}
	os.Remove(kf)
	if _, _, _, err := LoadOrCreateCertificate(cf, kf, "urn:twin:virtual-plant"); err == nil {
		t.Error("a certificate without its key was taken (or replaced)")
	}
}

// BenchmarkConnect: a client's connection (secure channel, session
// created and activated) to the server, per security policy and mode.
func BenchmarkConnect(b *testing.B) {
	p := testPlant(b)
	sc, sk := cert(b, "urn:twin:virtual-plant")
	s := startServer(b, p, ServerOptions{Certificate: sc, Key: sk})
	cc, ck := cert(b, "urn:twin:client")
	eps := endpoints(b, s.Endpoint())
	for _, sp := range append([]struct{ Policy, Mode string }{{"None", "None"}}, SecurePolicies...) {
		b.Run(sp.Policy+"/"+sp.Mode, func(b *testing.B) {
			ep, err := opcua.SelectEndpoint(eps, sp.Policy, ua.MessageSecurityModeFromString(sp.Mode))
			if err != nil {
				b.Fatal(err)
			}
			opts := []opcua.Option{opcua.SecurityFromEndpoint(ep, ua.UserTokenTypeAnonymous), opcua.AuthAnonymous(), opcua.AutoReconnect(false)}
			if sp.Policy != "None" {
				opts = append(opts, opcua.Certificate(cc), opcua.PrivateKey(ck))
			}
			for b.Loop() {
				cl, err := opcua.NewClient(s.Endpoint(), opts...)
				if err != nil {
					b.Fatal(err)
				}
				if err := cl.Connect(context.Background()); err != nil {
					b.Fatal(err)
				}
				cl.Close(context.Background())
			}
		})
	}
}
