package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The files of the generated certificate, in Options.Dir.
const (
	CAName     = "ca.pem"     // the local CA's certificate: what phones install
	CAKeyName  = "ca.key"     // its private key (0600)
	CertName   = "server.pem" // the server certificate, then the CA's
	ServerKey  = "server.key" // its private key (0600)
	renewEvery = time.Minute  // a failed renewal is tried again after this
)

// Options say which certificate a twin serves with. The zero value is
// not usable: give CertFile and KeyFile, or Dir.
type Options struct {
	// CertFile and KeyFile are a certificate (PEM, the chain after it)
	// and its key given by the plant: served as they are, nothing made.
	CertFile, KeyFile string
	// Dir keeps the generated CA and server certificate (a twin's is
	// DATA/tls, twin/datadir), made when missing.
	Dir string
	// Hosts are more names and addresses the generated certificate
	// covers, beside the host name, the LAN addresses and localhost.
	Hosts []string
	// Validity is the generated server certificate's lifetime (0: 397
	// days, what browsers accept of a server certificate).
	Validity time.Duration
	// CAValidity is the local CA's (0: 10 years).
	CAValidity time.Duration
	// Renew makes a generated certificate anew this long before it ends
	// (0: 30 days), at a start or while serving.
	Renew time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger says when a certificate is made while serving (nil: nothing).
	Logger *slog.Logger
}

// DefaultOptions fill every field but the files and Dir.
func DefaultOptions() Options {
	return Options{Validity: 397 * 24 * time.Hour, CAValidity: 10 * 365 * 24 * time.Hour, Renew: 30 * 24 * time.Hour, Now: time.Now}
}

func (o *Options) fill() {
	d := DefaultOptions()
	if o.Validity <= 0 {
		o.Validity = d.Validity
	}
	if o.CAValidity <= 0 {
		o.CAValidity = d.CAValidity
	}
	if o.Renew <= 0 {
		o.Renew = d.Renew
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server is the certificate a twin serves with. Its Config is safe for
// concurrent handshakes; a generated certificate is made anew while
// serving when it nears its end.
type Server struct {
	// CAFile is the local CA's certificate ("" with a given certificate).
	CAFile string
	// CertFile is the certificate served.
	CertFile string
	// Made says why the certificate was made at Open ("" when it was
	// given or kept from an earlier start): "new", or why it was renewed.
	Made string

	opts Options
	ca   *authority // nil with a given certificate

	mu    sync.Mutex
	cert  *tls.Certificate
	leaf  *x509.Certificate
	retry time.Time // no renewal attempt before
}

// authority is the local CA.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

// Open loads the certificate of o.CertFile and o.KeyFile, or the one
// kept in o.Dir, making the CA and the certificate there when missing
// and the certificate anew when it is near its end or does not name the
// machine and o.Hosts.
func Open(o Options) (*Server, error) {
	o.fill()
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("give the certificate and its key together (--tls-cert FILE --tls-key FILE), or neither to have one made in the data directory")
	}
	s := &Server{opts: o}
	if o.CertFile != "" {
		c, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("the certificate %s and key %s: %w (want PEM files: the certificate, then its chain; the key unencrypted)", o.CertFile, o.KeyFile, err)
		}
		if now := o.Now(); now.After(c.Leaf.NotAfter) {
			return nil, fmt.Errorf("the certificate %s ended on %s: give a current one (or neither --tls-cert nor --tls-key, to have one made)", o.CertFile, c.Leaf.NotAfter.Format(time.DateOnly))
		}
		s.CertFile, s.cert, s.leaf = o.CertFile, &c, c.Leaf
		return s, nil
	}
	if o.Dir == "" {
		return nil, errors.New("tlsconf: no certificate given and no directory to keep one")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("the certificate's directory: %w", err)
	}
	s.CAFile, s.CertFile = filepath.Join(o.Dir, CAName), filepath.Join(o.Dir, CertName)
	ca, made, err := loadCA(o)
	if err != nil {
		return nil, err
	}
	s.ca = ca
	why := made
	if why == "" {
		s.cert, s.leaf, why = s.load()
	}
	if why != "" {
		if err := s.make(); err != nil {
			return nil, err
		}
		s.Made = why
	}
	return s, nil
}

