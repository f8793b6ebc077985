package app

import (
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"twin/viz/web"
)

//go:embed *.html *.css *.js *.webmanifest *.svg i18n/*.json vendor/jsqr/jsQR.js vendor/jsqr/LICENSE
var files embed.FS

// Files are the app's files as served under /app/ (index.html is /app/,
// floor.html /app/floor).
func Files() fs.FS { return files }

// Locales are the locales the app has a catalogue for, the default first.
var Locales = []string{"zh-CN", "en"}

// Handler serves the app under /app/: the pages, their modules, styles
// and catalogues, each with the twin's Content-Security-Policy (no inline
// script or style), nosniff and no framing. Mount it at "/app/".
// Plant is what the sign-in page may know of the plant before anyone has
// signed in: the language its screens open in and its time zone (the
// plant file's locale and zone), at /app/plant.json.
type Plant struct {
	Locale string `json:"locale,omitempty"`
	Zone   string `json:"zone,omitempty"`
}

func Handler(plant func() Plant) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/{$}", func(w http.ResponseWriter, r *http.Request) { serve(w, r, "index.html") })
	mux.HandleFunc("GET /app/floor", func(w http.ResponseWriter, r *http.Request) { serve(w, r, "floor.html") })
	mux.HandleFunc("GET /app/plant.json", func(w http.ResponseWriter, r *http.Request) {
		var p Plant
		if plant != nil {
			p = plant()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		json.NewEncoder(w).Encode(p)
	})
	mux.HandleFunc("GET /app/{file...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if strings.HasSuffix(name, ".html") { // pages by their address only
			http.NotFound(w, r)
			return
		}
		serve(w, r, name)
	})
	mux.HandleFunc("GET /app", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/app/", http.StatusMovedPermanently)
	})
	return mux
}

func serve(w http.ResponseWriter, r *http.Request, name string) {
	b, err := fs.ReadFile(files, name)
	if err != nil || name != path.Clean(name) {
		http.Error(w, "no such file in the app: "+r.URL.Path+" (the terminal is /app/floor)", http.StatusNotFound)
		return
	}
	h := w.Header()
	kind := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		kind = "text/javascript; charset=utf-8"
	case ".json":
		kind = "application/json; charset=utf-8"
	case ".webmanifest":
		kind = "application/manifest+json"
	case "":
		kind = "text/plain; charset=utf-8" // the licence
	}
	h.Set("Content-Type", kind)
	h.Set("Content-Security-Policy", web.CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// the camera for the terminal's scanner, from this origin only
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	// always asked again (the service worker keeps the copy that
	// reopens the terminal offline): a new twin's app arrives at once
	h.Set("Cache-Control", "no-cache")
	w.Write(b)
}
