package metrics

import (
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// LoginRoute and SessionRoute are the route patterns of the records
// API's sign-ins (a token, a browser session): their 401 and 429 answers
// count in twin_signin_failures_total.
const (
	LoginRoute   = "POST /api/v1/login"
	SessionRoute = "POST /api/v1/session"
)

// Mount serves /metrics, /healthz and /readyz on mux.
func (m *Metrics) Mount(mux *http.ServeMux) {
	mux.Handle("GET /metrics", m.MetricsHandler())
	mux.Handle("GET /healthz", m.Healthz())
	mux.Handle("GET /readyz", m.Readyz())
}

// MetricsHandler serves the metrics in the Prometheus text format (or
// what the scraper asks for) to an allowed peer: a loopback one, or,
// with Options.Token set, one that sends it as a bearer token.
func (m *Metrics) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.allowed(w, r, true) {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// allowed says whether r may read the metrics (or the details of
// readiness); if not and refuse is set, it answers the refusal.
func (m *Metrics) allowed(w http.ResponseWriter, r *http.Request, refuse bool) bool {
	if len(m.token) > 0 {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), m.token) == 1 {
			return true
		}
		if refuse {
			w.Header().Set("WWW-Authenticate", `Bearer realm="twin metrics"`)
			http.Error(w, "the metrics need the token twin was started with (--metrics-token): send Authorization: Bearer TOKEN", http.StatusUnauthorized)
		}
		return false
	}
	if Loopback(r) {
		return true
	}
	if refuse {
		http.Error(w, "the metrics answer only on this computer (a loopback address); to scrape them from elsewhere, start twin with --metrics-token and send it as Authorization: Bearer TOKEN", http.StatusForbidden)
	}
	return false
}

// Loopback says whether r comes from a loopback address of this computer
// and not through a proxy: a request with Forwarded, X-Forwarded-For or
// X-Real-IP was forwarded for someone else (a proxy on the same host
// makes every peer look local).
func Loopback(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Healthz answers 200 "ok" while the process answers at all (liveness).
func (m *Metrics) Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
}

// Readiness is the answer of /readyz.
type Readiness struct {
	Ready bool `json:"ready"`
	// NotReady names each condition that does not hold and why
	// ("mqtt tcp://10.0.0.5:1883": "not connected"); left out for a
	// peer that may not read the metrics.
	NotReady map[string]string `json:"not_ready,omitempty"`
	// Checks are the conditions checked, for a peer that may read the
	// metrics.
	Checks []string `json:"checks,omitempty"`
}

// Ready checks every condition of readiness: each connector connected
// and subscribed, then the Checks of the sources.
func (m *Metrics) Ready() Readiness {
	s := m.sources()
	rd := Readiness{Ready: true, NotReady: map[string]string{}}
	not := func(name, why string) {
		rd.Checks = append(rd.Checks, name)
		if why != "" {
			rd.Ready = false
			rd.NotReady[name] = why
		}
	}
	for _, k := range s.Connectors {
		st := k.Stats()
		why := ""
		switch {
		case !st.Connected:
			why = "not connected"
		case !st.Subscribed:
			why = "connected, its subscriptions not confirmed yet"
		}
		not(k.Kind+" "+k.Name, why)
	}
	for _, c := range s.Checks {
		not(c.Name, c.NotReady())
	}
	return rd
}

// Readyz answers 200 when every condition of readiness holds, else 503,
// with a JSON Readiness; the names of the conditions only to a peer that
// may read the metrics.
func (m *Metrics) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd := m.Ready()
		if !m.allowed(w, r, false) {
			rd = Readiness{Ready: rd.Ready}
		}
		code := http.StatusOK
		if !rd.Ready {
			code = http.StatusServiceUnavailable
		}
		b, _ := json.Marshal(rd)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		w.Write(append(b, '\n'))
	})
}

// Instrument counts the requests h answers by route pattern and status,
// and their durations by route pattern. The pattern is the one the
// ServeMux inside h matched (http.Request.Pattern, which a ServeMux sets
// on the request it is handed), so the raw path, with its ids, never
// becomes a label; a request no pattern matched counts as "unmatched".
// The sign-in routes' 401 and 429 count in twin_signin_failures_total.
func (m *Metrics) Instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(t0).Seconds())
		if route == LoginRoute || route == SessionRoute {
			switch sw.code {
			case http.StatusUnauthorized:
				m.signIn.WithLabelValues("bad_credentials").Inc()
			case http.StatusTooManyRequests:
				m.signIn.WithLabelValues("throttled").Inc()
			}
		}
	})
}

// statusWriter keeps the status code a handler answers with.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Access says who may read /metrics, for the line a command prints
// (never the token itself).
func (m *Metrics) Access() string {
	if len(m.token) > 0 {
		return "with the bearer token of --metrics-token"
	}
	return "from this computer only: --metrics-token to scrape from elsewhere"
}
