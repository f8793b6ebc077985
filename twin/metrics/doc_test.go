package metrics

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "write METRICS.md from the table")

// metricsDoc is METRICS.md as the table says.
func metricsDoc() []byte {
	var b bytes.Buffer
	b.WriteString(`# The twin's metrics

Generated from ` + "`table.go`" + ` by ` + "`go test ./twin/metrics -run TestMetricsDoc -update`" + `; a test
fails when the two differ. ` + "`/metrics`" + ` serves them in the Prometheus text format (with the Go
runtime's ` + "`go_*`" + ` and the process's ` + "`process_*`" + ` metrics beside them: memory, goroutines, CPU,
open files). Every figure but the histograms and the API's counters is read from the package's
` + "`Stats()`" + ` at the scrape: the column "from" names it. A histogram ` + "`NAME`" + ` is the series
` + "`NAME_bucket{le}`" + `, ` + "`NAME_sum`" + ` and ` + "`NAME_count`" + `; its buckets are in seconds.

Labels: ` + "`kind`" + ` is ` + "`mqtt`" + ` or ` + "`opcua`" + `, ` + "`connector`" + ` the broker's URL or the server's endpoint as
the plant file's tag map names it (without credentials); ` + "`route`" + ` a route pattern of the records
API (` + "`GET /api/v1/orders/{id}`" + `, ` + "`unmatched`" + `), never a raw path; ` + "`check`" + ` a condition of ` + "`/readyz`" + `.

| name | type | labels | meaning | from |
| --- | --- | --- | --- | --- |
`)
	var names []string
	for name := range table {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := table[name]
		help := d.Help
		if d.Buckets != nil {
			var bs []string
			for _, x := range d.Buckets {
				bs = append(bs, fmt.Sprintf("%g", x))
			}
			help += " Buckets: " + strings.Join(bs, ", ") + "."
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", name, d.Kind, strings.Join(d.Labels, ", "), strings.ReplaceAll(help, "|", "\\|"), d.From)
	}
	return b.Bytes()
}

// TestMetricsDoc: METRICS.md lists every metric of the table, as it is.
func TestMetricsDoc(t *testing.T) {
	want := metricsDoc()
	if *update {
		if err := os.WriteFile("METRICS.md", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("METRICS.md is not what table.go says: run go test ./twin/metrics -run TestMetricsDoc -update and review the diff")
	}
}
