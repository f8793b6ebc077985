package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"twin/twin/metrics"
	"twin/viz/feed"
	"twin/viz/scene"
	"twin/viz/web"
)

// webView serves the page, the feed and the scene of build on addr (or a
// free port of its host), and says where. Its server runs on a goroutine
// that shutdown waits for.
type webView struct {
	srv    *http.Server
	feed   *feed.Feed
	log    *slog.Logger
	addr   net.Addr
	url    string // the page, token included
	api    bool   // the records API too, under /api/v1/
	once   sync.Once
	served chan struct{} // closed when Serve has returned
	err    error         // Serve's, unless the server was shut down; read after served
}

// With m (nil: none) it serves /metrics, /healthz and /readyz too, and
// counts the records API's requests.
func startWeb(addr, token string, src feed.Source, api http.Handler, m *metrics.Metrics, log *slog.Logger, stdout io.Writer) (*webView, error) {
	shown := "…"     // a token given is not printed
	if token == "" { // one made up is, or nobody could open the page
		token = randomToken()
		shown = token
	}
	fd := feed.New(src, feed.Options{Token: token, Logger: log})
	l, err := listenFree(addr)
	if err != nil {
		return nil, err
	}
	var h http.Handler = web.Handler(fd, src, token)
	if api != nil || m != nil {
		mux := http.NewServeMux()
		if api != nil {
			if m != nil {
				api = m.Instrument(api)
			}
			mux.Handle("/api/v1/", api) // the web view keeps /api/scene
		}
		if m != nil {
			m.Mount(mux)
			watchFeed(m, fd)
		}
		mux.Handle("/", h)
		h = mux
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	w := &webView{srv: hs, feed: fd, log: log, addr: l.Addr(), url: fmt.Sprintf("http://%s/?token=%s", l.Addr(), token), api: api != nil, served: make(chan struct{})}
	go w.serve(l)
	fmt.Fprintf(stdout, "  web view                http://%s/?token=%s   (feed: ws://%s/ws?token=…)\n", l.Addr(), shown, l.Addr())
	if api != nil {
		fmt.Fprintf(stdout, "  records API             http://%s/api/v1/   (OpenAPI: /api/v1/openapi.json)\n", l.Addr())
	}
	if m != nil {
		fmt.Fprintf(stdout, "  metrics                 http://%s/metrics   (%s; /healthz, /readyz)\n", l.Addr(), m.Access())
	}
	return w, nil
}

// serve runs the server on l until shutdown; an error that stops it
// before is logged (the page is gone: the command says so) and kept.
func (w *webView) serve(l net.Listener) {
	defer close(w.served)
	if err := w.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		w.err = fmt.Errorf("web view on %s: %w", l.Addr(), err)
		w.log.Error("the web view stopped serving", "addr", l.Addr().String(), "err", err)
	}
}

// tokenFlag is the --token of every command that serves the web view.
func tokenFlag(fs *flag.FlagSet) *string {
	return secretFlag(fs, "token", "TWIN_TOKEN", "the web view's access `token` (default: $TWIN_TOKEN, else a random one, printed)")
}

// liveScenes is a source that rebuilds the scene at most every 100 ms.
func liveScenes(build func() *scene.Scene) *feed.Live {
	return feed.NewLive(build, 100*time.Millisecond)
}

// shutdown stops the web view: the feed's clients are disconnected, the
// requests in flight (the records API's) may finish until ctx ends, and
// it returns once the server's goroutine has, with Serve's error if it
// failed. Calling it again does nothing.
func (w *webView) shutdown(ctx context.Context) error {
	var err error
	w.once.Do(func() {
		w.feed.Close() // hijacked connections: the server does not know them
		if err = w.srv.Shutdown(ctx); err != nil {
			err = errors.Join(fmt.Errorf("web view: shutdown: %w", err), w.srv.Close())
		}
		<-w.served
		err = errors.Join(w.err, err)
	})
	return err
}

// close is shutdown with 5 s for the requests in flight; it logs what
// went wrong.
func (w *webView) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.shutdown(ctx); err != nil && !errors.Is(err, w.err) {
		w.log.Warn("web view", "err", err)
	}
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

// openViews opens the web page in a browser and the desktop viewer (the
// twin-view binary at view, if given) on this machine's display; without
// a display it says how to open them.
func openViews(ctx context.Context, view, url string, stdout io.Writer) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintf(stdout, "  (no display here: open the web view above in a browser; on a desktop run\n   twin-view --connect '%s')\n", url)
		return
	}
	if view != "" {
		if _, err := os.Stat(view); err != nil {
			fmt.Fprintf(stdout, "  desktop view            %s is missing (make build-view)\n", view)
		} else {
			cmd := exec.CommandContext(ctx, view, "--connect", url)
			if err := cmd.Start(); err != nil {
				fmt.Fprintf(stdout, "  desktop view            could not start %s: %v\n", view, err)
			} else {
				fmt.Fprintf(stdout, "  desktop view            %s --connect … (pid %d)\n", view, cmd.Process.Pid)
				go cmd.Wait()
			}
		}
	}
	for _, b := range []string{"xdg-open", "sensible-browser", "chromium", "firefox"} {
		if path, err := exec.LookPath(b); err == nil {
			cmd := exec.CommandContext(ctx, path, url)
			if cmd.Start() == nil {
				fmt.Fprintf(stdout, "  web page                opened with %s\n", b)
				go cmd.Wait()
			}
			return
		}
	}
	fmt.Fprintln(stdout, "  web page                no browser found: open the address above")
}
