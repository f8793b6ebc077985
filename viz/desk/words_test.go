package desk

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCatalogues: both locales hold the same keys with the same
// {placeholders}, and every key the viewer's code names is in them.
func TestCatalogues(t *testing.T) {
	en, zh := catalogues["en"], catalogues["zh-CN"]
	if a, b := slices.Sorted(maps.Keys(en)), slices.Sorted(maps.Keys(zh)); !slices.Equal(a, b) {
		t.Errorf("the catalogues' keys differ:\n en    %v\n zh-CN %v", a, b)
	}
	ph := regexp.MustCompile(`\{[a-z]+\}`)
	for k, v := range en {
		if a, b := slices.Sorted(slices.Values(ph.FindAllString(v, -1))), slices.Sorted(slices.Values(ph.FindAllString(zh[k], -1))); !slices.Equal(a, b) {
			t.Errorf("%s: placeholders %v in en, %v in zh-CN", k, a, b)
		}
	}
	var used []string
	files, _ := os.ReadDir(".")
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\bt\("([a-z.]+)"`).FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") {
				used = append(used, m[1])
			}
		}
	}
	for s := range stateColor {
		used = append(used, "state."+s)
	}
	for s := range sourceCol {
		used = append(used, "source."+s)
	}
	if len(used) < 30 {
		t.Fatalf("only %d keys found in the code: the pattern no longer matches", len(used))
	}
	for _, k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("the viewer uses %q, which the catalogues lack", k)
		}
	}
}
