// Package e2e drives the plant view in headless Chromium for tests: it
// runs e2e.js (node, npm playwright-core, Debian's /usr/bin/chromium) and
// talks to it a command per line.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Page is the page open in Chromium.
type Page struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *strings.Builder
	// Stations is how many stations the page drew, each in its state's colour.
	Stations int
}

// Dir is this package's directory (where e2e.js and node_modules are).
func Dir() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Dir(f)
}

// Open loads url and waits until every station is drawn.
func Open(t testing.TB, url string) *Page {
	t.Helper()
	for _, need := range []string{"/usr/bin/chromium", filepath.Join(Dir(), "node_modules/playwright-core")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run make deps (apt chromium, npm ci in viz/web/e2e)", need)
		}
	}
	p := &Page{t: t, stderr: &strings.Builder{}}
	p.cmd = exec.Command("node", "e2e.js", url)
	p.cmd.Dir = Dir()
	// the browser in UTC, so that a page showing the browser's clock
	// instead of the plant's (Asia/Shanghai, …) is caught
	p.cmd.Env = append(os.Environ(), "TZ=UTC")
	p.in, _ = p.cmd.StdinPipe()
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewScanner(stdout)
	if !p.out.Scan() || !strings.HasPrefix(p.out.Text(), "READY ") {
		p.cmd.Wait()
		t.Fatalf("page not ready: %q\n%s", p.out.Text(), p.stderr.String())
	}
	fmt.Sscan(strings.TrimPrefix(p.out.Text(), "READY "), &p.Stations)
	t.Cleanup(p.Close)
	return p
}

// Do sends a command (see e2e.js) and returns the fields after "OK".
func (p *Page) Do(format string, args ...any) []string {
	p.t.Helper()
	fmt.Fprintf(p.in, format+"\n", args...)
	if !p.out.Scan() || !strings.HasPrefix(p.out.Text(), "OK") {
		p.cmd.Wait()
		p.t.Fatalf("%s: %q\n%s", fmt.Sprintf(format, args...), p.out.Text(), p.stderr.String())
	}
	return strings.Fields(p.out.Text())[1:]
}

// Text returns the text of the element the CSS selector names (the first).
func (p *Page) Text(selector string) string {
	p.t.Helper()
	fmt.Fprintf(p.in, "text %s\n", selector)
	if !p.out.Scan() || !strings.HasPrefix(p.out.Text(), "OK ") {
		p.cmd.Wait()
		p.t.Fatalf("text %s: %q\n%s", selector, p.out.Text(), p.stderr.String())
	}
	var s string
	if err := json.Unmarshal([]byte(strings.TrimPrefix(p.out.Text(), "OK ")), &s); err != nil {
		p.t.Fatalf("text %s: %q: %v", selector, p.out.Text(), err)
	}
	return s
}

// Close quits the browser.
func (p *Page) Close() {
	if p.cmd.ProcessState != nil {
		return
	}
	fmt.Fprintln(p.in, "quit")
	p.in.Close()
	p.cmd.Wait()
}
