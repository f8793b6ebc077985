package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log the server writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInternalErrorNotEchoed: a request that meets an internal error (the
// records closed under the server) gets a 500 that names a request id and
// nothing of the error; the log has the error under that id.
func TestInternalErrorNotEchoed(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.close()
	var logs lockedBuffer
	r.logger = slog.New(slog.NewTextHandler(&logs, nil))
	r.open()
	r.db.Close() // every read of the records now fails inside
	req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1/orders", nil)
	req.Header.Set("Authorization", "Bearer "+r.tok["planner"])
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e apiError
	json.Unmarshal(b, &e)
	if resp.StatusCode != 500 || len(e.RequestID) != 16 || resp.Header.Get("X-Request-Id") != e.RequestID {
		t.Fatalf("status %d, X-Request-Id %q, body %s: want 500 naming a request id", resp.StatusCode, resp.Header.Get("X-Request-Id"), b)
	}
	if want := "internal error (the twin's log has it under request_id " + e.RequestID + ")"; e.Error != want {
		t.Fatalf("the 500 says %q, want only %q", e.Error, want)
	}
	line := ""
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, "request_id="+e.RequestID) {
			line = l
		}
	}
	if !strings.Contains(line, "err=") || strings.Contains(line, "err=\"\"") {
		t.Fatalf("the log has no error under request_id %s:\n%s", e.RequestID, logs.String())
	}
}
