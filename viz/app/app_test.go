package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"twin/twin/mes"
	"twin/viz/web"
)

// TestHandler serves every file of the app with the twin's
// Content-Security-Policy, nosniff and no framing, the pages at their
// addresses only.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler(func() Plant { return Plant{Locale: "zh-CN", Zone: "Asia/Shanghai"} }))
	defer srv.Close()
	get := func(path string) *http.Response {
		t.Helper()
		r, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r
	}
	cases := map[string]string{
		"/app/":                    "text/html; charset=utf-8",
		"/app/floor":               "text/html; charset=utf-8",
		"/app/floor.js":            "text/javascript; charset=utf-8",
		"/app/app.css":             "text/css; charset=utf-8",
		"/app/i18n/zh-CN.json":     "application/json; charset=utf-8",
		"/app/vendor/jsqr/jsQR.js": "text/javascript; charset=utf-8",
		"/app/vendor/jsqr/LICENSE": "text/plain; charset=utf-8",
		"/app/sw.js":               "text/javascript; charset=utf-8",
		"/app/app.webmanifest":     "application/manifest+json",
		"/app/icon.svg":            "image/svg+xml",
	}
	for path, kind := range cases {
		r := get(path)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != kind {
			t.Errorf("%s: %d %q, want 200 %q", path, r.StatusCode, r.Header.Get("Content-Type"), kind)
		}
		for h, want := range map[string]string{"Content-Security-Policy": web.CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %s %q, want %q", path, h, got, want)
			}
		}
	}
	// what the sign-in page knows before anyone signs in: the plant's
	// language and zone, nothing else
	if r, err := http.Get(srv.URL + "/app/plant.json"); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if got := strings.TrimSpace(string(b)); r.StatusCode != 200 || got != `{"locale":"zh-CN","zone":"Asia/Shanghai"}` {
			t.Errorf("/app/plant.json: %d %s", r.StatusCode, got)
		}
	}
	for _, path := range []string{"/app/floor.html", "/app/index.html", "/app/nothing.js", "/app/../go.mod", "/app/i18n/"} {
		if r := get(path); r.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, r.StatusCode)
		}
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Get(srv.URL + "/app")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 301 || r.Header.Get("Location") != "/app/" {
		t.Errorf("/app: %d → %q, want 301 → /app/", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestNoInline: the pages have no inline script, inline style or event
// attribute (the CSP would refuse them, and a page would silently break).
func TestNoInline(t *testing.T) {
	inline := regexp.MustCompile(`(?is)<script[^>]*>\s*[^<\s]`)
	noSrc := regexp.MustCompile(`(?i)<script\b[^>]*>`)
	other := regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, name := range []string{"index.html", "floor.html"} {
		b, err := fs.ReadFile(Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if m := inline.FindString(s); m != "" {
			t.Errorf("%s: inline script %q", name, m)
		}
		for _, tag := range noSrc.FindAllString(s, -1) {
			if !strings.Contains(tag, ` src="/app/`) {
				t.Errorf("%s: a script not from the app: %s", name, tag)
			}
		}
		if m := other.FindString(s); m != "" {
			t.Errorf("%s: %q (inline style or handler)", name, m)
		}
	}
	for _, name := range jsFiles(t) {
		b, _ := fs.ReadFile(Files(), name)
		if regexp.MustCompile(`\.style\.|\.innerHTML\s*=|\beval\(|new Function\(`).Match(b) && !strings.HasPrefix(name, "vendor/") {
			t.Errorf("%s sets a style, innerHTML, or evaluates strings: the CSP refuses inline style; build elements instead", name)
		}
	}
}

func jsFiles(t *testing.T) []string {
	var out []string
	fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".js") && !strings.HasPrefix(p, "vendor/") {
			out = append(out, p)
		}
		return nil
	})
	if len(out) < 5 {
		t.Fatalf("the app's modules: %v", out)
	}
	return out
}

