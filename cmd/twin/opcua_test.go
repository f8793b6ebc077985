package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"twin/connectors/opcua"
	"twin/twin/datadir"
)

// TestDemoNodeOPCUA: a running twin demo's OPC UA server is read by an
// independent client, node-opcua (connectors/opcua/testdata/node-opcua),
// over Basic256Sha256 SignAndEncrypt, trusting the certificate the demo
// made in its data directory and printed the fingerprint of; the demo's
// own twin follows the server securely too (its trust file names the
// server's certificate). A second start keeps the certificate.
func TestDemoNodeOPCUA(t *testing.T) {
	if raceEnabled {
		t.Skip("gopcua's server races on node values (see the Makefile)")
	}
	js, _ := filepath.Abs("../../connectors/opcua/testdata/node-opcua")
	if _, err := os.Stat(filepath.Join(js, "node_modules/node-opcua-client")); err != nil {
		t.Fatalf("node-opcua is missing: run make deps: %v", err)
	}
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data", data, "--for", "2m", "--speed", "600", "--start", workingDay,
			"--mqtt", "127.0.0.1:0", "--opcua", "127.0.0.1:0", "--http", "127.0.0.1:0"}, &out, &errs)
	}()
	// the server's line, its certificate's, then a status line: by then
	// the plant has written its machines' values
	re := regexp.MustCompile(`(?s)OPC UA server +(opc\.tcp://\S+).*certificate +(\S+) \((sha256:[0-9a-f]{64})\).*\| events`)
	var m []string
	for deadline := time.Now().Add(60 * time.Second); m == nil; time.Sleep(50 * time.Millisecond) {
		if m = re.FindStringSubmatch(out.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no OPC UA server, certificate and status lines after 60 s:\n%s\n%s", out.String(), errs.String())
		}
	}
	endpoint, certFile, printed := m[1], m[2], m[3]
	if want := filepath.Join(data, datadir.OPCUA, "server.pem"); certFile != want {
		t.Errorf("the certificate is %s, want %s", certFile, want)
	}
	b, err := os.ReadFile(certFile)
	blk, _ := pem.Decode(b)
	if err != nil || blk == nil {
		t.Fatalf("the server's certificate %s: %v", certFile, err)
	}
	der := blk.Bytes
	if opcua.Fingerprint(der) != printed {
		t.Fatalf("printed %s, the certificate's is %s", printed, opcua.Fingerprint(der))
	}

	// node-opcua, trusting that certificate only
	tmp := t.TempDir()
	trusted := filepath.Join(tmp, "pki", "trusted", "certs")
	if err := os.MkdirAll(trusted, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(trusted, "server.der"), der, 0o644)
	cc, ck, err := opcua.CreateCertificate("urn:twin:node-opcua")
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(tmp, "client.pem"), filepath.Join(tmp, "client.key")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cc}), 0o644)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(ck)}), 0o600)
	nctx, ncancel := context.WithTimeout(ctx, 2*time.Minute)
	defer ncancel()
	cmd := exec.CommandContext(nctx, "node", "read.js", endpoint, filepath.Join(tmp, "pki"), cf, kf, "W1", "Basic256Sha256/SignAndEncrypt")
	cmd.Dir = js
	cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_CONFIG_HOME="+filepath.Join(tmp, "config"))
	var nodeErr strings.Builder
	cmd.Stderr = &nodeErr
	started := time.Now()
	nout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node read.js: %v\n%s\n%s", err, nout, nodeErr.String())
	}
	var res string
	for _, l := range strings.Split(string(nout), "\n") {
		if r, ok := strings.CutPrefix(l, "RESULT "); ok {
			res = r
		} else if strings.HasPrefix(l, "REFUSED ") {
			t.Fatalf("node-opcua: %s", l)
		}
	}
	t.Logf("node-opcua (%v): %s", time.Since(started).Round(time.Millisecond), res)
	var got struct {
		Channel              struct{ Policy, Mode string }
		GoodCount, StateCode struct {
			Value     any
			ValueType int
			DataType  string
			ValueRank any
		}
		State struct{ Value any }
	}
	if err := json.Unmarshal([]byte(res), &got); err != nil {
		t.Fatalf("read.js printed %q: %v\n%s", res, err, nout)
	}
	if got.Channel.Policy != "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256" || got.Channel.Mode != "SignAndEncrypt" {
		t.Errorf("the channel %+v", got.Channel)
	}
	if _, ok := got.GoodCount.Value.(float64); !ok || got.GoodCount.ValueType != 7 || got.GoodCount.DataType != "ns=0;i=7" || got.GoodCount.ValueRank != -1.0 {
		t.Errorf("W1.GoodCount %+v: want a UInt32 value (i=7), scalar", got.GoodCount)
	}
	if _, ok := got.StateCode.Value.(float64); !ok || got.StateCode.DataType != "ns=1;s=MachineState" {
		t.Errorf("W1.StateCode %+v: want a MachineState", got.StateCode)
	}
	if s, _ := got.State.Value.(string); s == "" || strings.HasPrefix(s, "Bad") {
		t.Errorf("W1.State %v", got.State.Value)
	}
	// the demo's twin follows the server over SignAndEncrypt, trusting
	// its certificate on first use
	tf, err := os.ReadFile(filepath.Join(data, datadir.OPCUA, opcua.TrustFileName))
	if err != nil || !strings.Contains(string(tf), endpoint+" "+printed+"\n") {
		t.Errorf("the twin's trust file: %v\n%s", err, tf)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out.String(), errs.String())
	}

	// a second start, anew: the certificate is kept
	o, e, code := runCLI(t, "demo", "--data", data, "--fresh", "--for", "1s", "--speed", "600", "--mqtt", "127.0.0.1:0", "--opcua", "127.0.0.1:0", "--http", "127.0.0.1:0")
	if code != 0 || !strings.Contains(o, printed) || strings.Contains(o, "made the OPC UA server's certificate") {
		t.Errorf("the second start (exit %d) does not present %s:\n%s\n%s", code, printed, o, e)
	}
}
