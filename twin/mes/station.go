package mes

// Station cards (a QR code the terminal scans to pick its machine) and
// what a worker is clocked on.

import (
	"fmt"
	"sort"
	"time"

	"twin/twin/mes/qrcode"
)

// StationCardText is the QR text of station id's card.
func StationCardText(id string) string { return StationCardPrefix + id }

// StationCard renders station id's card (its QR text twin:station:<id>)
// as PNG ("png") or SVG ("svg"). A machine the plant does not have is
// station_unknown (404).
func (d *DB) StationCard(id, format string, scale int) ([]byte, error) {
	u := d.p.FindUnit(id)
	if u == nil {
		return nil, coded(CodeStationUnknown, fmt.Errorf("no machine %q in the plant (GET /api/v1/floor lists the stations): %w", id, ErrNotFound), map[string]any{"station": id})
	}
	c, err := qrcode.Encode(StationCardText(u.ID()))
	if err != nil {
		return nil, err
	}
	if format == "svg" {
		return c.SVG(scale), nil
	}
	return c.PNG(scale), nil
}

// OnCard is an operation a worker is clocked on, since when.
type OnCard struct {
	Operation string    `json:"operation"`
	Order     string    `json:"order"`
	Station   string    `json:"station,omitempty"`
	Since     time.Time `json:"since"`
	Labour    string    `json:"labour" doc:"the open labour record"`
}

// ClockedOn lists the operations worker is clocked on now, longest first.
func (d *DB) ClockedOn(worker string) ([]OnCard, error) {
	if err := validID("worker", worker); err != nil {
		return nil, err
	}
	out := []OnCard{}
	err := d.view(func(t *tx) error {
		for _, op := range t.Keys("clock/" + worker + "/") {
			var id string
			if ok, err := t.Get("clock/"+worker+"/"+op, &id); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			var l Labour
			if err := t.Must("lab", id, &l); err != nil {
				return err
			}
			out = append(out, OnCard{Operation: l.Operation, Order: l.Order, Station: l.Station, Since: l.On, Labour: l.ID})
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out, err
}
