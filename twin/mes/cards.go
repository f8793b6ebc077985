package mes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"twin/plant"
	"twin/twin/mes/qrcode"
	"twin/twin/mes/recstore"
)

// Operation statuses.
const (
	OpPending   = "pending"
	OpStarted   = "started"
	OpConfirmed = "confirmed"
)

// Unit statuses.
const (
	UnitInProcess = "in_process"
	UnitRework    = "rework"
	UnitPassed    = "passed"
	UnitAccepted  = "accepted" // nonconforming, accepted as is (concession)
	UnitScrapped  = "scrapped"
)

// Operation is one operation of a work order: its card on the floor.
type Operation struct {
	ID             string   `json:"id"`
	WorkOrder      string   `json:"work_order"`
	Order          string   `json:"order"`
	Item           string   `json:"item"`
	Seq            int      `json:"seq" doc:"10, 20, … along the routing"`
	Op             string   `json:"op" doc:"the routing's operation id"`
	Name           string   `json:"name"`
	WorkCenters    []string `json:"work_centers" doc:"where it may run, in order of preference"`
	Inspect        bool     `json:"inspect" doc:"a quality check with an inspection plan"`
	Planned        int      `json:"planned" doc:"quantity to make"`
	PlannedSeconds float64  `json:"planned_seconds" doc:"planned run time per item (ISO 22400 PRI)"`
	Status         string   `json:"status" enum:"pending,started,confirmed"`
	Station        string   `json:"station,omitempty" doc:"the machine (equipment path) it runs on"`

	StartedAt     time.Time  `json:"started_at,omitzero"`
	StartedBy     string     `json:"started_by,omitempty" doc:"worker"`
	ConfirmedAt   time.Time  `json:"confirmed_at,omitzero"`
	ConfirmedBy   string     `json:"confirmed_by,omitempty" doc:"worker"`
	Good          int        `json:"good" doc:"good units counted: the partial confirmations' and the final one's"`
	Scrap         int        `json:"scrap" doc:"scrap counted: the partial confirmations' and the final one's"`
	Reports       int        `json:"reports,omitempty" doc:"partial confirmations (action report) so far"`
	ScrapReasons  []Tally    `json:"scrap_reasons,omitempty" doc:"the scrap by reason (code; \"\" when given without one)"`
	AtStart       *Reading   `json:"at_start,omitempty" doc:"the machine's counters and energy meter when it started"`
	Machine       *Reading   `json:"machine,omitempty" doc:"what the machine counted while it ran (live until confirmed)"`
	Mismatch      bool       `json:"mismatch,omitempty" doc:"the confirmed good quantity disagrees with the machine's count (see flags)"`
	Shared        bool       `json:"shared,omitempty" doc:"another operation ran on the machine meanwhile: its count is not this operation's alone, so it is not compared"`
	Confirmations int        `json:"confirmations" doc:"1 once confirmed; never more"`
	Overrides     []Override `json:"overrides,omitempty" doc:"scans a supervisor accepted against the routing's rules"`
}

// Reading is a machine's counters and energy meter.
type Reading struct {
	Good      float64 `json:"good"`
	Reject    float64 `json:"reject"`
	EnergyKWh float64 `json:"energy_kwh"`
}

