package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"twin/twin/datadir"
	"twin/twin/tlsconf"
)

// The HTTPS of twin serve and twin demo (twin/tlsconf): its flags, and
// the trust of the commands that call a twin (--ca).

// tlsFlags are the HTTPS flags of a command that serves the records API.
type tlsFlags struct {
	cert, key, hosts *string
	httpOnly         *bool
}

func addTLSFlags(fs *flag.FlagSet) *tlsFlags {
	return &tlsFlags{
		cert: fs.String("tls-cert", "", "HTTPS certificate `file` (PEM, its chain after it), with --tls-key. Default: one made and kept in DIR/"+datadir.TLS+", signed by a local CA there ("+filepath.Join("DIR", datadir.TLS, tlsconf.CAName)+": install it once on phones and browsers)"),
		key:  fs.String("tls-key", "", "the certificate's key `file` (PEM)"),
		hosts: fs.String("tls-host", "", "more `names` and addresses, comma-separated, the made certificate covers beside this machine's host name, LAN addresses, localhost and 127.0.0.1 "+
			"(the name phones use: mes.plant.example)"),
		httpOnly: fs.Bool("http-only", false, "serve plain HTTP, not HTTPS (behind a TLS proxy, or on loopback only: passwords and tokens cross the network in clear)"),
	}
}

// webTLS is the certificate a web view serves with, and the plant's zone
// to say its end in.
type webTLS struct {
	*tlsconf.Server
	loc *time.Location
}

// open is the certificate the flags ask for, for the twin on data; nil
// with --http-only.
func (f *tlsFlags) open(data string, loc *time.Location, log *slog.Logger) (*webTLS, error) {
	if *f.httpOnly {
		if *f.cert != "" || *f.key != "" || *f.hosts != "" {
			return nil, errors.New("--http-only serves no HTTPS: drop it, or drop --tls-cert, --tls-key and --tls-host")
		}
		return nil, nil
	}
	o := tlsconf.DefaultOptions()
	o.CertFile, o.KeyFile, o.Logger = *f.cert, *f.key, log
	o.Dir = filepath.Join(data, datadir.TLS)
	for h := range strings.SplitSeq(*f.hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			o.Hosts = append(o.Hosts, h)
		}
	}
	s, err := tlsconf.Open(o)
	if err != nil {
		return nil, fmt.Errorf("HTTPS: %w (or serve plain HTTP with --http-only)", err)
	}
	return &webTLS{Server: s, loc: loc}, nil
}

// say prints the certificate's fingerprint, what it covers and where its
// CA is, for the web view at base (https://host:port).
func (w *webTLS) say(stdout io.Writer, base string) {
	how := "given"
	switch {
	case w.Made == "new":
		how = "made now"
	case w.Made != "":
		how = w.Made
	case w.CAFile != "":
		how = "kept from the last start"
	}
	loc := w.loc
	if loc == nil {
		loc = time.Local
	}
	fmt.Fprintf(stdout, "  HTTPS certificate       SHA-256 %s\n", w.Fingerprint())
	fmt.Fprintf(stdout, "                          %s, for %s; until %s (%s)\n", how, strings.Join(w.Names(), ", "), w.Leaf().NotAfter.In(loc).Format("2006-01-02"), loc)
	if w.CAFile != "" {
		abs, err := filepath.Abs(w.CAFile)
		if err != nil {
			abs = w.CAFile
		}
		fmt.Fprintf(stdout, "  local CA                %s (also %s/ca.pem): install it once on phones and browsers; the CLI trusts it with --ca %s or $TWIN_CA\n", abs, base, w.CAFile)
	}
}

// caFlag is the --ca of the commands that call a twin.
func caFlag(fs *flag.FlagSet) *string {
	return fs.String("ca", os.Getenv("TWIN_CA"), "trust the twin's certificate through this CA `file` (default $TWIN_CA; a twin's own: DATA/"+datadir.TLS+"/"+tlsconf.CAName+"); with --data DIR given, DIR's")
}

// caOf is the CA file a command trusts: --ca given, else that of the
// data directory given with --data (if it has one), else $TWIN_CA.
func caOf(fs *flag.FlagSet, ca string) string {
	if flagSet(fs, "ca") {
		return ca
	}
	if d := fs.Lookup("data"); d != nil && flagSet(fs, "data") {
		f := filepath.Join(d.Value.String(), datadir.TLS, tlsconf.CAName)
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ca
}
