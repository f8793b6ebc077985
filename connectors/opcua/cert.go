package opcua

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// certLifetime is how long a certificate CreateCertificate makes is valid.
const certLifetime = 5 * 365 * 24 * time.Hour

// CreateCertificate makes a self-signed application instance certificate
// for the application appURI ("urn:twin:virtual-plant") reached at hosts
// (names or IP addresses; localhost and 127.0.0.1 are always added), as
// OPC UA Part 6 asks: an RSA 2048 key, the URI in the subject alternative
// name, key usages for signing and encryption. It returns the certificate
// (DER) and the key.
func CreateCertificate(appURI string, hosts ...string) ([]byte, *rsa.PrivateKey, error) {
	u, err := url.Parse(appURI)
	if err != nil || u.Scheme == "" {
		return nil, nil, fmt.Errorf("opcua: application URI %q: want a URI like urn:twin:virtual-plant", appURI)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: make a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: appURI, Organization: []string{"twin"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(certLifetime),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment |
			x509.KeyUsageDataEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{u},
	}
	seen := map[string]bool{}
	for _, h := range append([]string{"localhost", "127.0.0.1"}, hosts...) {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: make a certificate: %w", err)
	}
	return der, key, nil
}

// LoadCertificate reads a certificate (PEM or DER) and its RSA key (PEM:
// PKCS #1 or PKCS #8, or DER) and checks that they belong together.
func LoadCertificate(certFile, keyFile string) ([]byte, *rsa.PrivateKey, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: certificate: %w", err)
	}
	if b, _ := pem.Decode(cb); b != nil {
		if b.Type != "CERTIFICATE" {
			return nil, nil, fmt.Errorf("opcua: %s holds a %s: want a CERTIFICATE (PEM) or a DER certificate", certFile, b.Type)
		}
		cb = b.Bytes
	}
	cert, err := x509.ParseCertificate(cb)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: %s: not an X.509 certificate (PEM or DER): %w", certFile, err)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("opcua: key: %w", err)
	}
	if b, _ := pem.Decode(kb); b != nil {
		kb = b.Bytes
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(kb); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(kb); err == nil {
		var ok bool
		if key, ok = k.(*rsa.PrivateKey); !ok {
			return nil, nil, fmt.Errorf("opcua: key %s is %T: OPC UA's security policies need an RSA key", keyFile, k)
		}
	} else {
		return nil, nil, fmt.Errorf("opcua: %s: not an RSA private key (PEM or DER, PKCS #1 or #8)", keyFile)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, fmt.Errorf("opcua: key %s does not belong to certificate %s", keyFile, certFile)
	}
	return cb, key, nil
}

// LoadOrCreateCertificate reads the certificate and key in certFile and
// keyFile (see LoadCertificate), or, when neither exists, makes them (see
// CreateCertificate) and writes them there as PEM, the key readable by its
// owner only. created says which.
func LoadOrCreateCertificate(certFile, keyFile, appURI string, hosts ...string) (der []byte, key *rsa.PrivateKey, created bool, err error) {
	_, errC := os.Stat(certFile)
	_, errK := os.Stat(keyFile)
	if !errors.Is(errC, fs.ErrNotExist) || !errors.Is(errK, fs.ErrNotExist) {
		der, key, err = LoadCertificate(certFile, keyFile)
		return der, key, false, err
	}
	if der, key, err = CreateCertificate(appURI, hosts...); err != nil {
		return nil, nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o755); err != nil {
		return nil, nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return nil, nil, false, err
	}
	// the key first: a certificate without its key would be refused next time
	if err := writeNew(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return nil, nil, false, err
	}
	if err := writeNew(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, false, err
	}
	return der, key, true, nil
}

// writeNew writes a file that must not exist yet (two processes making
// the same certificate at once: one of them fails, and says so).
func writeNew(name string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("opcua: write %s: %w", name, err)
	}
	_, err = f.Write(b)
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(name)
		return fmt.Errorf("opcua: write %s: %w", name, err)
	}
	return nil
}

// Fingerprint is the SHA-256 of a certificate (DER), as the trust file
// writes it: "sha256:" and 64 hex digits.
func Fingerprint(der []byte) string {
	h := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(h[:])
}