// Scan is a card scanned at a terminal.
type Scan struct {
	Token    string `json:"token" maxlen:"256" doc:"the card's QR text"`
	Action   string `json:"action,omitempty" maxlen:"16" enum:"start,confirm,report" doc:"empty: start a pending operation, confirm a started one; report: a partial confirmation (a shift's count): its good and scrap are added, the operation stays started and its good units pass on to the next operation at once; confirm is the final one (its counts are added to what was reported)"`
	ScanID   string `json:"scan_id,omitempty" maxlen:"64" doc:"the terminal's id for this scan: a retried delivery with the same id is answered from the first"`
	Terminal string `json:"terminal,omitempty" maxlen:"64"`
	Worker   string `json:"worker,omitempty" maxlen:"64" doc:"the worker's badge id; default the signed-in user"`
	Station  string `json:"station,omitempty" maxlen:"200" doc:"machine id or path; needed when the work centre has several"`
	Good     *int   `json:"good,omitempty" doc:"confirm: good quantity (default what the operation before passed on, or the planned quantity for the first, less what was counted before and the scrap); report: the good units of this count (default 0)"`
	Scrap    *int   `json:"scrap,omitempty"`
	// ScrapReason is why the scrap was scrapped: required with scrap
	// when the plant lists scrap reasons.
	ScrapReason string    `json:"scrap_reason,omitempty" maxlen:"32" doc:"a code of the plant's scrap_reasons (GET /floor, or the card's scrap_reasons): required when scrap > 0 and the plant lists reasons (400 scrap_reason_unknown otherwise)"`
	At          time.Time `json:"at,omitzero" doc:"when it was scanned (terminals buffering offline); default now"`
	Override    string    `json:"override,omitempty" maxlen:"1000" doc:"a supervisor's reason to accept a scan the routing refuses (started before the operation that feeds it, or confirming more than was passed on); needs the role supervisor and is recorded (GET /audit?kind=override); ignored when the scan breaks no rule"`
}

// ScanResult is what a scan did.
type ScanResult struct {
	Action    string    `json:"action" enum:"started,confirmed,reported"`
	Duplicate bool      `json:"duplicate" doc:"nothing changed: the operation was already in this state (a repeated or concurrent scan)"`
	Operation Operation `json:"operation"`
	Flag      *Flag     `json:"flag,omitempty" doc:"a manual count that disagrees with the machine's"`
	Override  *Override `json:"override,omitempty" doc:"the supervisor's override this scan made"`
	Count     *Count    `json:"count,omitempty" doc:"the count this scan recorded (report and confirm)"`
}

// Count is one count of an operation's units: a partial confirmation
// (action report) or the final one (confirm), who made it, when, and why
// its scrap was scrapped. Its good and scrap are what this count added.
type Count struct {
	ID          string    `json:"id"`
	Operation   string    `json:"operation"`
	Order       string    `json:"order"`
	WorkOrder   string    `json:"work_order"`
	Station     string    `json:"station,omitempty"`
	Action      string    `json:"action" enum:"report,confirm"`
	ScanID      string    `json:"scan_id,omitempty"`
	Worker      string    `json:"worker"`
	By          string    `json:"by" doc:"the signed-in user who sent it"`
	At          time.Time `json:"at"`
	Good        int       `json:"good"`
	Scrap       int       `json:"scrap"`
	ScrapReason string    `json:"scrap_reason,omitempty"`
}

// Tally is a count by code.
type Tally struct {
	Code string `json:"code"`
	N    int    `json:"n"`
}

// addTally adds n to code's entry of ts.
func addTally(ts []Tally, code string, n int) []Tally {
	for i := range ts {
		if ts[i].Code == code {
			ts[i].N += n
			return ts
		}
	}
	return append(ts, Tally{Code: code, N: n})
}

// Flag is a disagreement the records keep rather than merge.
type Flag struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind" enum:"count_mismatch"`
	Operation string    `json:"operation"`
	Order     string    `json:"order"`
	Station   string    `json:"station"`
	Manual    float64   `json:"manual"`
	Machine   float64   `json:"machine"`
	At        time.Time `json:"at"`
	Text      string    `json:"text"`
}

// CardToken returns the signed token an operation's card carries:
// "v1.<operation id, base64url>.<HMAC-SHA256 over both, 16 bytes>". The
// key is the server's (DIR/mes/card.key): a card cannot be made or
// altered without it.
func (d *DB) CardToken(op string) string {
	body := "v1." + base64.RawURLEncoding.EncodeToString([]byte(op))
	return body + "." + d.sign(body)
}

