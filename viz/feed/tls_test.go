package feed

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/twin/tlsconf"
	"twin/viz/scene"
)

// TestClientTLS: the Go client (the desktop viewer's) follows a feed on
// wss://, through the headers HTTPS adds (tlsconf.Secure), trusting the
// twin's own CA; without it, it says the certificate is not trusted.
func TestClientTLS(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p)}
	f := New(ps, Options{Token: "s3cret"})
	certs, err := tlsconf.Open(tlsconf.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", certs.Config())
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: tlsconf.Secure(f)}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(l) }()
	t.Cleanup(func() { f.Close(); hs.Close(); <-done })
	url := "wss://" + l.Addr().String() + "/ws?token=s3cret&rate=30"

	untrusted := Dial(context.Background(), url)
	defer untrusted.Close()
	cfg, err := tlsconf.ClientConfig(certs.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	c := DialTLS(context.Background(), url, cfg)
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if sc := c.Scene(); sc != nil && len(sc.Stations) == len(p.Units) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot over wss in 10 s (status %s)", c.Status())
		}
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(untrusted.Status(), "certificate"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a client without the CA: status %q, want it to name the certificate", untrusted.Status())
		}
	}
	if untrusted.Scene() != nil {
		t.Error("a client that does not trust the certificate got a scene")
	}
}
