package desk

import (
	"embed"
	"encoding/json"
	"os"
	"strings"
)

// The viewer's words, one catalogue per locale (i18n/<locale>.json: flat
// JSON, key → text with {name} placeholders, as the web page's).
//
//go:embed i18n/*.json
var catalogueFiles embed.FS

// catalogues are the words by locale ("zh-CN", "en").
var catalogues = func() map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, l := range []string{"en", "zh-CN"} {
		b, err := catalogueFiles.ReadFile("i18n/" + l + ".json")
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		var w map[string]string
		if err := json.Unmarshal(b, &w); err != nil {
			panic("viz/desk/i18n/" + l + ".json: " + err.Error()) // TestCatalogues catches it first
		}
		m[l] = w
	}
	return m
}()

// localeOf reads a language tag ("zh_CN.UTF-8", "zh-CN", "en_GB") as one
// of the viewer's locales, or "".
func localeOf(s string) string {
	s = strings.ToLower(s)
	switch {
	case strings.HasPrefix(s, "zh"):
		return "zh-CN"
	case strings.HasPrefix(s, "en"):
		return "en"
	}
	return ""
}

// locale is the language the viewer speaks: App.Locale if set, else the
// plant's (its scene's, from the plant file), else the computer's
// ($LC_ALL, $LC_MESSAGES, $LANG), else English.
func (a *App) locale() string {
	if l := localeOf(a.Locale); l != "" {
		return l
	}
	for _, v := range a.Views {
		if sc := v.Scene(); sc != nil {
			if l := localeOf(sc.Locale); l != "" {
				return l
			}
			break
		}
	}
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := localeOf(os.Getenv(env)); l != "" {
			return l
		}
	}
	return "en"
}

// t is the text under key in the viewer's locale, each {name} of kv's
// name, value pairs replaced.
func (a *App) t(key string, kv ...string) string {
	s, ok := catalogues[a.locale()][key]
	if !ok {
		s = key
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}

// status is a view's status in the viewer's words where it has them (a
// connection's own messages stay as the feed client words them).
func (a *App) status(v View) string {
	if s := v.Status(); s != "loading" {
		return s
	}
	return a.t("loading")
}