func (d *DB) sign(body string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// ErrBadToken is a card token that is malformed, forged or altered.
var ErrBadToken = errors.New("not a valid card: forged, altered or from another plant")

// VerifyToken returns the operation a card token names, or ErrBadToken.
func (d *DB) VerifyToken(tok string) (string, error) {
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return "", ErrBadToken
	}
	body := parts[0] + "." + parts[1]
	if !hmac.Equal([]byte(d.sign(body)), []byte(parts[2])) {
		return "", ErrBadToken
	}
	op, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", ErrBadToken
	}
	return string(op), nil
}

// Card renders an operation's QR code as PNG ("png") or SVG ("svg").
func (d *DB) Card(op, format string, scale int) ([]byte, error) {
	if _, err := d.Operation(op); err != nil {
		return nil, err
	}
	c, err := qrcode.Encode(d.CardToken(op))
	if err != nil {
		return nil, err
	}
	if format == "svg" {
		return c.SVG(scale), nil
	}
	return c.PNG(scale), nil
}

// Operation returns an operation, with the machine's count so far when it
// is running.
func (d *DB) Operation(id string) (*Operation, error) {
	o := new(Operation)
	if err := d.view(func(t *tx) error { return t.Must("op", id, o) }); err != nil {
		return nil, err
	}
	d.liveCount(o)
	return o, nil
}

// liveCount fills a started operation's machine count from the live link.
func (d *DB) liveCount(o *Operation) {
	if o.Status != OpStarted || o.AtStart == nil || d.link == nil {
		return
	}
	if r, ok := d.link.reading(o.Station); ok {
		o.Machine = &Reading{Good: r.Good - o.AtStart.Good, Reject: r.Reject - o.AtStart.Reject, EnergyKWh: r.EnergyKWh - o.AtStart.EnergyKWh}
	}
}

// OperationFilter selects operations.
type OperationFilter struct {
	Order, WorkOrder, Station, Status string
}

// Operations lists operations.
func (d *DB) Operations(f OperationFilter, cursor string, limit int) (Page[Operation], error) {
	var p Page[Operation]
	keep := func(o *Operation) bool {
		return (f.Status == "" || o.Status == f.Status) && (f.WorkOrder == "" || o.WorkOrder == f.WorkOrder) &&
			(f.Station == "" || o.Station == f.Station || strings.HasSuffix(o.Station, "/"+f.Station))
	}
	err := d.view(func(t *tx) (err error) {
		switch {
		case f.Order != "":
			p, err = listIndex(t, "x/order/"+f.Order+"/op/", "op", cursor, limit, keep)
		case f.WorkOrder != "":
			p, err = list(t, "op/"+f.WorkOrder+"-", cursor, limit, keep)
		default:
			p, err = list(t, "op/", cursor, limit, keep)
		}
		return err
	})
	for i := range p.Items {
		d.liveCount(&p.Items[i])
	}
	return p, err
}

// unitFor resolves the machine an operation runs on.
func (d *DB) unitFor(o *Operation, station string) (*plant.Unit, error) {
	var cands []*plant.Unit
	for _, wc := range d.p.WorkCenters {
		for _, id := range o.WorkCenters {
			if wc.ID() == id {
				cands = append(cands, wc.Units...)
			}
		}
	}
	if station == "" {
		if len(cands) == 1 {
			return cands[0], nil
		}
		return nil, FieldErr("station", "required: %s runs on %d machines (%s)", o.Op, len(cands), unitIDs(cands))
	}
	for _, u := range cands {
		if u.ID() == station || u.Path() == station {
			return u, nil
		}
	}
	return nil, FieldErr("station", "%q cannot do operation %s; it runs on %s", station, o.Op, unitIDs(cands))
}

func unitIDs(us []*plant.Unit) string {
	var s []string
	for _, u := range us {
		s = append(s, u.ID())
	}
	return strings.Join(s, ", ")
}

