package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"twin/viz/feed"
	"twin/viz/scene"
	"twin/viz/web"
)

// webView serves the page, the feed and the scene of build on addr (or a
// free port of its host), and says where.
type webView struct {
	srv  *http.Server
	feed *feed.Feed
	addr net.Addr
}

func startWeb(addr, token string, build func() *scene.Scene, log *slog.Logger, stdout io.Writer) (*webView, error) {
	if token == "" {
		token = randomToken()
	}
	live := feed.NewLive(build, 100*time.Millisecond)
	fd := feed.New(live, feed.Options{Token: token, Logger: log})
	l, err := listenFree(addr)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: web.Handler(fd, live, token), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(l)
	fmt.Fprintf(stdout, "  web view                http://%s/?token=%s   (feed: ws://%s/ws?token=…)\n", l.Addr(), token, l.Addr())
	return &webView{srv: hs, feed: fd, addr: l.Addr()}, nil
}

func (w *webView) close() {
	w.feed.Close()
	w.srv.Close()
}

// listenFree listens on addr, or on a free port of its host when addr's is
// taken.
func listenFree(addr string) (net.Listener, error) {
	if l, err := net.Listen("tcp", addr); err == nil {
		return l, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return net.Listen("tcp", net.JoinHostPort(host, "0"))
}

func randomToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
