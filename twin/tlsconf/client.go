package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ClientConfig is the TLS configuration of a client of a twin: it trusts
// the CA certificates in caFile (PEM; a twin's own is DATA/tls/ca.pem)
// besides this machine's roots.
func ClientConfig(caFile string) (*tls.Config, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("the CA to trust: %w (a twin keeps its own in DATA/tls/%s, DATA its --data directory)", err, CAName)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("the CA to trust, %s: no PEM certificate in it (want the file a twin keeps as DATA/tls/%s)", caFile, CAName)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// TrustError is a twin's certificate that a client does not trust, with
// what to do about it.
type TrustError struct {
	Server string // the address the client asked
	CA     string // the CA file the client trusted ("" none)
	Err    error
}

func (e *TrustError) Error() string {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	switch {
	case errors.As(e.Err, &ua) && e.CA != "":
		return fmt.Sprintf("the certificate of %s is not signed by the CA in %s (%v): give the CA of that twin's data directory, --ca DATA/tls/%s", e.Server, e.CA, e.Err, CAName)
	case errors.As(e.Err, &ua):
		return fmt.Sprintf("the certificate of %s is not signed by a CA this computer trusts (%v): run with --ca DATA/tls/%s (or export TWIN_CA=DATA/tls/%s), DATA the twin's data directory (make demo's: data/demo); the certificate's SHA-256 is the one the twin printed at its start", e.Server, e.Err, CAName, CAName)
	case errors.As(e.Err, &he):
		return fmt.Sprintf("the certificate of %s does not name the host asked (%v): use one of the names it covers, or start the twin with --tls-host %s", e.Server, e.Err, he.Host)
	case errors.As(e.Err, &ci) && ci.Reason == x509.Expired:
		return fmt.Sprintf("the certificate of %s has ended (%v): a twin renews its own at a start (restart it); a certificate given with --tls-cert needs replacing", e.Server, e.Err)
	}
	return fmt.Sprintf("the certificate of %s is not trusted: %v", e.Server, e.Err)
}

func (e *TrustError) Unwrap() error { return e.Err }

// Explain turns the error of a request to server into what a person can
// do about it when TLS is the cause: a *TrustError for a certificate not
// trusted, a hint for plain HTTP against TLS; other errors as they are.
// ca is the CA file the client trusted ("" none).
func Explain(err error, server, ca string) error {
	if err == nil {
		return nil
	}
	var (
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		cve *tls.CertificateVerificationError
		rh  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci), errors.As(err, &cve):
		return &TrustError{Server: server, CA: ca, Err: err}
	case strings.HasPrefix(server, "https://") && (errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")):
		return fmt.Errorf("%s answers in plain HTTP, not HTTPS (%w): use %s (the twin runs with --http-only)", server, err, "http://"+strings.TrimPrefix(server, "https://"))
	}
	return err
}
