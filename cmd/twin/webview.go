package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
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
	"twin/twin/tlsconf"
	"twin/viz/app"
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
	base   string // https://host:port (http:// with --http-only)
	ca     string // the local CA's certificate file ("": none)
	api    bool   // the records API too, under /api/v1/
	once   sync.Once
	served chan struct{} // closed when Serve has returned
	err    error         // Serve's, unless the server was shut down; read after served
}

// startWeb starts a web view on addr. With tc (twin serve, twin demo) it
// serves HTTPS (HTTP/1.1: the feed's WebSocket upgrades need it) with
// HSTS and Secure cookies, and the local CA's certificate at /ca.pem for
// phones to install; without, plain HTTP. With m (nil: none) it serves
// /metrics, /healthz and /readyz too, and counts the records API's
// requests.
func startWeb(addr, token string, tc *webTLS, src feed.Source, api http.Handler, m *metrics.Metrics, log *slog.Logger, stdout io.Writer) (*webView, error) {
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
	if api != nil || m != nil || tc != nil && tc.CAFile != "" {
		mux := http.NewServeMux()
		if api != nil {
			if m != nil {
				api = m.Instrument(api)
			}
			mux.Handle("/api/v1/", api) // the web view keeps /api/scene
			// the people's app on the same API (its session cookie is this origin's)
			ah := app.Handler(func() app.Plant {
				if sc := src.Scene(); sc != nil { // the plant file's, for the sign-in page
					return app.Plant{Locale: sc.Locale, Zone: sc.Zone}
				}
				return app.Plant{}
			})
			mux.Handle("/app/", ah)
			mux.Handle("/app", ah)
		}
		if m != nil {
			m.Mount(mux)
			watchFeed(m, fd)
		}
		if tc != nil && tc.CAFile != "" {
			mux.HandleFunc("GET /ca.pem", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-x509-ca-cert") // phones offer to install it
				http.ServeFile(w, r, tc.CAFile)
			})
		}
		mux.Handle("/", h)
		h = mux
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	scheme, ws := "http", "ws"
	if tc != nil {
		cfg := tc.Config()
		cfg.NextProtos = []string{"http/1.1"}
		l = tls.NewListener(l, cfg)
		hs.Handler = tlsconf.Secure(h)
		// a browser that does not trust the certificate yet: said, not alarming
		hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelInfo)
		scheme, ws = "https", "wss"
	}
	base := fmt.Sprintf("%s://%s", scheme, l.Addr())
	w := &webView{srv: hs, feed: fd, log: log, addr: l.Addr(), base: base, url: fmt.Sprintf("%s/?token=%s", base, token), api: api != nil, served: make(chan struct{})}
	if tc != nil {
		w.ca = tc.CAFile
	}
	go w.serve(l)
	if tc != nil { // before the addresses: whoever reads one has it all
		tc.say(stdout, base)
	}
	fmt.Fprintf(stdout, "  web view                %s/?token=%s   (feed: %s://%s/ws?token=…)\n", base, shown, ws, l.Addr())
	if api != nil {
		fmt.Fprintf(stdout, "  records API             %s/api/v1/   (OpenAPI: /api/v1/openapi.json)\n", base)
		fmt.Fprintf(stdout, "  floor terminal          %s/app/floor   (sign in at %s/app/; phones: README.md \"The floor terminal\")\n", base, base)
	}
	if m != nil {
		fmt.Fprintf(stdout, "  metrics                 %s/metrics   (%s; /healthz, /readyz)\n", base, m.Access())
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
func openViews(ctx context.Context, view string, wv *webView, stdout io.Writer) {
	url, ca := wv.url, ""
	if wv.ca != "" {
		ca = " --ca " + wv.ca
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintf(stdout, "  (no display here: open the web view above in a browser; on a desktop run\n   twin-view --connect '%s'%s)\n", url, ca)
		return
	}
	if view != "" {
		if _, err := os.Stat(view); err != nil {
			fmt.Fprintf(stdout, "  desktop view            %s is missing (make build-view)\n", view)
		} else {
			args := []string{"--connect", url}
			if wv.ca != "" {
				args = append(args, "--ca", wv.ca)
			}
			cmd := exec.CommandContext(ctx, view, args...)
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
