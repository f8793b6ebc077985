package mes

// What the shop floor's screens read: the plant's stations and reasons
// (Floor), and what a scanned card is (LookUpCard).

import (
	"encoding/base64"

	"fmt"
	"strings"
	"time"

	"twin/plant"
)

// CodedError is a refusal with a stable code (the API's "code") and the
// values a translated message needs ("args"). It wraps the error that
// gives its HTTP status (ErrNotFound, ErrConflict, a *FieldError).
type CodedError struct {
	Err  error
	code string
	args map[string]any
}

func (e *CodedError) Error() string { return e.Err.Error() }

func (e *CodedError) Unwrap() error { return e.Err }

// Code is the refusal's stable code.
func (e *CodedError) Code() string { return e.code }

// Args are the values its message names.
func (e *CodedError) Args() map[string]any { return e.args }

// coded wraps err with a code and its args.
func coded(code string, err error, args map[string]any) error {
	return &CodedError{Err: err, code: code, args: args}
}

// Codes of the floor's refusals.
const (
	CodeCardUnknown            = "card_unknown"            // a well-formed card this plant never signed, or whose operation is gone
	CodeCardInvalid            = "card_invalid"            // not a card's text at all (or a station's card where an operation's was wanted)
	CodeScrapReasonUnknown     = "scrap_reason_unknown"    // a scrap reason the plant (or the operation) does not list, or none with scrap
	CodeDowntimeReasonUnknown  = "downtime_reason_unknown" // a stop reason the plant does not list
	CodeStationUnknown         = "station_unknown"         // a station the plant does not have
	CodeDowntimeOverlap        = "downtime_overlap"        // a stop overlapping another of the same station
	CodeDowntimeFuture         = "downtime_future"         // a stop starting (or ending) in the future
	CodeDowntimeEndBeforeStart = "downtime_end_before_start"
	CodeDowntimeEnded          = "downtime_ended"     // ending a stop that has ended, at another time
	CodeReportConfirmed        = "report_confirmed"   // a partial confirmation of an operation that is confirmed
	CodeReportNotStarted       = "report_not_started" // a partial confirmation of an operation that has not started
)

// Station is a machine as the floor's screens list it.
type Station struct {
	ID         string `json:"id" doc:"the machine's id (the QR text of its station card is twin:station:<id>)"`
	Path       string `json:"path" doc:"its equipment path"`
	Name       string `json:"name"`
	WorkCenter string `json:"work_center"`
	Line       string `json:"line,omitempty"`
}

// FloorInfo is what the floor's screens need from the plant.
type FloorInfo struct {
	Plant           string         `json:"plant"`
	Name            string         `json:"name,omitempty"`
	Zone            string         `json:"zone" doc:"the plant's IANA time zone: every time a person reads is in it"`
	Locale          string         `json:"locale" enum:"zh-CN,en" doc:"the language the screens open in"`
	Stations        []Station      `json:"stations"`
	DowntimeReasons []plant.Reason `json:"downtime_reasons"`
	ScrapReasons    []plant.Reason `json:"scrap_reasons"`
}

