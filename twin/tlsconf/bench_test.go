package tlsconf

import (
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkGenerate is the start-up cost of the first start: a CA and a
// server certificate made and kept.
func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Open(Options{Dir: filepath.Join(dir, strconv.Itoa(i))}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReopen is the cost of every later start: the kept ones read
// and checked.
func BenchmarkReopen(b *testing.B) {
	dir := b.TempDir()
	if _, err := Open(Options{Dir: dir}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Open(Options{Dir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshake is a full TLS handshake (no resumption) of a client
// trusting the CA, over loopback TCP.
func BenchmarkHandshake(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	addr := serve(b, s)
	cfg, err := ClientConfig(s.CAFile)
	if err != nil {
		b.Fatal(err)
	}
	cfg.ClientSessionCache = nil
	for b.Loop() {
		if _, err := handshake(b, addr, "localhost", cfg); err != nil {
			b.Fatal(err)
		}
	}
}
