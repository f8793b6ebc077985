package main

import (
	"context"

	"fmt"
	"io"
	"net/url"
	"strings"

	"twin/plant"
	"twin/twin/mes"
)

// twin kpis: the KPIs of the records API (GET /api/v1/kpis) as a table a
// person reads, with the lost time broken down by downtime reason and the
// scrap by scrap reason.

func init() {
	register(&Command{
		Name:  "kpis",
		Usage: "[flags]",
		Short: "OEE and its losses by reason, from a running twin's records API",
		Long: `Kpis prints the KPIs of GET /api/v1/kpis of a running twin serve or twin
demo (--server, --token, --ca as for twin orders): per day, station, line
or order (--by), OEE and its factors, the availability loss (setup, delay
and down time while planned) broken down by the downtime reasons the floor
reported (POST /api/v1/downtime) and what no reported stop explains, and
the scrap by scrap reason. Times (--from, --to) are RFC 3339 or plant time
without an offset (2026-03-02T08:00); the default window is today, plant
time. --json prints the API's answer as it is.

  twin kpis --by station --from 2026-03-02T08:00 --to 2026-03-02T16:00
  twin kpis --by day --station W2`,
		Run: runKPIs,
	})
}

func runKPIs(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["kpis"], stdout)
	mk := clientFlags(fs)
	by := fs.String("by", "day", "day, station, line or order")
	from := fs.String("from", "", "from this `time` (default: today's plant midnight)")
	to := fs.String("to", "", "up to this `time` (default: now)")
	station := fs.String("station", "", "one station (machine id)")
	line := fs.String("line", "", "one line")
	order := fs.String("order", "", "--by order: one order")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errUsage
	}
	q := url.Values{"by": {*by}}
	for k, v := range map[string]string{"from": *from, "to": *to, "station": *station, "line": *line, "order": *order} {
		if v != "" {
			q.Set(k, v)
		}
	}
	c := mk(stdout)
	path := "/kpis?" + q.Encode()
	if *asJSON {
		return c.call(ctx, "GET", path, nil, nil)
	}
	var ks []mes.KPI
	if err := c.call(ctx, "GET", path, nil, &ks); err != nil {
		return err
	}
	var f mes.FloorInfo
	if err := c.call(ctx, "GET", "/floor", nil, &f); err != nil {
		f = mes.FloorInfo{} // a token without a floor role: codes without names
	}
	printKPIs(stdout, ks, f)
	return nil
}

// printKPIs writes one block per KPI row: its figures, its loss by
// downtime reason and its scrap by scrap reason, the reasons named in the
// plant's locale.
func printKPIs(w io.Writer, ks []mes.KPI, f mes.FloorInfo) {
	pct := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100**p)
	}
	name := func(rs []plant.Reason, code string) string {
		if code == "" {
			return "(no reason given)"
		}
		for _, r := range rs {
			if r.Code == code {
				if f.Locale == plant.LocaleZH {
					return code + " " + r.ZH
				}
				return code + " " + r.EN
			}
		}
		return code
	}
	if len(ks) == 0 {
		fmt.Fprintln(w, "no rows: nothing in the window")
	}
	for _, k := range ks {
		win := ""
		if !k.From.IsZero() {
			loc := k.From.Location()
			win = fmt.Sprintf("  %s – %s (%s)", k.From.Format("2006-01-02 15:04"), k.To.In(loc).Format("2006-01-02 15:04"), f.Zone)
		}
		fmt.Fprintf(w, "%s %s%s\n", k.By, k.Key, win)
		fmt.Fprintf(w, "  OEE %s (availability %s, effectiveness %s, quality %s), PBT %.2f h, APT %.2f h, PQ %.0f, SQ %.0f\n",
			pct(k.OEE), pct(k.Availability), pct(k.Effectiveness), pct(k.QualityRate), k.PBT, k.APT, k.PQ, k.SQ)
		if k.By != "order" {
			var parts []string
			for _, l := range k.Losses {
				parts = append(parts, fmt.Sprintf("%s %.2f h", name(f.DowntimeReasons, l.Reason), l.Hours))
			}
			parts = append(parts, fmt.Sprintf("unexplained %.2f h", k.UnexplainedH))
			fmt.Fprintf(w, "  loss %.2f h: %s\n", k.LossH, strings.Join(parts, ", "))
		}
		if len(k.ScrapByReason) > 0 {
			var parts []string
			for _, s := range k.ScrapByReason {
				parts = append(parts, fmt.Sprintf("%s %.0f", name(f.ScrapReasons, s.Reason), s.Qty))
			}
			fmt.Fprintf(w, "  scrap by reason: %s\n", strings.Join(parts, ", "))
		}
	}
}
