package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestValidateWithoutZoneinfo runs the static binary (built as make build
// builds it) in a mount namespace where an empty directory hides
// /usr/share/zoneinfo and Go's own lib/time/zoneinfo.zip, as in a
// container without the zone database: a plant in Europe/Berlin still
// validates, because the binary embeds time/tzdata. It needs unshare(1)
// and the right to make a mount namespace (root); it skips otherwise.
func TestValidateWithoutZoneinfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not installed (util-linux): cannot hide /usr/share/zoneinfo")
	}
	if out, err := exec.Command("unshare", "--mount", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare --mount not allowed here (needs root or user namespaces): %v %s", err, out)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "twin")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	plantFile, err := filepath.Abs("../../testdata/plants/dst.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hide := []string{"/usr/share/zoneinfo", filepath.Join(runtime.GOROOT(), "lib", "time")}
	script := ""
	for _, d := range hide {
		if _, err := os.Stat(d); err == nil {
			script += "mount --bind " + empty + " " + d + " && "
		}
	}
	// the zone files are gone inside (else the test proves nothing) …
	script += "! test -e /usr/share/zoneinfo/Europe/Berlin && ! test -e " + filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip") + " && "
	script += "exec " + bin + " validate " + plantFile
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir} // no ZONEINFO, no TZ
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "dst.yaml: ok") {
		t.Fatalf("twin validate of a Europe/Berlin plant without /usr/share/zoneinfo: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
