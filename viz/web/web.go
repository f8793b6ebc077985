// Package web serves the plant view: the page at / (embedded in the binary,
// no build step), the WebSocket feed at /ws and the current scene as JSON
// at /api/scene, all behind the same token.
package web

import (
	_ "embed"
	"encoding/json"
	"net/http"

	"twin/viz/feed"
)

//go:embed index.html
var page []byte

// Handler serves the page, the feed and the scene.
func Handler(f *feed.Feed, src feed.Source, token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:")
		w.Write(page)
	})
	mux.Handle("GET /ws", f)
	mux.HandleFunc("GET /api/scene", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != token || token == "" {
			http.Error(w, "a token is required", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(src.Scene())
	})
	return mux
}
