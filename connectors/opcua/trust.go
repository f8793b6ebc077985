package opcua

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// TrustFileName is the trust file's name in a data directory's OPC UA
// folder (DIR/opcua/trusted-servers.txt).
const TrustFileName = "trusted-servers.txt"

// The trust file lists the OPC UA servers a client trusts, a line each:
// an endpoint URL and the fingerprint of a certificate it may present
// (see Fingerprint); "#" starts a comment. An endpoint may have several
// lines (a certificate and its successor).
const trustHeader = `# The OPC UA servers this twin trusts: an endpoint and the SHA-256 fingerprint of the
# certificate it presents, a line each. The twin writes a line the first time it connects
# securely to an endpoint (trust on first use) and refuses any other certificate there
# from then on. Write a line yourself beforehand to pin a certificate; add one when the
# server's certificate is renewed; delete an endpoint's lines to trust it anew.
`

// UntrustedError is a server certificate the trust file does not trust
// for its endpoint.
type UntrustedError struct {
	File, Endpoint string
	Got            string   // the fingerprint the server presented
	Trusted        []string // those the file trusts for the endpoint
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("opcua: %s presents a certificate %s, but %s trusts only %s for it: if the server's certificate was renewed on purpose, add the line %q to %s (or delete the endpoint's lines); otherwise something else answers at that address",
		e.Endpoint, e.Got, e.File, strings.Join(e.Trusted, ", "), e.Endpoint+" "+e.Got, e.File)
}

// parseTrust reads a trust file: the fingerprints trusted per endpoint.
// file names it in errors.
func parseTrust(file string, b []byte) (map[string][]string, error) {
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		s, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(s)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || !validEndpoint(f[0]) || !validFingerprint(f[1]) {
			return nil, fmt.Errorf("%s:%d: want an endpoint and a fingerprint, like \"opc.tcp://plc-gw.local:4840 sha256:<64 hex digits>\", got %q",
				file, line, strings.TrimSpace(strings.ToValidUTF8(s, "?")))
		}
		ep := trustKey(f[0])
		fp := strings.ToLower(f[1])
		if !slices.Contains(out[ep], fp) {
			out[ep] = append(out[ep], fp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// validEndpoint: opc.tcp:// and a host.
func validEndpoint(s string) bool {
	host, ok := strings.CutPrefix(s, "opc.tcp://")
	return ok && strings.Trim(host, "/") != ""
}

func validFingerprint(s string) bool {
	h, ok := strings.CutPrefix(strings.ToLower(s), "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// trustKey is the form of an endpoint the trust file is keyed by.
func trustKey(endpoint string) string { return strings.TrimRight(endpoint, "/") }

// trust checks the certificate (DER) endpoint presents against the trust
// file; an endpoint the file does not name yet is added with it (trust on
// first use). first says whether it was.
func trust(file, endpoint string, der []byte) (first bool, err error) {
	if len(der) == 0 {
		return false, fmt.Errorf("opcua: %s presents no certificate on its secure endpoint", endpoint)
	}
	b, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("opcua: the trust file: %w", err)
	}
	known, err := parseTrust(file, b)
	if err != nil {
		return false, fmt.Errorf("opcua: the trust file %w", err)
	}
	ep, fp := trustKey(endpoint), Fingerprint(der)
	if list, ok := known[ep]; ok {
		if slices.Contains(list, fp) {
			return false, nil
		}
		return false, &UntrustedError{File: file, Endpoint: ep, Got: fp, Trusted: list}
	}
	// one line appended at once: two clients adding theirs at the same
	// time each write a whole line
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return false, fmt.Errorf("opcua: the trust file: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return false, fmt.Errorf("opcua: the trust file: %w", err)
	}
	line := ep + " " + fp + "\n"
	if len(b) == 0 {
		line = trustHeader + line
	} else if b[len(b)-1] != '\n' {
		line = "\n" + line
	}
	_, err = f.WriteString(line)
	if err = errors.Join(err, f.Close()); err != nil {
		return false, fmt.Errorf("opcua: the trust file: %w", err)
	}
	return true, nil
}
