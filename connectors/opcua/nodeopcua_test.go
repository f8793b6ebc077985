package opcua

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"twin/plant/event"
)

// interop is what testdata/node-opcua/read.js reads of a unit.
type interop struct {
	Channel                     struct{ Policy, Mode string }
	GoodCount, StateCode, State struct {
		Value                                   any
		ValueType                               int
		DataType                                string
		ValueRank, AccessLevel, UserAccessLevel any
	}
	Enum struct {
		Type               string
		Properties         []string
		EnumStrings        []string
		DataTypeDefinition []struct {
			Value int
			Name  string
		}
		DataTypeDefinitionStatus string
	}
}

// nodeOPCUA runs read.js: node-opcua connecting to endpoint once per
// spec ("POLICY/MODE", or "POLICY/MODE/untrusted": not trusting the
// server), trusting only the certificates trusted (DER), reading unit. It
// returns, by spec, what was read or why the connection was refused.
func nodeOPCUA(t *testing.T, endpoint, unit string, trusted [][]byte, specs ...string) (map[string]interop, map[string]string) {
	t.Helper()
	dir, _ := filepath.Abs("testdata/node-opcua")
	if _, err := os.Stat(filepath.Join(dir, "node_modules/node-opcua-client")); err != nil {
		t.Fatalf("node-opcua is missing: run make deps (npm ci in connectors/opcua/testdata/node-opcua): %v", err)
	}
	tmp := t.TempDir()
	pki := filepath.Join(tmp, "pki")
	if err := os.MkdirAll(filepath.Join(pki, "trusted", "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, der := range trusted {
		os.WriteFile(filepath.Join(pki, "trusted", "certs", fmt.Sprintf("server%d.der", i)), der, 0o644)
	}
	// its own application instance certificate
	der, key := cert(t, "urn:twin:node-opcua")
	cf, kf := filepath.Join(tmp, "client.pem"), filepath.Join(tmp, "client.key")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"read.js", endpoint, pki, cf, kf, unit}, specs...)...)
	cmd.Dir = dir
	// node-opcua keeps nothing in the home directory of the test's user
	cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_CONFIG_HOME="+filepath.Join(tmp, "config"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node read.js: %v\n%s\n%s", err, out, stderr.String())
	}
	// node-opcua logs on stdout too: the results are the lines RESULT
	// and REFUSED, in the order of specs
	read, refused := map[string]interop{}, map[string]string{}
	i := 0
	for _, l := range strings.Split(string(out), "\n") {
		if r, ok := strings.CutPrefix(l, "RESULT "); ok && i < len(specs) {
			var got interop
			if err := json.Unmarshal([]byte(r), &got); err != nil {
				t.Fatalf("read.js printed %q: %v", r, err)
			}
			read[specs[i]] = got
			i++
		} else if r, ok := strings.CutPrefix(l, "REFUSED "); ok && i < len(specs) {
			refused[specs[i]] = strings.TrimPrefix(r, specs[i]+" ")
			i++
		}
	}
	if i != len(specs) {
		t.Fatalf("read.js answered %d of %d:\n%s\n%s", i, len(specs), out, stderr.String())
	}
	return read, refused
}

// TestNodeOPCUA: an independent client, node-opcua, connects to the
// virtual plant's server over Basic256Sha256 and Aes128_Sha256_RsaOaep
// SignAndEncrypt, trusting the server's certificate only because it was
// given it (it refuses the server otherwise), and reads a counter (a
// UInt32), its attributes and the MachineState enumeration.
func TestNodeOPCUA(t *testing.T) {
	p := testPlant(t)
	sc, sk := cert(t, "urn:twin:virtual-plant")
	s := startServer(t, p, ServerOptions{Certificate: sc, Key: sk})
	t.Cleanup(func() { s.Close() })
	w1 := p.Units[1]
	now := time.Now().UnixNano()
	s.Emit(event.Event{Time: now, Kind: event.State, Asset: w1.Path(), Value: float64(event.Running)})
	s.Emit(event.Event{Time: now, Kind: event.Counter, Asset: w1.Path(), Name: "good", Value: 41})
	specs := []string{"Basic256Sha256/SignAndEncrypt", "Aes128_Sha256_RsaOaep/SignAndEncrypt", "Basic256Sha256/SignAndEncrypt/untrusted"}
	read, refused := nodeOPCUA(t, s.Endpoint(), w1.ID(), [][]byte{sc}, specs...)
	for _, spec := range specs[:2] {
		t.Run(spec, func(t *testing.T) {
			got, ok := read[spec]
			if !ok {
				t.Fatalf("node-opcua: %s", refused[spec])
			}
			t.Logf("node-opcua read %+v", got)
			policy, mode, _ := strings.Cut(spec, "/")
			if !strings.HasSuffix(got.Channel.Policy, "#"+policy) || got.Channel.Mode != mode {
				t.Errorf("channel %+v", got.Channel)
			}
			g := got.GoodCount
			// node-opcua's DataType ids: UInt32 7, Int32 6, String 12
			if g.Value != 41.0 || g.ValueType != 7 || g.DataType != "ns=0;i=7" || g.ValueRank != -1.0 || g.AccessLevel != 1.0 || g.UserAccessLevel != 1.0 {
				t.Errorf("GoodCount %+v: want 41, a UInt32 (i=7), scalar, CurrentRead", g)
			}
			st := got.StateCode
			if st.Value != float64(event.Running) || st.ValueType != 6 || st.DataType != "ns=1;s=MachineState" || st.ValueRank != -1.0 {
				t.Errorf("StateCode %+v: want 4 (running), an Int32 of the MachineState enumeration", st)
			}
			if got.State.Value != "running" || got.State.DataType != "ns=0;i=12" {
				t.Errorf("State %+v", got.State)
			}
			e := got.Enum
			if e.Type != "ns=1;s=MachineState" || !slices.Contains(e.Properties, "EnumStrings") || len(e.EnumStrings) != len(event.States()) || e.EnumStrings[event.Running] != "running" {
				t.Errorf("the enumeration %+v", e)
			}
			if len(e.DataTypeDefinition) != len(event.States()) || e.DataTypeDefinition[event.Down].Name != "down" || e.DataTypeDefinition[event.Down].Value != int(event.Down) {
				t.Errorf("the enumeration's DataTypeDefinition %+v (%s)", e.DataTypeDefinition, e.DataTypeDefinitionStatus)
			}
		})
	}
	// node-opcua refuses a server whose certificate it was not given: its
	// trust in the one above is real
	if why, ok := refused[specs[2]]; !ok || !strings.Contains(why, "BadCertificateUntrusted") {
		t.Errorf("node-opcua and a server it was not told to trust: %q %v", why, ok)
	} else {
		t.Logf("untrusted: %s", why)
	}
}