// Config is the TLS configuration to serve with: TLS 1.2 at least, Go's
// default cipher suites, the certificate (renewed while serving).
func (s *Server) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certificate}
}

// Leaf is the certificate served now.
func (s *Server) Leaf() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaf
}

// Fingerprint is the SHA-256 of the certificate served now, as browsers
// show it (hex pairs and colons).
func (s *Server) Fingerprint() string { return Fingerprint(s.Leaf()) }

// Fingerprint is the SHA-256 of c, as browsers show it.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// Names are the host names and addresses the certificate served now
// covers.
func (s *Server) Names() []string {
	l := s.Leaf()
	names := slices.Clone(l.DNSNames)
	for _, ip := range l.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// certificate is Config's GetCertificate: the certificate, made anew
// first when it is generated and near its end.
func (s *Server) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if s.ca == nil || now.Before(s.leaf.NotAfter.Add(-s.opts.Renew)) || now.Before(s.retry) {
		return s.cert, nil
	}
	if err := s.makeLocked(); err != nil {
		// the old one serves until its end; try again in a while
		s.retry = now.Add(renewEvery)
		s.opts.Logger.Warn("renewing the server certificate failed", "file", s.CertFile, "ends", s.leaf.NotAfter, "err", err)
		return s.cert, nil
	}
	s.opts.Logger.Info("renewed the server certificate", "file", s.CertFile, "sha256", Fingerprint(s.leaf), "ends", s.leaf.NotAfter)
	return s.cert, nil
}

// load reads the kept server certificate; why says why it cannot be
// used ("" when it can).
func (s *Server) load() (*tls.Certificate, *x509.Certificate, string) {
	c, err := tls.LoadX509KeyPair(s.CertFile, filepath.Join(s.opts.Dir, ServerKey))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, "new"
	}
	if err != nil {
		return nil, nil, fmt.Sprintf("renewed: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	now := s.opts.Now()
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now}); err != nil {
		return nil, nil, "renewed: not signed by the CA in " + s.CAFile
	}
	if !now.Before(c.Leaf.NotAfter.Add(-s.opts.Renew)) {
		return nil, nil, "renewed: it ends on " + c.Leaf.NotAfter.Format(time.DateOnly)
	}
	dns, ips := names(s.opts.Hosts)
	for _, n := range dns {
		if !slices.Contains(c.Leaf.DNSNames, n) {
			return nil, nil, "renewed: it does not name " + n
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.Leaf.IPAddresses, ip.Equal) {
			return nil, nil, "renewed: it does not name " + ip.String()
		}
	}
	return &c, c.Leaf, ""
}

func (s *Server) make() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.makeLocked()
}

// makeLocked makes a server certificate signed by the CA, for the
// machine's names and the options' hosts, keeps it and serves it.
func (s *Server) makeLocked() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	dns, ips := names(s.opts.Hosts)
	host, _ := os.Hostname()
	end := now.Add(s.opts.Validity)
	if end.After(s.ca.cert.NotAfter) {
		end = s.ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: or(host, "twin"), Organization: []string{"twin"}},
		NotBefore:    now.Add(-time.Hour), // a phone's clock a little behind
		NotAfter:     end,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca.cert, key.Public(), s.ca.key)
	if err != nil {
		return fmt.Errorf("make the server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	keyPEM, err := keyPEM(key)
	if err != nil {
		return err
	}
	certPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), s.ca.pem...)
	if err := write(filepath.Join(s.opts.Dir, ServerKey), keyPEM, 0o600); err != nil {
		return err
	}
	if err := write(s.CertFile, certPEM, 0o644); err != nil {
		return err
	}
	s.cert = &tls.Certificate{Certificate: [][]byte{der, s.ca.cert.Raw}, PrivateKey: key, Leaf: leaf}
	s.leaf = leaf
	return nil
}

