// Package web serves the plant view: the page at / with its script and
// style (embedded in the binary, no build step), the WebSocket feed at /ws
// and the current scene as JSON at /api/scene, the feed and the scene
// behind the same token.
//
// The token is sent as "Authorization: Bearer <token>" or, where a
// browser cannot set a header (the page's WebSocket, a scene opened in
// the address bar), as ?token=…; it is compared in constant time. The
// page, its script and its style hold no secret and need none.
package web

import (
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"

	"twin/viz/feed"
)

var (
	//go:embed index.html
	page []byte
	//go:embed view.js
	script []byte
	//go:embed view.css
	style []byte
	// the page's words, one catalogue per locale (flat JSON: key → text
	// with {name} placeholders); i18n_test.go checks they hold the same
	// keys and every key the page uses
	//go:embed i18n/en.json
	wordsEN []byte
	//go:embed i18n/zh-CN.json
	wordsZH []byte
)

// CSP is the page's Content-Security-Policy: its script and style only
// from the twin (no inline script or style), connections only to the
// twin (its WebSocket feed: 'self' covers ws and wss of the page's
// host), never in a frame.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Handler serves the page, the feed and the scene.
func Handler(f *feed.Feed, src feed.Source, token string) http.Handler {
	mux := http.NewServeMux()
	static := func(path, kind string, body []byte) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", kind)
			h.Set("Content-Security-Policy", CSP)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			// the page's address holds the token: send it nowhere
			h.Set("Referrer-Policy", "no-referrer")
			w.Write(body)
		})
	}
	static("/{$}", "text/html; charset=utf-8", page)
	static("/view.js", "text/javascript; charset=utf-8", script)
	static("/view.css", "text/css; charset=utf-8", style)
	static("/i18n/en.json", "application/json; charset=utf-8", wordsEN)
	static("/i18n/zh-CN.json", "application/json; charset=utf-8", wordsZH)
	mux.Handle("GET /ws", f)
	mux.HandleFunc("GET /api/scene", func(w http.ResponseWriter, r *http.Request) {
		if !Authorised(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="twin"`)
			http.Error(w, "a token is required: Authorization: Bearer … (or ?token=… in a browser's address bar)", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(src.Scene())
	})
	return mux
}

// Authorised tells whether r carries token, as "Authorization: Bearer"
// (the scheme in any case) or else as ?token=; an empty token refuses
// every request. The comparison takes the same time wherever the tokens
// differ.
func Authorised(r *http.Request, token string) bool {
	tok := r.URL.Query().Get("token")
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(t)
	}
	return token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(token)) == 1
}
