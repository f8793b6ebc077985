package mes

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path"
	"sort"
	"strconv"
	"time"

	"twin/twin/mes/recstore"
)

// Labour is one stretch of a worker's time on an operation: clocked on
// (a start scan, or the clock endpoint) until clocked off (the
// confirmation, or the clock endpoint).
type Labour struct {
	ID        string    `json:"id"`
	Worker    string    `json:"worker"`
	Operation string    `json:"operation"`
	WorkOrder string    `json:"work_order"`
	Order     string    `json:"order"`
	Station   string    `json:"station"`
	On        time.Time `json:"on"`
	Off       time.Time `json:"off,omitzero" doc:"empty while clocked on"`
	Hours     float64   `json:"hours" doc:"Off − On in hours; 0 while clocked on"`
}

// Clock is a request to clock a worker on or off an operation.
type Clock struct {
	Worker    string    `json:"worker" maxlen:"64" doc:"default the signed-in user"`
	Operation string    `json:"operation" maxlen:"200"`
	Action    string    `json:"action" maxlen:"8" enum:"on,off"`
	At        time.Time `json:"at,omitzero"`
}

// DoClock clocks a worker on or off an operation. Clocking on twice, or
// off when not on, changes nothing.
func (d *DB) DoClock(user string, c Clock) (*Labour, error) {
	if c.Worker == "" {
		c.Worker = user
	}
	if err := validID("worker", c.Worker); err != nil {
		return nil, err
	}
	if c.Action != "on" && c.Action != "off" {
		return nil, FieldErr("action", "want on or off, got %q", c.Action)
	}
	if err := validID("operation", c.Operation); err != nil {
		return nil, err
	}
	var l *Labour
	err := d.update(user, "labour.clock_"+c.Action, func(t *tx) error {
		var o Operation
		if err := t.Must("op", c.Operation, &o); err != nil {
			return err
		}
		if c.Action == "on" && o.Status == OpConfirmed {
			return fmt.Errorf("operation %s is confirmed: %w", o.ID, ErrConflict)
		}
		at := c.At
		if at.IsZero() {
			at = t.Now
		}
		// the open record's id: clocking off removes it
		var id string
		if _, err := t.Get("clock/"+c.Worker+"/"+o.ID, &id); err != nil {
			return err
		}
		if err := d.clock(t, c.Worker, &o, c.Action == "on", at); err != nil {
			return err
		}
		l = new(Labour)
		if id == "" {
			if _, err := t.Get("clock/"+c.Worker+"/"+o.ID, &id); err != nil {
				return err
			}
		}
		if id != "" {
			return t.Must("lab", id, l)
		}
		return nil
	})
	return l, err
}

// clock clocks worker on or off operation o at time at.
func (d *DB) clock(t *tx, worker string, o *Operation, on bool, at time.Time) error {
	key := "clock/" + worker + "/" + o.ID
	var id string
	open, err := t.Get(key, &id)
	if err != nil {
		return err
	}
	if on {
		if open {
			return nil
		}
		n, err := t.NextID()
		if err != nil {
			return err
		}
		l := &Labour{ID: fmt.Sprintf("LB-%07d", n), Worker: worker, Operation: o.ID, WorkOrder: o.WorkOrder, Order: o.Order, Station: o.Station, On: at}
		if err := t.put("lab", l.ID, nil, l); err != nil {
			return err
		}
		if err := t.Set(key, l.ID); err != nil {
			return err
		}
		if err := t.Index("order", o.Order, "lab", l.ID); err != nil {
			return err
		}
		if err := t.Index("worker", worker, "lab", l.ID); err != nil {
			return err
		}
		return t.Mark("x/oncard/"+o.ID+"/"+worker, nil)
	}
	if !open {
		return nil
	}
	var l Labour
	if err := t.Must("lab", id, &l); err != nil {
		return err
	}
	before := l
	if at.Before(l.On) {
		at = l.On
	}
	l.Off, l.Hours = at, at.Sub(l.On).Hours()
	if l.Station == "" {
		l.Station = o.Station
	}
	if err := t.put("lab", l.ID, before, l); err != nil {
		return err
	}
	if err := t.Delete(key); err != nil {
		return err
	}
	if err := t.Delete(path.Join("x/oncard", o.ID, worker)); err != nil {
		return err
	}
	return t.Index("time", "lab", "lab", recstore.TimeKey(l.Off, l.ID))
}

// LabourFilter selects labour records.
type LabourFilter struct {
	Worker, Order, Station string
	From, To               time.Time // overlapping [From, To)
}