// DoScan carries out a card scan. It is idempotent: a scan whose ScanID
// was seen returns the first answer; a start of a started operation or a
// confirmation of a confirmed one changes nothing and says Duplicate.
// Two terminals confirming at once both read the card as started; the
// database lets one commit and retries the other, which then finds it
// confirmed. A scan that breaks the routing's rules (routing.go) is
// refused with a *SequenceError, unless it carries an override from a
// user with the supervisor role.
func (d *DB) DoScan(user string, s Scan) (res *ScanResult, err error) {
	defer func() { d.scans.count(res, err) }()
	opID, worker, err := d.checkScan(user, &s)
	if err != nil {
		return nil, err
	}
	err = d.update(user, "scan", func(t *tx) error {
		res = &ScanResult{}
		at := s.At
		if at.IsZero() {
			at = t.Now
		}
		if s.ScanID != "" {
			var prev ScanResult
			if ok, err := t.Get("scan/"+s.ScanID, &prev); err != nil || ok {
				if ok { // a retried delivery: the first one's answer
					*res = prev
					res.Duplicate = true
					return t.Must("op", prev.Operation.ID, &res.Operation)
				}
				return err
			}
		}
		var o Operation
		if err := t.Must("op", opID, &o); err != nil {
			return err
		}
		action := s.Action
		if action == "" {
			action = "confirm"
			if o.Status == OpPending {
				action = "start"
			}
		}
		before := o
		t.Action = "scan." + action
		switch {
		case action == "start" && o.Status != OpPending:
			res.Action, res.Duplicate = "started", true
		case action == "confirm" && o.Status == OpConfirmed:
			res.Action, res.Duplicate = "confirmed", true
		case action == "report" && o.Status == OpPending:
			return coded(CodeReportNotStarted, fmt.Errorf("%s has not started: start it before reporting a count (or confirm it, which starts it too): %w", o.ID, ErrConflict), map[string]any{"operation": o.ID})
		case action == "report" && o.Status == OpConfirmed:
			return coded(CodeReportConfirmed, fmt.Errorf("%s is confirmed (good %d, scrap %d): it takes no more counts; a correction is a supervisor's (make-up or nonconformance): %w", o.ID, o.Good, o.Scrap, ErrConflict),
				map[string]any{"operation": o.ID, "good": o.Good, "scrap": o.Scrap})
		default:
			res.Action = map[string]string{"start": "started", "confirm": "confirmed", "report": "reported"}[action]
			if err := d.scan(t, user, worker, action, &o, s, at, res); err != nil {
				return err
			}
			if err := t.put("op", o.ID, before, o); err != nil {
				return err
			}
		}
		res.Operation = o
		if s.ScanID != "" {
			return t.Set("scan/"+s.ScanID, ScanResult{Action: res.Action, Operation: Operation{ID: o.ID}, Count: res.Count})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.liveCount(&res.Operation)
	return res, nil
}

// checkScan checks a scan's fields and returns the operation its token
// names and the worker (by default the user).
func (d *DB) checkScan(user string, s *Scan) (op, worker string, err error) {
	op, err = d.VerifyToken(s.Token)
	if err != nil {
		return "", "", &FieldError{Field: "token", Msg: err.Error()}
	}
	if s.Action != "" && s.Action != "start" && s.Action != "confirm" && s.Action != "report" {
		return "", "", FieldErr("action", "want start, confirm, report or empty, got %q", s.Action)
	}
	if s.Action == "report" && (s.Good == nil || *s.Good == 0) && (s.Scrap == nil || *s.Scrap == 0) {
		return "", "", FieldErr("good", "a report needs good or scrap units to count")
	}
	if s.ScanID != "" {
		if err := validID("scan_id", s.ScanID); err != nil {
			return "", "", err
		}
	}
	if s.Good != nil && *s.Good < 0 {
		return "", "", FieldErr("good", "negative")
	}
	if s.Scrap != nil && *s.Scrap < 0 {
		return "", "", FieldErr("scrap", "negative")
	}
	s.Override = strings.TrimSpace(s.Override)
	if len(s.Override) > 500 {
		return "", "", FieldErr("override", "longer than 500 characters: say in a sentence why the routing is overridden")
	}
	worker = s.Worker
	if worker == "" {
		worker = user
	}
	if err := validID("worker", worker); err != nil {
		return "", "", err
	}
	return op, worker, nil
}

// scan starts or confirms operation o (action) in the routing's
// sequence: the rules are checked before anything changes (a
// confirmation's include its start's), and a scan that breaks one needs
// a supervisor's override.
func (d *DB) scan(t *tx, user, worker, action string, o *Operation, s Scan, at time.Time, res *ScanResult) error {
	var w WorkOrder
	if err := t.Must("wo", o.WorkOrder, &w); err != nil {
		return err
	}
	srcs, err := d.sources(t, o, &w)
	if err != nil {
		return err
	}
	var broken []Broken
	starting := o.Status == OpPending
	if action == "start" {
		broken = startRules(o, srcs)
	}
	good, scrap := 0, 0
	counting := action == "confirm" || action == "report"
	if counting {
		if s.Scrap != nil {
			scrap = *s.Scrap
		}
		if action == "confirm" { // default: what was passed on, less what was counted and the scrap
			good = max(passedOn(o, srcs)-o.Good-o.Scrap-scrap, 0)
		}
		if s.Good != nil {
			good = *s.Good
		}
		if n := o.Good + o.Scrap + good + scrap; n > o.Planned {
			if o.Good+o.Scrap > 0 {
				return FieldErr("good", "good %d + scrap %d after the %d counted before is more than the %d planned", good, scrap, o.Good+o.Scrap, o.Planned)
			}
			return FieldErr("good", "good %d + scrap %d is more than the %d planned", good, scrap, o.Planned)
		}
		if err := d.checkScrapReason(o, w.Routing, scrap, s.ScrapReason); err != nil {
			return err
		}
		broken = append(broken, confirmRules(o, srcs, good, scrap)...)
	}
	if len(broken) > 0 {
		ov, err := d.override(t, user, worker, o, s.Override, broken, at)
		if err != nil {
			return err
		}
		o.Overrides = append(o.Overrides, *ov)
		res.Override = ov
		t.Action += ".override"
	}
	if starting {
		if err := d.start(t, o, &w, s.Station, worker, at); err != nil {
			return err
		}
	}
	if counting {
		c, err := d.count(t, user, worker, action, o, s, good, scrap, at)
		if err != nil {
			return err
		}
		res.Count = c
	}
	switch action {
	case "confirm":
		f, err := d.confirm(t, o, &w, o.Good+good, o.Scrap+scrap, s.Station, worker, at)
		if err != nil {
			return err
		}
		res.Flag = f
	case "report":
		if s.Station != "" { // counted at another machine of the work centre: fine, if it can do the operation
			if _, err := d.unitFor(o, s.Station); err != nil {
				return err
			}
		}
		o.Good, o.Scrap = o.Good+good, o.Scrap+scrap
		o.Reports++
		if w.Final && scrap > 0 {
			return d.progress(t, o, at)
		}
	}
	return nil
}

// checkScrapReason checks a count's scrap reason: one of the plant's
// (and of those the operation offers), required with scrap when the
// plant lists any.
func (d *DB) checkScrapReason(o *Operation, routing string, scrap int, reason string) error {
	offered := d.scrapReasonsOf(d.routingOp(routing, o.Op))
	codes := make([]string, 0, len(offered))
	for _, r := range offered {
		codes = append(codes, r.Code)
	}
	switch {
	case reason == "":
		return nil // the API requires one with scrap (ScrapReasonGiven); in-process floors may give none
	case slices.ContainsFunc(offered, func(r plant.Reason) bool { return r.Code == reason }):
		return nil
	case d.p.ScrapReason(reason) != nil:
		return coded(CodeScrapReasonUnknown, FieldErr("scrap_reason", "%q is not a scrap reason of operation %s (%s): want one of %s", reason, o.Op, o.ID, strings.Join(codes, ", ")),
			map[string]any{"operation": o.ID, "reason": reason, "reasons": codes})
	}
	known := "the plant lists none: leave it out"
	if len(codes) > 0 {
		known = "want one of " + strings.Join(codes, ", ")
	}
	return coded(CodeScrapReasonUnknown, FieldErr("scrap_reason", "no scrap reason %q in the plant's list (%s)", reason, known),
		map[string]any{"operation": o.ID, "reason": reason, "reasons": codes})
}

// ScrapReasonGiven checks that a scan with scrap names its reason when the
// plant lists scrap reasons: what the records API asks of every terminal.
// (DoScan itself takes scrap without a reason, counted under "", from
// in-process floors such as the virtual plant's, whose scrap has no
// reason; a reason it is given must be one of the operation's.)
func (d *DB) ScrapReasonGiven(s Scan) error {
	if s.Scrap == nil || *s.Scrap == 0 || s.ScrapReason != "" || len(d.p.ScrapReasons) == 0 {
		return nil
	}
	codes := []string{}
	if op, err := d.VerifyToken(s.Token); err == nil {
		if o, err := d.Operation(op); err == nil {
			if w, err := d.WorkOrder(o.WorkOrder); err == nil {
				for _, r := range d.scrapReasonsOf(d.routingOp(w.Routing, o.Op)) {
					codes = append(codes, r.Code)
				}
			}
		}
	}
	if len(codes) == 0 {
		for _, r := range d.p.ScrapReasons {
			codes = append(codes, r.Code)
		}
	}
	return coded(CodeScrapReasonUnknown, FieldErr("scrap_reason", "required with scrap %d: say why, one of %s", *s.Scrap, strings.Join(codes, ", ")),
		map[string]any{"reasons": codes})
}

// count records a count of operation o (a report or the final confirm):
// its record, indexed by operation, order and time, and o's scrap by
// reason.
func (d *DB) count(t *tx, user, worker, action string, o *Operation, s Scan, good, scrap int, at time.Time) (*Count, error) {
	n, err := t.NextID()
	if err != nil {
		return nil, err
	}
	c := &Count{ID: fmt.Sprintf("CT-%06d", n), Operation: o.ID, Order: o.Order, WorkOrder: o.WorkOrder, Station: o.Station, Action: action,
		ScanID: s.ScanID, Worker: worker, By: user, At: at, Good: good, Scrap: scrap}
	if scrap > 0 {
		c.ScrapReason = s.ScrapReason
		o.ScrapReasons = addTally(o.ScrapReasons, s.ScrapReason, scrap)
	}
	if s.Station != "" {
		if u := d.p.FindUnit(s.Station); u != nil {
			c.Station = u.Path()
		}
	}
	if err := t.put("cnt", c.ID, nil, c); err != nil {
		return nil, err
	}
	if err := t.Index("order", o.Order, "cnt", c.ID); err != nil {
		return nil, err
	}
	if err := t.Index("op", o.ID, "cnt", c.ID); err != nil {
		return nil, err
	}
	return c, t.Index("time", "count", "cnt", recstore.TimeKey(at, c.ID))
}

// start starts pending operation o of work order w: not on a work order
// or order that is over.
func (d *DB) start(t *tx, o *Operation, w *WorkOrder, station, worker string, at time.Time) error {
	var ord Order
	if err := t.Must("order", o.Order, &ord); err != nil {
		return err
	}
	switch {
	case ord.Status == StatusCompleted || ord.Status == StatusCancelled:
		return fmt.Errorf("order %s is %s: its cards take no more starts (a started card can still be confirmed with what it made): %w", ord.ID, ord.Status, ErrConflict)
	case w.Status == StatusClosed || w.Status == StatusCancelled:
		return fmt.Errorf("work order %s is %s: its cards take no more starts: %w", w.ID, w.Status, ErrConflict)
	}
	u, err := d.unitFor(o, station)
	if err != nil {
		return err
	}
	o.Status, o.Station, o.StartedAt, o.StartedBy = OpStarted, u.Path(), at, worker
	if d.link != nil {
		if r, ok := d.link.reading(u.Path()); ok {
			o.AtStart = &r
		}
	}
	if err := t.Index("station", u.ID(), "op", o.ID); err != nil {
		return err
	}
	// operations running on the machine at once share its count; the
	// active key's value says whether its operation is marked shared yet
	// (so a start reads only the operations it has to change)
	active := "x/active/" + u.ID() + "/"
	var unmarked []string
	t.Scan(active, "", func(id string, size int64) bool {
		o.Shared = true
		if size == 0 {
			unmarked = append(unmarked, id)
		}
		return true
	})
	for _, id := range unmarked {
		var x Operation
		if ok, err := t.Get("op/"+id, &x); err != nil {
			return err
		} else if ok && !x.Shared {
			xb := x
			x.Shared = true
			if err := t.put("op", x.ID, xb, x); err != nil {
				return err
			}
		}
		if err := t.Mark(active+id, []byte{1}); err != nil {
			return err
		}
	}
	var mark []byte
	if o.Shared {
		mark = []byte{1}
	}
	if err := t.Mark(active+o.ID, mark); err != nil {
		return err
	}
	if err := d.clock(t, worker, o, true, at); err != nil {
		return err
	}
	// the work order and the order are in progress
	if w.Status == StatusReleased {
		wb := *w
		w.Status = StatusInProgress
		if err := t.put("wo", w.ID, wb, w); err != nil {
			return err
		}
	}
	if ord.Status == StatusReleased {
		ob := ord
		ord.Status, ord.Started = StatusInProgress, at
		return t.put("order", ord.ID, ob, ord)
	}
	return nil
}

// confirm confirms operation o of work order w with good and scrap. The
// work order completes when its last operation confirms its quantity
// good; the order's counts follow its final work orders.
func (d *DB) confirm(t *tx, o *Operation, w *WorkOrder, good, scrap int, station, worker string, at time.Time) (*Flag, error) {
	if station != "" { // confirmed at another machine of the work centre: fine, if it can do the operation
		if _, err := d.unitFor(o, station); err != nil {
			return nil, err
		}
	}
	o.Status, o.ConfirmedAt, o.ConfirmedBy, o.Good, o.Scrap = OpConfirmed, at, worker, good, scrap
	o.Confirmations++
	var flag *Flag
	if err := t.Delete("x/active/" + path.Base(o.Station) + "/" + o.ID); err != nil {
		return nil, err
	}
	if d.link != nil && o.AtStart != nil {
		if r, ok := d.link.reading(o.Station); ok {
			o.Machine = &Reading{Good: r.Good - o.AtStart.Good, Reject: r.Reject - o.AtStart.Reject, EnergyKWh: r.EnergyKWh - o.AtStart.EnergyKWh}
			if !o.Shared && math.Abs(o.Machine.Good-float64(good)) >= 0.5 {
				o.Mismatch = true
				n, err := t.NextID()
				if err != nil {
					return nil, err
				}
				flag = &Flag{ID: fmt.Sprintf("FL-%06d", n), Kind: "count_mismatch", Operation: o.ID, Order: o.Order, Station: o.Station,
					Manual: float64(good), Machine: o.Machine.Good, At: at,
					Text: fmt.Sprintf("%s confirmed %d good; %s counted %.0f while it ran", worker, good, o.Station, o.Machine.Good)}
				if err := t.put("flag", flag.ID, nil, flag); err != nil {
					return nil, err
				}
				if err := t.Index("order", o.Order, "flag", flag.ID); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := t.Index("time", "confirm", "op", recstore.TimeKey(at, o.ID)); err != nil {
		return nil, err
	}
	// everyone clocked on to the operation clocks off
	for _, w := range t.Keys("x/oncard/" + o.ID + "/") {
		if err := d.clock(t, w, o, false, at); err != nil {
			return nil, err
		}
	}
	last := w.Operations[len(w.Operations)-1] == o.ID
	if last && good >= w.Quantity && (w.Status == StatusReleased || w.Status == StatusInProgress) {
		wb := *w
		w.Status, w.Completed = StatusCompleted, at
		if err := t.put("wo", w.ID, wb, w); err != nil {
			return nil, err
		}
		if err := t.Delete("x/open/wo/wo/" + w.ID); err != nil {
			return nil, err
		}
	}
	if !w.Final || !last && scrap == 0 {
		return flag, nil // nothing the order counts changed
	}
	return flag, d.progress(t, o, at)
}

// progress counts an open order's good units (its final work orders' last
// operations', make-ups included) and scrap (their operations'), and
// completes it when the good reach the ordered quantity: its other open
// work orders are closed with it. o is the operation being confirmed.
func (d *DB) progress(t *tx, o *Operation, at time.Time) error {
	var ord Order
	if err := t.Must("order", o.Order, &ord); err != nil {
		return err
	}
	if ord.Status != StatusReleased && ord.Status != StatusInProgress {
		return nil
	}
	good, scrap, err := t.counts(&ord, o)
	if err != nil {
		return err
	}
	if good == ord.Good && scrap == ord.Scrap {
		return nil
	}
	ob := ord
	ord.Good, ord.Scrap = good, scrap
	if good >= ord.Quantity {
		ord.Status, ord.Completed = StatusCompleted, at
		if err := t.closeWorkOrders(&ord, at); err != nil {
			return err
		}
		if err := t.Index("time", "done", "order", recstore.TimeKey(at, ord.ID)); err != nil {
			return err
		}
	}
	return t.put("order", ord.ID, ob, ord)
}

// counts returns the good units of an order (its final work orders' last
// operations' confirmed good) and its scrap (their operations'); o, when
// not nil, is an operation changed in this transaction.
func (t *tx) counts(ord *Order, o *Operation) (good, scrap int, err error) {
	for _, id := range ord.WorkOrders {
		var w WorkOrder
		if err := t.Must("wo", id, &w); err != nil {
			return 0, 0, err
		}
		if !w.Final {
			continue
		}
		for i, oid := range w.Operations {
			var x Operation
			if o != nil && oid == o.ID {
				x = *o
			} else if err := t.Must("op", oid, &x); err != nil {
				return 0, 0, err
			}
			scrap += x.Scrap
			if i == len(w.Operations)-1 && x.Status == OpConfirmed {
				good += x.Good
			}
		}
	}
	return good, scrap, nil
}

// closeWorkOrders closes the open work orders of an order that is over.
func (t *tx) closeWorkOrders(ord *Order, at time.Time) error {
	for _, id := range ord.WorkOrders {
		var w WorkOrder
		if err := t.Must("wo", id, &w); err != nil {
			return err
		}
		if w.Status != StatusReleased && w.Status != StatusInProgress {
			continue
		}
		wb := w
		w.Status, w.Completed = StatusClosed, at
		if err := t.put("wo", w.ID, wb, w); err != nil {
			return err
		}
		if err := t.Delete("x/open/wo/wo/" + w.ID); err != nil {
			return err
		}
	}
	return nil
}

// Flags lists the flags, newest last.
func (d *DB) Flags(order, cursor string, limit int) (Page[Flag], error) {
	var p Page[Flag]
	err := d.view(func(t *tx) (err error) {
		if order != "" {
			p, err = listIndex[Flag](t, "x/order/"+order+"/flag/", "flag", cursor, limit, nil)
		} else {
			p, err = list[Flag](t, "flag/", cursor, limit, nil)
		}
		return err
	})
	return p, err
}
