package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"twin/plant"
	"twin/viz/feed"
	"twin/viz/scene"
)

// TestPageHeaders: the page, its script and its style carry a CSP
// without inline script or style, with frame-ancestors 'none' and
// connections to the twin only; the page has no inline script, style or
// handler left for it to block.
func TestPageHeaders(t *testing.T) {
	srv := newServer(t)
	for _, c := range []struct{ path, kind string }{{"/", "text/html"}, {"/view.js", "text/javascript"}, {"/view.css", "text/css"}} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.kind) || len(b) == 0 {
			t.Fatalf("%s: %d %q, %d bytes", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
		}
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp+";", want+";") {
				t.Errorf("%s: the CSP %q lacks %q", c.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") || strings.Contains(csp, "ws:") || strings.Contains(csp, "*") {
			t.Errorf("%s: the CSP %q allows inline code or other hosts", c.path, csp)
		}
		if c.path == "/" {
			html := string(b)
			if m := regexp.MustCompile(`<script(\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=`).FindString(html); m != "" {
				t.Errorf("the page has inline code the CSP refuses: %q", m)
			}
		}
	}
}

// TestSceneToken: /api/scene takes the token as a bearer (any case of
// the scheme) or, for a browser's address bar, as ?token=; a wrong or
// missing one is 401.
func TestSceneToken(t *testing.T) {
	srv := newServer(t)
	for _, c := range []struct {
		name, query, auth string
		want              int
	}{
		{"bearer", "", "Bearer t0k", 200},
		{"bearer in lower case", "", "bearer t0k", 200},
		{"query", "?token=t0k", "", 200},
		{"wrong bearer", "?token=t0k", "Bearer t0j", 401},
		{"wrong query", "?token=t0", "", 401},
		{"none", "", "", 401},
		{"another scheme", "", "Basic t0k", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/api/scene"+c.query, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := &plantState{l: scene.NewLayout(p)}
	live := feed.NewLive(ps.Scene, 0)
	f := feed.New(live, feed.Options{Token: "t0k"})
	srv := httptest.NewServer(Handler(f, live, "t0k"))
	t.Cleanup(func() { srv.Close(); f.Close() })
	return srv
}
