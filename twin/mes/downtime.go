package mes

// Stops of the shop floor's machines with the reason a person gave
// (downtime reasons of the plant file), which the KPIs break the lost
// time down by.

import (
	"fmt"

	"sort"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/kpi"
)

// Downtime is a stop of a station: from start to end (nil: still down),
// with its reason.
type Downtime struct {
	ID      string     `json:"id" doc:"the terminal's id for the stop: a retried report with the same id is answered from the first"`
	Station string     `json:"station" doc:"the machine's equipment path"`
	Reason  string     `json:"reason" doc:"a code of the plant's downtime_reasons"`
	Loss    string     `json:"loss" enum:"availability,setup,planned" doc:"the loss the reason explains"`
	Start   time.Time  `json:"start"`
	End     *time.Time `json:"end" doc:"null while the station is down"`
	Note    string     `json:"note,omitempty"`
	By      string     `json:"by" doc:"the signed-in user who reported it"`
	EndedBy string     `json:"ended_by,omitempty"`
}

// NewDowntime reports a stop.
type NewDowntime struct {
	ID      string     `json:"id" maxlen:"64" doc:"the terminal's id for the stop (idempotent)"`
	Station string     `json:"station" maxlen:"200" doc:"machine id or path"`
	Reason  string     `json:"reason" maxlen:"32" doc:"a code of the plant's downtime_reasons (GET /floor)"`
	Start   time.Time  `json:"start,omitzero" doc:"default now"`
	End     *time.Time `json:"end,omitempty" doc:"omitted: the station is still down"`
	Note    string     `json:"note,omitempty" maxlen:"500"`
}

// EndDowntime ends a stop.
type EndDowntime struct {
	At time.Time `json:"at,omitzero" doc:"default now"`
}

// DowntimeFilter selects stops.
type DowntimeFilter struct {
	Station  string
	Open     bool
	From, To time.Time // stops overlapping [From, To); zero: unbounded
}

// clockSkew is how far ahead of the records' clock a terminal's time may
// be (its clock a little fast) before it counts as the future.
const clockSkew = time.Minute

// ReportDowntime records a stop. It is idempotent by id: a stop already
// recorded is answered as it is. A stop in the future, one ending before
// it starts and one overlapping another stop of the station (each
// minute lost counts against one reason, so the reasons add up to the
// loss) are refused: end the other first.
func (d *DB) ReportDowntime(user string, n NewDowntime) (*Downtime, error) {
	if err := validID("id", n.ID); err != nil {
		return nil, err
	}
	u := d.p.FindUnit(n.Station)
	if u == nil {
		return nil, coded(CodeStationUnknown, FieldErr("station", "no machine %q in the plant (GET /floor lists the stations)", n.Station), map[string]any{"station": n.Station})
	}
	r := d.p.DowntimeReason(n.Reason)
	if r == nil {
		codes := make([]string, 0, len(d.p.DowntimeReasons))
		for _, x := range d.p.DowntimeReasons {
			codes = append(codes, x.Code)
		}
		return nil, coded(CodeDowntimeReasonUnknown, FieldErr("reason", "no downtime reason %q in the plant's list: want one of %s", n.Reason, strings.Join(codes, ", ")),
			map[string]any{"reason": n.Reason, "reasons": codes})
	}
	if len(n.Note) > 500 {
		return nil, FieldErr("note", "longer than 500 characters")
	}
	var out *Downtime
	err := d.update(user, "downtime.report", func(t *tx) error {
		var prev Downtime
		if ok, err := t.Get("dt/"+n.ID, &prev); err != nil || ok {
			out = &prev
			return err
		}
		start := n.Start
		if start.IsZero() {
			start = t.Now
		}
		if err := d.checkStopTimes(t.Now, start, n.End); err != nil {
			return err
		}
		dt := Downtime{ID: n.ID, Station: u.Path(), Reason: r.Code, Loss: r.Loss, Start: start, End: n.End, Note: strings.TrimSpace(n.Note), By: user}
		if dt.End != nil {
			dt.EndedBy = user
		}
		if err := d.overlap(t, u, &dt); err != nil {
			return err
		}
		if err := t.put("dt", dt.ID, nil, dt); err != nil {
			return err
		}
		if err := t.Index("station", u.ID(), "dt", dt.ID); err != nil {
			return err
		}
		if dt.End == nil {
			if err := t.Mark("x/open/dt/dt/"+dt.ID, nil); err != nil {
				return err
			}
		}
		out = &dt
		return nil
	})
	return out, err
}

