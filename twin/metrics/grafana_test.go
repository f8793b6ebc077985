package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestGrafanaDashboard: grafana/twin.json is a dashboard Grafana imports
// (a uid, a title, a Prometheus data source variable, panels with
// queries), and every metric its queries name is one /metrics serves.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/twin.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string `json:"uid"`
		Title      string `json:"title"`
		Schema     int    `json:"schemaVersion"`
		Templating struct {
			List []struct{ Name, Type, Query string } `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string                   `json:"title"`
			GridPos struct{ X, Y, W, H int } `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/twin.json: %v", err)
	}
	if d.UID == "" || d.Title == "" || d.Schema == 0 || len(d.Panels) == 0 {
		t.Fatalf("grafana/twin.json: uid %q, title %q, schemaVersion %d, %d panels: Grafana wants all four", d.UID, d.Title, d.Schema, len(d.Panels))
	}
	hasDS := false
	for _, v := range d.Templating.List {
		hasDS = hasDS || v.Type == "datasource" && v.Query == "prometheus" && v.Name == "datasource"
	}
	if !hasDS {
		t.Error("no Prometheus data source variable $datasource: the dashboard would not import into another Grafana")
	}
	name := regexp.MustCompile(`\b(twin|go|process)_[a-z_]+`)
	used := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, n := range name.FindAllString(q.Expr, -1) {
				base := n
				for _, suf := range []string{"_bucket", "_count", "_sum"} {
					if b, ok := strings.CutSuffix(n, suf); ok && table[b].Kind == histogram {
						base = b
					}
				}
				if _, ok := table[base]; strings.HasPrefix(n, "twin_") && !ok {
					t.Errorf("panel %q queries %s, which /metrics does not serve", p.Title, n)
				}
				used[base] = true
			}
		}
	}
	for _, must := range []string{mReady, mIngestEvents, mFold, mAppend, mConnUp, mQuarantined, mFeedClients, mRequests, mSignInFailures, mScans} {
		if !used[must] {
			t.Errorf("no panel shows %s", must)
		}
	}
}
