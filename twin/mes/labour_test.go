package mes

import (
	"encoding/csv"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
	"twin/plant"
)

// TestLabourSplitOnChangeDays: labour is split at the plant's midnights,
// which are 23 h apart on the spring change day.
func TestLabourSplitOnChangeDays(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// a worker on from Saturday 20:00 to Monday 02:00 over the spring change
	parts := splitDays(time.Date(2026, 3, 28, 20, 0, 0, 0, berlin), time.Date(2026, 3, 30, 2, 0, 0, 0, berlin), berlin)
	var got []string
	for _, pt := range parts {
		got = append(got, pt.on.Format(time.DateOnly)+" "+pt.off.Sub(pt.on).String())
	}
	if s := strings.Join(got, ", "); s != "2026-03-28 4h0m0s, 2026-03-29 23h0m0s, 2026-03-30 2h0m0s" {
		t.Errorf("labour split at midnights: %s", s)
	}
}

// TestLabourAcrossMidnight: a night shift's stretch counts on both
// plant-local days, in the hours and in the payroll rows alike, and a
// window cuts it.
func TestLabourAcrossMidnight(t *testing.T) {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.TempDir(), Options{Plant: p, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loc := p.Location
	l := Labour{Worker: "W-7", Order: "SO-1", WorkOrder: "SO-1-x", Operation: "SO-1-x-wind", Station: "a/b/W1",
		On: time.Date(2026, 3, 2, 22, 0, 0, 0, loc), Off: time.Date(2026, 3, 3, 2, 30, 0, 0, loc)}
	for _, c := range []struct {
		from time.Time
		want []Hours
		rows [][]string
	}{
		{time.Time{}, []Hours{{Worker: "W-7", Day: "2026-03-02", Hours: 2}, {Worker: "W-7", Day: "2026-03-03", Hours: 2.5}},
			[][]string{{"2026-03-02", "2026-03-02T22:00:00+08:00", "2026-03-03T00:00:00+08:00", "2.0000"},
				{"2026-03-03", "2026-03-03T00:00:00+08:00", "2026-03-03T02:30:00+08:00", "2.5000"}}},
		{time.Date(2026, 3, 2, 23, 15, 0, 0, loc), []Hours{{Worker: "W-7", Day: "2026-03-02", Hours: 0.75}, {Worker: "W-7", Day: "2026-03-03", Hours: 2.5}},
			[][]string{{"2026-03-02", "2026-03-02T23:15:00+08:00", "2026-03-03T00:00:00+08:00", "0.7500"},
				{"2026-03-03", "2026-03-03T00:00:00+08:00", "2026-03-03T02:30:00+08:00", "2.5000"}}},
	} {
		if got := db.HoursBy([]Labour{l}, "day", c.from, time.Time{}); !slices.Equal(got, c.want) {
			t.Errorf("from %v: hours %+v, want %+v", c.from, got, c.want)
		}
		var b strings.Builder
		if err := db.WritePayroll(&b, []Labour{l}, c.from, time.Time{}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
		if err != nil || len(rows) != 1+len(c.rows) {
			t.Fatalf("payroll: %v\n%s", err, b.String())
		}
		for i, want := range c.rows {
			got := rows[i+1]
			if got[1] != want[0] || got[6] != want[1] || got[7] != want[2] || got[8] != want[3] || got[0] != "W-7" || got[5] != "W1" {
				t.Errorf("from %v: payroll row %d %v, want date, on, off, hours %v", c.from, i, got, want)
			}
		}
	}
	if got := round(-2.34567, 3); got != -2.346 {
		t.Errorf("round(-2.34567, 3) = %v", got)
	}
}