// checkStopTimes refuses a stop in the future or ending before it starts.
func (d *DB) checkStopTimes(now, start time.Time, end *time.Time) error {
	loc := d.p.Location
	switch {
	case start.After(now.Add(clockSkew)):
		return coded(CodeDowntimeFuture, FieldErr("start", "%s is in the future (it is %s, plant time %s): report a stop when it happens",
			start.In(loc).Format(time.DateTime), now.In(loc).Format(time.DateTime), loc), map[string]any{"start": start, "now": now})
	case end != nil && end.Before(start):
		return coded(CodeDowntimeEndBeforeStart, FieldErr("end", "%s is before the start %s (plant time %s)", end.In(loc).Format(time.DateTime), start.In(loc).Format(time.DateTime), loc),
			map[string]any{"start": start, "end": *end})
	case end != nil && end.After(now.Add(clockSkew)):
		return coded(CodeDowntimeFuture, FieldErr("end", "%s is in the future (it is %s, plant time %s): end the stop when the station runs again",
			end.In(loc).Format(time.DateTime), now.In(loc).Format(time.DateTime), loc), map[string]any{"end": *end, "now": now})
	}
	return nil
}

// overlap refuses dt when another stop of the machine overlaps it.
func (d *DB) overlap(t *tx, u *plant.Unit, dt *Downtime) error {
	far := time.Unix(1<<40, 0)
	end := far
	if dt.End != nil {
		end = *dt.End
	}
	for _, id := range t.Keys("x/station/" + u.ID() + "/dt/") {
		var o Downtime
		if ok, err := t.Get("dt/"+id, &o); err != nil || !ok || o.ID == dt.ID {
			if err != nil {
				return err
			}
			continue
		}
		oend := far
		if o.End != nil {
			oend = *o.End
		}
		if o.Start.Before(end) && dt.Start.Before(oend) {
			until := "still open: end it first (POST /api/v1/downtime/" + o.ID + "/end)"
			if o.End != nil {
				until = "until " + o.End.In(d.p.Location).Format(time.DateTime)
			}
			return coded(CodeDowntimeOverlap, fmt.Errorf("%s is already down from %s for %s (stop %s, %s): a minute lost counts against one reason: %w",
				u.ID(), o.Start.In(d.p.Location).Format(time.DateTime), o.Reason, o.ID, until, ErrConflict),
				map[string]any{"station": u.ID(), "other": o.ID, "reason": o.Reason, "start": o.Start})
		}
	}
	return nil
}

// EndStop ends stop id at e.At (default now). Ending it again at the same
// time (a retried delivery), or without a time, answers it as it is.
func (d *DB) EndStop(user, id string, e EndDowntime) (*Downtime, error) {
	var out Downtime
	err := d.update(user, "downtime.end", func(t *tx) error {
		if err := t.Must("dt", id, &out); err != nil {
			return err
		}
		at := e.At
		if out.End != nil {
			if at.IsZero() || at.Equal(*out.End) {
				return nil
			}
			return coded(CodeDowntimeEnded, fmt.Errorf("stop %s ended at %s: %w", id, out.End.In(d.p.Location).Format(time.DateTime), ErrConflict), map[string]any{"end": *out.End})
		}
		if at.IsZero() {
			at = t.Now
		}
		if err := d.checkStopTimes(t.Now, out.Start, &at); err != nil {
			return err
		}
		before := out
		out.End, out.EndedBy = &at, user
		if err := t.put("dt", id, before, out); err != nil {
			return err
		}
		return t.Delete("x/open/dt/dt/" + id)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Downtimes lists stops, by start.
func (d *DB) Downtimes(f DowntimeFilter) ([]Downtime, error) {
	out := []Downtime{}
	err := d.view(func(t *tx) error {
		var ids []string
		switch {
		case f.Station != "":
			u := d.p.FindUnit(f.Station)
			if u == nil {
				return coded(CodeStationUnknown, FieldErr("station", "no machine %q in the plant", f.Station), map[string]any{"station": f.Station})
			}
			ids = t.Keys("x/station/" + u.ID() + "/dt/")
		case f.Open:
			ids = t.Keys("x/open/dt/dt/")
		default:
			ids = t.Keys("dt/")
		}
		dts, err := records[Downtime](t, "dt", ids)
		if err != nil {
			return err
		}
		for _, x := range dts {
			if f.Open && x.End != nil || !f.To.IsZero() && !x.Start.Before(f.To) || !f.From.IsZero() && x.End != nil && !x.End.After(f.From) {
				continue
			}
			out = append(out, x)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, err
}

// kpiStops returns the stops overlapping [from, to) by unit path, for the
// KPI engine; a stop still open runs to now.
func (d *DB) kpiStops(from, to time.Time) (map[string][]kpi.Stop, error) {
	dts, err := d.Downtimes(DowntimeFilter{From: from, To: to})
	if err != nil {
		return nil, err
	}
	out := map[string][]kpi.Stop{}
	now := d.now()
	for _, x := range dts {
		end := now
		if x.End != nil {
			end = *x.End
		}
		loss := kpi.LossAvailability
		switch x.Loss {
		case plant.LossSetup:
			loss = kpi.LossSetup
		case plant.LossPlanned:
			loss = kpi.LossPlanned
		}
		out[x.Station] = append(out[x.Station], kpi.Stop{From: x.Start.UnixNano(), To: end.UnixNano(), Reason: x.Reason, Loss: loss})
	}
	return out, nil
}
