package mqtt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"twin/connectors/mqtt/mqtttest"
	"twin/plant"
	"twin/plant/event"
)

// pki writes a CA and a server certificate for 127.0.0.1 into dir.
func pki(t *testing.T, dir string) (ca, cert, key string) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "twin test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvT, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(srvKey)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return
}

// TestTLSAndCredentials: mosquitto with TLS and a password file; the
// client verifies the broker against the CA and logs in with a password
// read from the environment; a wrong password is refused.
func TestTLSAndCredentials(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := pki(t, dir)
	pw := filepath.Join(dir, "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-c", "-b", pw, "twin", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	b := mqtttest.Start(t, mqtttest.Options{Dir: dir, Config: fmt.Sprintf("allow_anonymous false\npassword_file %s\ncafile %s\ncertfile %s\nkeyfile %s\n", pw, ca, cert, key)})
	url := "ssl://127.0.0.1:" + strconv.Itoa(b.Port)
	t.Setenv("TWIN_TEST_MQTT_PASSWORD", "s3cret")
	topic := "qijiang/stator/W1/good"
	cfg := plant.MQTTBroker{URL: url, ClientID: "twin-tls", User: "twin", Password: "$TWIN_TEST_MQTT_PASSWORD", CA: ca,
		Topics: []plant.TopicTag{{Topic: topic, Asset: w1, Signal: plant.SignalGood}}}
	sink := &collect{}
	c, err := New(cfg, sink, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, c)
	out, err := exec.Command("mosquitto_pub", "-h", "127.0.0.1", "-p", strconv.Itoa(b.Port), "--cafile", ca, "-u", "twin", "-P", "s3cret", "-q", "1", "-t", topic, "-m", "7").CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub over TLS: %v %s", err, out)
	}
	waitFor(t, "a message over TLS", 5*time.Second, func() bool { e, ok := sink.last(w1, event.Counter); return ok && e.Value == 7 })

	// a wrong password: the client never connects
	bad := cfg
	bad.ClientID, bad.Password = "twin-tls-bad", "wrong"
	c2, err := New(bad, &collect{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := c2.c.Connect()
	tok.WaitTimeout(2 * time.Second)
	if c2.c.IsConnectionOpen() {
		t.Error("connected with a wrong password")
	}
	c2.c.Disconnect(10)
	tok.Wait() // paho's connect loop ends at its next retry: nothing outlives the test (goleak)
}