func catalogue(t *testing.T, locale string) map[string]string {
	t.Helper()
	b, err := fs.ReadFile(Files(), "i18n/"+locale+".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("i18n/%s.json: %v", locale, err)
	}
	return m
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func args(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// TestCatalogues: zh-CN and en have the same keys, none empty, each with
// the same {placeholders}; every key the pages and modules use is in
// them, the dynamic ones (role.<role>, error.<code>, …) for every value.
func TestCatalogues(t *testing.T) {
	zh, en := catalogue(t, "zh-CN"), catalogue(t, "en")
	for k, v := range zh {
		e, ok := en[k]
		if !ok {
			t.Errorf("%q is in zh-CN.json, not in en.json", k)
			continue
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(e) == "" {
			t.Errorf("%q: an empty text", k)
		}
		if a, b := args(v), args(e); !slices.Equal(a, b) {
			t.Errorf("%q: zh-CN has {%v}, en {%v}", k, a, b)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%q is in en.json, not in zh-CN.json", k)
		}
	}
	used := map[string]string{} // key → where
	attr := regexp.MustCompile(`data-(?:i18n(?:-[a-z]+)?|title)="([^"]+)"`)
	call := regexp.MustCompile(`\bt\(\s*"([^"]+)"`)
	ternary := regexp.MustCompile(`\bt\([^()]*\?\s*"([^"]+)"\s*:\s*"([^"]+)"`)
	for _, name := range []string{"index.html", "floor.html"} {
		b, _ := fs.ReadFile(Files(), name)
		for _, m := range attr.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = name
		}
	}
	for _, name := range jsFiles(t) {
		b, _ := fs.ReadFile(Files(), name)
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = name
		}
		for _, m := range ternary.FindAllStringSubmatch(string(b), -1) {
			used[m[1]], used[m[2]] = name, name
		}
	}
	// keys made from a prefix and a value
	dynamic := map[string][]string{
		"role.":         mes.Roles,
		"card.next.":    {"start", "confirm", "done"},
		"card.done.":    {"started", "reported", "confirmed", "duplicate"},
		"clock.done.":   {"on", "off"},
		"outbox.scan.":  {"start", "report", "confirm"},
		"outbox.clock.": {"on", "off"},
		"card.":         {"order", "customer", "product", "work_order", "quantity", "due", "station", "so_far", "available"},
		"error.":        errorCodes(t),
		"error.out_of_sequence.": {mes.RuleStartBeforePredecessor, mes.RuleStartBeforeParts, mes.RuleConfirmBeforePredecessor,
			mes.RuleMoreThanPassedOn, mes.RuleConfirmBeforeParts, mes.RuleMoreThanParts},
	}
	for prefix, vals := range dynamic {
		for _, v := range vals {
			used[prefix+v] = "a key made from " + prefix
		}
	}
	for k, where := range used {
		if strings.HasSuffix(k, ".") {
			continue // the prefix of a dynamic key, checked above
		}
		if _, ok := en[k]; !ok {
			t.Errorf("%s uses %q: not in the catalogues", where, k)
		}
	}
}

// errorCodes are the codes the API answers with: the catalogue
// twin/mes/api/ERRORS.md (where the API has one) and every code its
// source and twin/mes's name (Code() methods, Code: fields).
func errorCodes(t *testing.T) []string {
	root := filepath.Join("..", "..", "twin", "mes")
	set := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(root, "api", "ERRORS.md")); err == nil {
		for _, m := range regexp.MustCompile("(?m)^\\|\\s*`([a-z][a-z0-9_]*)`").FindAllStringSubmatch(string(b), -1) {
			set[m[1]] = true
		}
		if len(set) == 0 {
			t.Fatalf("twin/mes/api/ERRORS.md: no codes found (a table row starts | `code` |): has its layout changed?")
		}
	}
	field := regexp.MustCompile(`Code:\s*"([a-z][a-z0-9_]*)"`)
	method := regexp.MustCompile(`(?s)\) Code\(\) string\s*\{([^\n]*?\}|\n.*?\n\})`)
	quoted := regexp.MustCompile(`"([a-z][a-z0-9_]*)"`)
	for _, dir := range []string{root, filepath.Join(root, "api")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, _ := os.ReadFile(f)
			for _, m := range field.FindAllStringSubmatch(string(b), -1) {
				set[m[1]] = true
			}
			for _, m := range method.FindAllStringSubmatch(string(b), -1) {
				for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
					set[q[1]] = true
				}
			}
		}
	}
	var out []string
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	if !slices.Contains(out, "out_of_sequence") || !slices.Contains(out, "password_change_required") {
		t.Fatalf("the API's error codes found: %v; want at least out_of_sequence and password_change_required", out)
	}
	t.Logf("%d error codes: %v", len(out), out)
	return out
}

// TestVendoredJsQR: the decoder is the pinned release, its licence beside it.
func TestVendoredJsQR(t *testing.T) {
	b, err := fs.ReadFile(Files(), "vendor/jsqr/jsQR.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != "bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859" {
		t.Errorf("vendor/jsqr/jsQR.js has sha256 %s, not jsqr@1.4.0's (see vendor/jsqr/README.md)", got)
	}
	lic, err := fs.ReadFile(Files(), "vendor/jsqr/LICENSE")
	if err != nil || !strings.Contains(string(lic), "Apache License") {
		t.Errorf("vendor/jsqr/LICENSE: %v, want the Apache License", err)
	}
}
