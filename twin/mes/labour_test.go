package mes

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLabourAcrossMidnight: a night shift's stretch counts on both
// plant-local days, in the hours and in the payroll rows alike, and a
// window cuts it.
func TestLabourAcrossMidnight(t *testing.T) {
	r := newRig(t, t.TempDir())
	loc := r.p.Location
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
		if got := r.db.HoursBy([]Labour{l}, "day", c.from, time.Time{}); !slices.Equal(got, c.want) {
			t.Errorf("from %v: hours %+v, want %+v", c.from, got, c.want)
		}
		var b strings.Builder
		if err := r.db.WritePayroll(&b, []Labour{l}, c.from, time.Time{}); err != nil {
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
