package web

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCatalogues checks the page's words: both locales hold the same keys
// with the same {placeholders}, and every key index.html and view.js use
// (data-i18n…="key", t("key"), t("prefix." + x) for the states and
// sources the scene can name) is in them.
func TestCatalogues(t *testing.T) {
	cats := map[string]map[string]string{}
	for name, b := range map[string][]byte{"en": wordsEN, "zh-CN": wordsZH} {
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("i18n/%s.json: %v", name, err)
		}
		cats[name] = m
	}
	en, zh := cats["en"], cats["zh-CN"]
	if a, b := slices.Sorted(maps.Keys(en)), slices.Sorted(maps.Keys(zh)); !slices.Equal(a, b) {
		t.Errorf("the catalogues' keys differ: en %d, zh-CN %d", len(a), len(b))
	}
	ph := regexp.MustCompile(`\{[a-z]+\}`)
	for k, v := range en {
		w, ok := zh[k]
		if !ok {
			t.Errorf("%s: in en, not in zh-CN", k)
			continue
		}
		if a, b := slices.Sorted(slices.Values(ph.FindAllString(v, -1))), slices.Sorted(slices.Values(ph.FindAllString(w, -1))); !slices.Equal(a, b) {
			t.Errorf("%s: placeholders %v in en, %v in zh-CN", k, a, b)
		}
		if k != "lang.other" && k != "lang.title" && w == v && ph.ReplaceAllString(v, "") != "" && strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyz") {
			t.Errorf("%s: zh-CN says %q, the same as en: not translated", k, w)
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: in zh-CN, not in en", k)
		}
	}
	var used []string
	for _, m := range regexp.MustCompile(`data-i18n(?:-title|-label)?="([^"]+)"`).FindAllStringSubmatch(string(page), -1) {
		used = append(used, m[1])
	}
	for _, m := range regexp.MustCompile(`\bt\("([a-z.0-9]+)"`).FindAllStringSubmatch(string(script), -1) {
		if strings.HasSuffix(m[1], ".") {
			continue // a prefix: the states and sources below
		}
		used = append(used, m[1])
	}
	for _, s := range []string{"running", "idle", "setup", "down", "maintenance", "blocked", "starved", "off", "unknown"} {
		used = append(used, "state."+s)
	}
	for _, s := range []string{"live", "replay", "scenario", "forecast"} {
		used = append(used, "source."+s)
	}
	if len(used) < 40 {
		t.Fatalf("only %d keys found in the page and its script: the patterns above no longer match", len(used))
	}
	for _, k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("the page uses %q, which the catalogues lack", k)
		}
	}
}