// Floor returns the plant's stations and reasons.
func (d *DB) Floor() FloorInfo {
	p := d.p
	f := FloorInfo{Plant: p.ID, Name: p.Name, Zone: p.Location.String(), Locale: p.Locale, Stations: []Station{},
		DowntimeReasons: nonNil(p.DowntimeReasons), ScrapReasons: nonNil(p.ScrapReasons)}
	if f.Locale == "" {
		f.Locale = plant.LocaleEN
	}
	for _, u := range p.Units {
		s := Station{ID: u.ID(), Path: u.Path(), Name: u.Node.Name, WorkCenter: u.WorkCenter.ID()}
		if n := u.WorkCenter.Node; n != nil && n.Parent != nil {
			s.Line = n.Parent.ID
		}
		if s.Name == "" {
			s.Name = s.ID
		}
		f.Stations = append(f.Stations, s)
	}
	return f
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Counted is an operation's counts so far.
type Counted struct {
	Good  int `json:"good"`
	Scrap int `json:"scrap"`
}

// CardOrder is the order a card belongs to, as the card's screen shows it.
type CardOrder struct {
	ID       string    `json:"id"`
	Customer string    `json:"customer"`
	Product  string    `json:"product"`
	Quantity int       `json:"quantity"`
	Due      time.Time `json:"due"`
	Status   string    `json:"status"`
}

// CardView is what a scanned card is: its operation, order, station and
// instructions, and what a scan of it would do next.
type CardView struct {
	Operation    Operation      `json:"operation"`
	Order        CardOrder      `json:"order"`
	WorkOrder    string         `json:"work_order"`
	Station      string         `json:"station" doc:"the machine it runs on (equipment path), or the only one it can; empty when the operator picks among stations"`
	Stations     []string       `json:"stations" doc:"the machines (ids) that can do it"`
	Instructions *plant.Text    `json:"instructions" doc:"the routing's work instructions; null: none"`
	Next         string         `json:"next" enum:"start,confirm,done" doc:"what a scan without action does: start a pending operation, confirm a started one; done: confirmed"`
	Confirmed    Counted        `json:"confirmed" doc:"good and scrap counted so far (partial confirmations and the final one)"`
	Available    int            `json:"available" doc:"units the step before has passed on (for the first operation: the planned quantity)"`
	Remaining    int            `json:"remaining" doc:"available less what this operation has counted: units waiting here"`
	ScrapReasons []plant.Reason `json:"scrap_reasons" doc:"the scrap reasons this operation offers"`
}

// StationCardPrefix starts the QR text of a station's card.
const StationCardPrefix = "twin:station:"

// LookUpCard says what a card's QR text is. Text that is not a card is
// refused with card_invalid (400); a card this plant did not sign, or
// whose operation is not in the records, with card_unknown (404).
func (d *DB) LookUpCard(token string) (*CardView, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, coded(CodeCardInvalid, FieldErr("token", "required: the text the card's QR code carries"), nil)
	}
	if id, ok := strings.CutPrefix(token, StationCardPrefix); ok {
		return nil, coded(CodeCardInvalid, FieldErr("token", "%q is the card of station %s, not of an operation: scan the operation's card", token, id),
			map[string]any{"station": id})
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, coded(CodeCardInvalid, FieldErr("token", "not an operation card's text (want v1.<operation>.<signature>): scan the card again, or type it as printed"), nil)
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
		return nil, coded(CodeCardInvalid, FieldErr("token", "not an operation card's text: its middle part is not base64url"), nil)
	}
	opID, err := d.VerifyToken(token)
	if err != nil {
		return nil, coded(CodeCardUnknown, fmt.Errorf("this card was not made by this plant's records, or was altered: ask the planner for a new card: %w", ErrNotFound), nil)
	}
	v := &CardView{}
	var routing string
	err = d.view(func(t *tx) error {
		if ok, err := t.Get("op/"+opID, &v.Operation); err != nil || !ok {
			if err == nil {
				err = coded(CodeCardUnknown, fmt.Errorf("card of operation %s, which is not in the records (a card of a deleted or restored database?): %w", opID, ErrNotFound),
					map[string]any{"operation": opID})
			}
			return err
		}
		o := &v.Operation
		var w WorkOrder
		if err := t.Must("wo", o.WorkOrder, &w); err != nil {
			return err
		}
		var ord Order
		if err := t.Must("order", o.Order, &ord); err != nil {
			return err
		}
		v.Order = CardOrder{ID: ord.ID, Customer: ord.Customer, Product: ord.Product, Quantity: ord.Quantity, Due: ord.Due, Status: ord.Status}
		v.WorkOrder, routing = w.ID, w.Routing
		srcs, err := d.sources(t, o, &w)
		if err != nil {
			return err
		}
		v.Available = available(o, srcs)
		return nil
	})
	if err != nil {
		return nil, err
	}
	o := &v.Operation
	d.liveCount(o)
	v.Confirmed = Counted{Good: o.Good, Scrap: o.Scrap}
	v.Remaining = max(v.Available-o.Good-o.Scrap, 0)
	v.Next = map[string]string{OpPending: "start", OpStarted: "confirm", OpConfirmed: "done"}[o.Status]
	v.Stations = []string{}
	for _, wc := range d.p.WorkCenters {
		for _, id := range o.WorkCenters {
			if wc.ID() == id {
				for _, u := range wc.Units {
					v.Stations = append(v.Stations, u.ID())
				}
			}
		}
	}
	v.Station = o.Station
	if v.Station == "" && len(v.Stations) == 1 {
		v.Station = d.p.FindUnit(v.Stations[0]).Path()
	}
	po := d.routingOp(routing, o.Op)
	v.ScrapReasons = d.scrapReasonsOf(po)
	if po != nil {
		v.Instructions = po.Instructions
	}
	return v, nil
}

// routingOp returns operation op of routing id, or nil.
func (d *DB) routingOp(routing, op string) *plant.Operation {
	for _, r := range d.p.Routings {
		if r.ID != routing {
			continue
		}
		for _, x := range r.Ops {
			if x.ID == op {
				return x
			}
		}
	}
	return nil
}

// scrapReasonsOf returns the scrap reasons an operation offers: those it
// names, or all the plant's.
func (d *DB) scrapReasonsOf(po *plant.Operation) []plant.Reason {
	if po == nil || po.ScrapReasons == nil {
		return nonNil(d.p.ScrapReasons)
	}
	out := []plant.Reason{}
	for _, c := range po.ScrapReasons {
		if r := d.p.ScrapReason(c); r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// available is what the sources of o have passed on to it: the planned
// quantity for the first operation, else the least of its sources'.
func available(o *Operation, srcs []source) int {
	n := o.Planned
	for _, s := range srcs {
		n = min(n, s.passed())
	}
	return n
}