// Labour lists the closed labour records that overlap the window, by
// clock-on time.
func (d *DB) Labour(f LabourFilter) ([]Labour, error) {
	var out []Labour
	err := d.view(func(t *tx) error {
		var ls []Labour
		var err error
		switch {
		case f.Order != "":
			ls, err = all[Labour](t, "x/order/"+f.Order+"/lab/", "lab")
		case f.Worker != "":
			ls, err = all[Labour](t, "x/worker/"+f.Worker+"/lab/", "lab")
		default:
			// indexed by clock-off: what ends after From, read from there
			ls, err = records[Labour](t, "lab", t.During("x/time/lab/lab/", f.From, time.Time{}))
		}
		if err != nil {
			return err
		}
		for _, l := range ls {
			if l.Off.IsZero() || f.Worker != "" && l.Worker != f.Worker || f.Station != "" && l.Station != f.Station && path.Base(l.Station) != f.Station {
				continue
			}
			if !f.From.IsZero() && !l.Off.After(f.From) || !f.To.IsZero() && !l.On.Before(f.To) {
				continue
			}
			out = append(out, l)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].On.Before(out[j].On) })
		return nil
	})
	return out, err
}

// Hours is a worker's hours on one day (or one order).
type Hours struct {
	Worker string  `json:"worker"`
	Day    string  `json:"day,omitempty" doc:"plant-local date"`
	Order  string  `json:"order,omitempty"`
	Hours  float64 `json:"hours"`
}

// HoursBy sums labour per worker and plant-local day ("day") or per
// worker and order ("order"); a stretch across midnight counts on both
// days.
func (d *DB) HoursBy(ls []Labour, by string, from, to time.Time) []Hours {
	sum := map[[2]string]float64{}
	for _, l := range ls {
		on, off := clip(l, from, to)
		if by == "order" {
			sum[[2]string{l.Worker, l.Order}] += off.Sub(on).Hours()
			continue
		}
		for _, p := range splitDays(on, off, d.p.Location) {
			sum[[2]string{l.Worker, p.on.Format(time.DateOnly)}] += p.off.Sub(p.on).Hours()
		}
	}
	out := make([]Hours, 0, len(sum))
	for k, h := range sum {
		x := Hours{Worker: k[0], Hours: round(h, 4)}
		if by == "order" {
			x.Order = k[1]
		} else {
			x.Day = k[1]
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Worker < b.Worker || a.Worker == b.Worker && a.Day+a.Order < b.Day+b.Order
	})
	return out
}

// clip returns the stretch of l inside [from, to) (a zero bound: open).
func clip(l Labour, from, to time.Time) (on, off time.Time) {
	on, off = l.On, l.Off
	if !from.IsZero() {
		on = maxTime(on, from)
	}
	if !to.IsZero() {
		off = minTime(off, to)
	}
	return on, off
}

// dayPart is the piece of a stretch of time on one plant-local day.
type dayPart struct{ on, off time.Time }

// splitDays cuts [on, off) at midnights in loc; each part is in loc.
func splitDays(on, off time.Time, loc *time.Location) []dayPart {
	var out []dayPart
	for on = on.In(loc); on.Before(off); {
		end := minTime(off, time.Date(on.Year(), on.Month(), on.Day()+1, 0, 0, 0, 0, loc)).In(loc)
		out = append(out, dayPart{on, end})
		on = end
	}
	return out
}

func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

// PayrollHeader is the payroll export's header row. The layout (RFC 4180
// CSV, UTF-8, comma separated, one row per worker, plant-local day and
// operation; a stretch across midnight is split at midnight):
//
//	worker      badge id of the worker
//	date        plant-local date, YYYY-MM-DD
//	order       production order
//	work_order  work order
//	operation   operation card id
//	station     machine id
//	clock_on    start of the stretch on that day, RFC 3339 with the plant's offset
//	clock_off   end of the stretch on that day, RFC 3339
//	hours       decimal hours, 4 places (clock_off − clock_on)
var PayrollHeader = []string{"worker", "date", "order", "work_order", "operation", "station", "clock_on", "clock_off", "hours"}

// WritePayroll writes the labour records as payroll CSV (see PayrollHeader).
func (d *DB) WritePayroll(w io.Writer, ls []Labour, from, to time.Time) error {
	cw := csv.NewWriter(w)
	cw.Write(PayrollHeader)
	for _, l := range ls {
		on, off := clip(l, from, to)
		for _, p := range splitDays(on, off, d.p.Location) {
			cw.Write([]string{l.Worker, p.on.Format(time.DateOnly), l.Order, l.WorkOrder, l.Operation, path.Base(l.Station),
				p.on.Format(time.RFC3339), p.off.Format(time.RFC3339), strconv.FormatFloat(p.off.Sub(p.on).Hours(), 'f', 4, 64)})
		}
	}
	cw.Flush()
	return cw.Error()
}
