package feed

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoStorage: the WebSocket feed reads history through Recorded and
// links no storage engine: neither twin/store nor Badger is among the
// packages it builds on (go list -deps).
func TestNoStorage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "twin/twin/store" || strings.Contains(p, "badger") {
			t.Errorf("viz/feed builds on %s: it should take its history as an interface (Recorded)", p)
		}
	}
}
