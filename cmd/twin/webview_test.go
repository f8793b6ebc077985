package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"twin/viz/scene"
)

// TestWebViewShutdown: shutdown lets a request in flight finish, hangs up
// the feed's clients, refuses new connections, and returns once the
// server's goroutine has, without an error.
func TestWebViewShutdown(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	src := liveScenes(func() *scene.Scene { return &scene.Scene{Plant: "p"} })
	wv, err := startWeb("127.0.0.1:0", "tk", nil, src, api, nil, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+wv.addr.String()+"/ws?token=tk", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + wv.addr.String() + "/api/v1/slow")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-entered
	done := make(chan error, 1)
	go func() { done <- wv.shutdown(context.Background()) }()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("the feed's client after shutdown: %v, want hung up", err)
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Errorf("the request in flight got %q, want it finished", got)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if _, err := http.Get("http://" + wv.addr.String() + "/"); err == nil {
		t.Error("the web view still answers after shutdown")
	}
	if err := wv.shutdown(context.Background()); err != nil {
		t.Errorf("a second shutdown: %v", err)
	}
}

// TestWebViewApp: beside the records API the web view serves the floor
// terminal at /app/ (the app's own CSP), and says where.
func TestWebViewApp(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	src := liveScenes(func() *scene.Scene { return &scene.Scene{Plant: "p"} })
	var out strings.Builder
	wv, err := startWeb("127.0.0.1:0", "tk", nil, src, api, nil, slog.New(slog.DiscardHandler), &out)
	if err != nil {
		t.Fatal(err)
	}
	defer wv.close()
	if want := "floor terminal          " + wv.base + "/app/floor"; !strings.Contains(out.String(), want) {
		t.Errorf("the addresses printed:\n%s\nwant %q", out.String(), want)
	}
	for path, want := range map[string]int{"/app/floor": 200, "/app/": 200, "/app/i18n/zh-CN.json": 200, "/app/none.js": 404} {
		resp, err := http.Get(wv.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || want == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: %d (CSP %q), want %d with the app's CSP", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"), want)
		}
	}
}
