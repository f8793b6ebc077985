package scenarios

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// KeyMetrics are the KPIs the summary shows when the scenario does not
// choose (Scenario.Metrics).
var KeyMetrics = []string{"throughput", "lead_time_mean", "on_time", "wip", "energy_cost", "co2"}

// maxSummaryMetrics bounds the KPIs the summary shows.
const maxSummaryMetrics = 8

// WriteSummary writes a short table for people: the key KPIs of each
// variant, mean ± 95% CI half-width, and the difference from the baseline
// with its CI (paired with common random numbers). A * marks differences
// whose CI excludes zero.
func (r *Results) WriteSummary(w io.Writer) error {
	h := r.Scenario
	crn := "independent streams"
	if h.CRN {
		crn = "common random numbers"
	}
	fmt.Fprintf(w, "%s: %d variants × %d replications, %s after a %s warm-up, %s\n",
		h.Name, len(r.Variants), h.Replications, hours(h.HorizonHours), hours(h.WarmupHours), crn)
	names := r.summaryMetrics()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range names {
		unit := ""
		for _, v := range r.Variants {
			if m := v.Metric(name); m != nil {
				unit = m.Unit
				break
			}
		}
		fmt.Fprintf(tw, "\n%s (%s)\tmean ± 95%% CI\tΔ %s ± 95%% CI\t\n", name, unit, h.Baseline)
		for _, v := range r.Variants {
			m := v.Metric(name)
			if m == nil {
				fmt.Fprintf(tw, "  %s\t–\t\t\n", v.Name)
				continue
			}
			d := ""
			if m.Diff != nil {
				d = plusMinus(m.Diff.Mean, m.Diff.CI95, true)
				if m.Diff.Significant() {
					d += " *"
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", v.Name, plusMinus(m.Mean, m.CI95, false), d)
		}
	}
	fmt.Fprintf(tw, "\nbottleneck\t\t\t\n")
	for _, v := range r.Variants {
		var parts []string
		for _, c := range v.Bottleneck {
			parts = append(parts, fmt.Sprintf("%s %d/%d", c.WorkCenter, c.Runs, v.Replications))
		}
		fmt.Fprintf(tw, "  %s\t%s\t\t\n", v.Name, strings.Join(parts, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

// summaryMetrics chooses the KPIs of the summary: those the scenario
// chose, else KeyMetrics, as far as the results have them.
func (r *Results) summaryMetrics() []string {
	has := func(name string) bool {
		for _, v := range r.Variants {
			if v.Metric(name) != nil {
				return true
			}
		}
		return false
	}
	var out []string
	if len(r.Scenario.Metrics) == 0 {
		for _, n := range KeyMetrics {
			if has(n) {
				out = append(out, n)
			}
		}
		return out
	}
	seen := map[string]bool{}
	for _, v := range r.Variants {
		for _, m := range v.Metrics {
			if !seen[m.Name] && len(out) < maxSummaryMetrics {
				seen[m.Name] = true
				out = append(out, m.Name)
			}
		}
	}
	return out
}

// plusMinus formats "mean ± ci", the mean rounded to the CI's second
// significant digit.
func plusMinus(mean, ci Num, sign bool) string {
	m, c := float64(mean), float64(ci)
	if math.IsNaN(m) {
		return "n/a"
	}
	prec := 4
	format := func(x float64, signed bool) string {
		s := strconv.FormatFloat(x, 'g', prec, 64)
		if signed && x >= 0 {
			s = "+" + s
		}
		return s
	}
	if math.IsNaN(c) || math.IsInf(c, 0) {
		return format(m, sign)
	}
	if c == 0 {
		return format(m, sign) + " ± 0"
	}
	dec := max(0, min(9, 1-int(math.Floor(math.Log10(c)))))
	f := func(x float64, signed bool) string {
		s := strconv.FormatFloat(x, 'f', dec, 64)
		if signed && x >= 0 {
			s = "+" + s
		}
		return s
	}
	return f(m, sign) + " ± " + f(c, false)
}

// hours formats a length of time given in hours as days and hours.
func hours(h float64) string {
	switch {
	case h == 0:
		return "0h"
	case h >= 24 && math.Mod(h, 24) == 0:
		return strconv.FormatFloat(h/24, 'g', -1, 64) + "d"
	}
	return strconv.FormatFloat(h, 'g', 4, 64) + "h"
}
