package tlsconf

import (
	"bufio"
	"net"
	"net/http"
	"strings"
)

// HSTS is the Strict-Transport-Security a twin on HTTPS sends: browsers
// that saw it go to the twin over HTTPS only, for a year. No
// includeSubDomains: other machines of the plant's domain are not ours
// to decide for.
const HSTS = "max-age=31536000"

// Secure serves h, and on a request that came over TLS adds what HTTPS
// asks of the response: the HSTS header, and Secure on every cookie h
// sets (whoever sets it), so that a session cookie never goes over plain
// HTTP. A request over plain HTTP passes as it is.
//
// HSTS is left out for localhost: a browser would keep it for every port
// of localhost, where other programs (twin replay --http, a developer's
// servers) speak plain HTTP. Browsers ignore it for IP addresses anyway.
func Secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			h.ServeHTTP(w, r)
			return
		}
		if host := hostOf(r.Host); host != "localhost" && !strings.HasSuffix(host, ".localhost") {
			w.Header().Set("Strict-Transport-Security", HSTS)
		}
		h.ServeHTTP(&secureWriter{ResponseWriter: w}, r)
	})
}

func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return strings.ToLower(strings.TrimSuffix(hostport, "."))
}

// secureWriter marks the cookies of a response Secure as its header is
// written.
type secureWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *secureWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		secureCookies(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *secureWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (w *secureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush flushes what was written, its header first.
func (w *secureWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over (the WebSocket feed: gorilla/websocket
// asks for an http.Hijacker).
func (w *secureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// secureCookies adds Secure to every Set-Cookie of h without it.
func secureCookies(h http.Header) {
	cs := h["Set-Cookie"]
	for i, c := range cs {
		secure := false
		for _, attr := range strings.Split(c, ";")[1:] {
			if strings.EqualFold(strings.TrimSpace(attr), "secure") {
				secure = true
				break
			}
		}
		if !secure {
			cs[i] = c + "; Secure"
		}
	}
}