// loadCA reads the CA kept in o.Dir, or makes one (made says why: "new",
// or why the kept one was replaced).
func loadCA(o Options) (ca *authority, made string, err error) {
	certFile, keyFile := filepath.Join(o.Dir, CAName), filepath.Join(o.Dir, CAKeyName)
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	switch {
	case err == nil && c.Leaf.IsCA && o.Now().Before(c.Leaf.NotAfter.Add(-o.Renew)):
		if fi, err := os.Stat(keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(keyFile, 0o600); err != nil {
				return nil, "", fmt.Errorf("%s is readable by others (%v) and cannot be made private: %w", keyFile, fi.Mode().Perm(), err)
			}
		}
		b, err := os.ReadFile(certFile)
		if err != nil {
			return nil, "", err
		}
		signer, ok := c.PrivateKey.(crypto.Signer)
		if !ok {
			return nil, "", fmt.Errorf("%s: not a signing key", keyFile)
		}
		return &authority{cert: c.Leaf, key: signer, pem: firstPEM(b)}, "", nil
	case err == nil && c.Leaf.IsCA:
		made = "new CA: the one in " + certFile + " ends on " + c.Leaf.NotAfter.Format(time.DateOnly) + " (install the new one on phones and browsers)"
	case err == nil:
		return nil, "", fmt.Errorf("%s is not a CA certificate: remove %s to have a new CA made (phones and browsers then install it again)", certFile, o.Dir)
	case errors.Is(err, fs.ErrNotExist):
		_, e1 := os.Stat(certFile)
		_, e2 := os.Stat(keyFile)
		if e1 == nil || e2 == nil { // one without the other
			return nil, "", fmt.Errorf("the local CA in %s is incomplete (%v): restore %s and %s from a backup, or remove %s to have a new CA made (phones and browsers then install it again)", o.Dir, err, CAName, CAKeyName, o.Dir)
		}
		made = "new"
	default:
		return nil, "", fmt.Errorf("the local CA in %s: %w: restore it from a backup, or remove %s to have a new one made (phones and browsers then install it again)", o.Dir, err, o.Dir)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	now := o.Now()
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "twin local CA " + or(host, "") + " " + now.UTC().Format("2006-01-02"), Organization: []string{"twin"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(o.CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, "", fmt.Errorf("make the local CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", err
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, "", err
	}
	cp := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := write(keyFile, kp, 0o600); err != nil {
		return nil, "", err
	}
	if err := write(certFile, cp, 0o644); err != nil {
		return nil, "", err
	}
	return &authority{cert: cert, key: key, pem: cp}, made, nil
}

// names are the names and addresses a generated certificate covers: the
// host name (and NAME.local, for mDNS), localhost, the loopback and LAN
// addresses of this machine's interfaces (IPv4, and IPv6 unique local
// ones: global IPv6 addresses rotate, and would make a new certificate
// at every start; --tls-host names one), then hosts.
func names(hosts []string) (dns []string, ips []net.IP) {
	addDNS := func(n string) {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n != "" && !slices.Contains(dns, n) {
			dns = append(dns, n)
		}
	}
	addIP := func(ip net.IP) {
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		addDNS(h)
		if !strings.Contains(h, ".") {
			addDNS(h + ".local")
		}
	}
	addDNS("localhost")
	addIP(net.IPv4(127, 0, 0, 1))
	addIP(net.IPv6loopback)
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			// link-local addresses change and need a zone: no name for them
			if ok && lan(n.IP) {
				addIP(n.IP)
			}
		}
	}
	for _, h := range hosts {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
			addIP(ip)
		} else {
			addDNS(h)
		}
	}
	for i, ip := range ips { // the 4-byte form, as x509 writes it
		if v4 := ip.To4(); v4 != nil {
			ips[i] = v4
		}
	}
	return dns, ips
}

// lan says whether ip is a LAN address a certificate names.
func lan(ip net.IP) bool {
	// link-local addresses change and need a zone: no name for them
	if ip.IsLoopback() || ip.IsLinkLocalUnicast() || !ip.IsGlobalUnicast() {
		return false
	}
	return ip.To4() != nil || ip.IsPrivate()
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// firstPEM is the first PEM block of b, re-encoded.
func firstPEM(b []byte) []byte {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil
	}
	return pem.EncodeToMemory(blk)
}

// write replaces file with b, with permission perm, through a file
// renamed over it: a stop midway leaves the old one or the new one.
func write(file string, b []byte, perm os.FileMode) error {
	tmp := file + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("keep %s: %w", file, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keep %s: %w", file, err)
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
