package mes

// The routing's rules for scans. Units flow along a work order's
// operations one by one, so an operation may start once the one before it
// has started; it may count (good + scrap, its partial confirmations and
// the final one together) no more than the one before it has passed on:
// the good that one confirmed or reported so far (a partial confirmation,
// action report, passes its good units on at once). The first operation is
// bounded by the planned quantity. An operation that joins parts made by
// other work orders of the order (the routing's consumes: press-fit joins
// the rotors, assembly the stators) is also bounded by what those work
// orders finished: their last operation's good over the parts per unit.
// A scan that breaks a rule is refused (SequenceError, 409), or accepted
// with a supervisor's override and its reason, which is kept as a record
// of its own (kind override) with its audit entry.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"twin/plant"
)

// The rules a scan can break.
const (
	RuleStartBeforePredecessor   = "start_before_predecessor"   // started before the operation that feeds it
	RuleStartBeforeParts         = "start_before_parts"         // a joining operation started before its parts' last operation
	RuleConfirmBeforePredecessor = "confirm_before_predecessor" // confirmed before the operation that feeds it
	RuleMoreThanPassedOn         = "more_than_passed_on"        // good + scrap above what the operation before confirmed good
	RuleConfirmBeforeParts       = "confirm_before_parts"       // a joining operation confirmed before its parts' last operation
	RuleMoreThanParts            = "more_than_parts"            // good + scrap above the units the joined parts make
)

// Broken is a routing rule a scan broke.
type Broken struct {
	Rule   string `json:"rule" enum:"start_before_predecessor,start_before_parts,confirm_before_predecessor,more_than_passed_on,confirm_before_parts,more_than_parts"`
	Need   string `json:"need" doc:"the operation that comes first, or has passed on too few"`
	Passed int    `json:"passed" doc:"units it has passed on to this operation"`
	Asked  int    `json:"asked,omitempty" doc:"good + scrap the scan confirms"`
	Text   string `json:"text" doc:"the rule as the refusal said it"`
}

// Override is a supervisor's acceptance of a scan the routing refuses:
// who, why, and which rules it broke.
type Override struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	Order     string    `json:"order"`
	At        time.Time `json:"at"`
	By        string    `json:"by" doc:"the supervisor: the signed-in user who scanned"`
	Worker    string    `json:"worker,omitempty"`
	Reason    string    `json:"reason"`
	Broken    []Broken  `json:"broken" doc:"the rules overridden"`
}

// OverrideHint ends the message of a SequenceError.
const OverrideHint = "or a supervisor scans it with an override and the reason"

// SequenceError is a scan refused because it breaks the routing's rules.
// It is a conflict (409) with the code out_of_sequence.
type SequenceError struct {
	Operation string
	Broken    []Broken
}

func (e *SequenceError) Error() string {
	var b strings.Builder
	for i, r := range e.Broken {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.Text)
	}
	b.WriteString(" (" + OverrideHint + ")")
	return b.String()
}

func (e *SequenceError) Unwrap() error { return ErrConflict }

// Code is the stable code of the refusal.
func (e *SequenceError) Code() string { return "out_of_sequence" }

// Args are what a translated message needs: the operation, the first
// rule's operation that comes before it, what that one passed on and
// what the scan asked for.
func (e *SequenceError) Args() map[string]any {
	args := map[string]any{"operation": e.Operation}
	if len(e.Broken) > 0 {
		b := e.Broken[0]
		args["rule"], args["before"], args["passed"], args["asked"] = b.Rule, b.Need, b.Passed, b.Asked
	}
	return args
}

// source is what feeds an operation: the operation before it in its work
// order, or the part work orders whose parts it joins.
type source struct {
	part string      // the part joined; "" for the operation before
	per  int         // parts per unit
	wos  []string    // the part work orders
	ops  []Operation // the operation before, or the part work orders' last operations
}

func (s *source) started() bool {
	return slices.ContainsFunc(s.ops, func(o Operation) bool { return o.Status != OpPending })
}

func (s *source) confirmed() bool {
	return slices.ContainsFunc(s.ops, func(o Operation) bool { return o.Status == OpConfirmed })
}

// passing says whether the source has passed anything on: it confirmed,
// or reported good units while it runs.
func (s *source) passing() bool {
	return slices.ContainsFunc(s.ops, func(o Operation) bool { return o.Status == OpConfirmed || o.Good > 0 })
}

// good is the source's good quantity so far: confirmed, or reported by
// partial confirmations.
func (s *source) good() int {
	n := 0
	for _, o := range s.ops {
		if o.Status != OpPending {
			n += o.Good
		}
	}
	return n
}

// passed is the units the source has passed on: its confirmed good, in
// units of the operation it feeds.
func (s *source) passed() int { return s.good() / max(s.per, 1) }

// ids names the source's operations that are not confirmed (or all).
func (s *source) ids(unconfirmed bool) string {
	var out []string
	for _, o := range s.ops {
		if !unconfirmed || o.Status != OpConfirmed {
			out = append(out, o.ID)
		}
	}
	return strings.Join(out, ", ")
}

// what says where the source's units come from, for messages.
func (s *source) what(o *Operation) string {
	if s.part == "" {
		return "operation " + s.ops[0].ID
	}
	return fmt.Sprintf("%s joins %s from %s, whose last operation %s", o.ID, s.part, strings.Join(s.wos, ", "), s.ids(false))
}

// sources reads what feeds operation o of work order w.
func (d *DB) sources(t *tx, o *Operation, w *WorkOrder) ([]source, error) {
	var out []source
	if k := slices.Index(w.Operations, o.ID); k > 0 {
		var p Operation
		if err := t.Must("op", w.Operations[k-1], &p); err != nil {
			return nil, err
		}
		out = append(out, source{per: 1, ops: []Operation{p}})
	}
	for _, c := range d.joins(w.Routing, o.Op) {
		s := source{part: c.Part.ID, per: max(c.Qty, 1)}
		ws, err := t.partOrders(w, c.Part.ID)
		if err != nil {
			return nil, err
		}
		for _, pw := range ws {
			if len(pw.Operations) == 0 {
				continue
			}
			var last Operation
			if err := t.Must("op", pw.Operations[len(pw.Operations)-1], &last); err != nil {
				return nil, err
			}
			s.wos, s.ops = append(s.wos, pw.ID), append(s.ops, last)
		}
		if len(s.ops) > 0 {
			out = append(out, s)
		}
	}
	return out, nil
}

// joins returns the parts made in the plant that operation op of routing
// joins to the unit, with the quantity per unit.
func (d *DB) joins(routing, op string) []plant.Component {
	var out []plant.Component
	for _, r := range d.p.Routings {
		if r.ID != routing {
			continue
		}
		for _, o := range r.Ops {
			if o.ID != op {
				continue
			}
			for _, c := range o.Consumes {
				if !c.Part.Purchased && c.Part.Routing != nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// partOrders returns the work orders making part for final work order w:
// those it names, or, for one released before work orders named them,
// every part work order of its order that is not a make-up's.
func (t *tx) partOrders(w *WorkOrder, part string) ([]WorkOrder, error) {
	ids, legacy := w.Components, false
	if ids == nil && w.Final && !w.Makeup {
		var o Order
		if err := t.Must("order", w.Order, &o); err != nil {
			return nil, err
		}
		ids, legacy = o.WorkOrders, true
	}
	var out []WorkOrder
	for _, id := range ids {
		if id == w.ID {
			continue
		}
		var pw WorkOrder
		if err := t.Must("wo", id, &pw); err != nil {
			return nil, err
		}
		if pw.Final || pw.Item != part || legacy && pw.Makeup {
			continue
		}
		out = append(out, pw)
	}
	return out, nil
}

// startRules lists the rules starting o would break.
func startRules(o *Operation, srcs []source) []Broken {
	var out []Broken
	for _, s := range srcs {
		if s.started() {
			continue
		}
		if s.part == "" {
			p := s.ops[0].ID
			out = append(out, Broken{Rule: RuleStartBeforePredecessor, Need: p,
				Text: fmt.Sprintf("%s comes after %s, which has not started (it has passed on nothing): start %s first", o.ID, p, p)})
			continue
		}
		out = append(out, Broken{Rule: RuleStartBeforeParts, Need: s.ops[0].ID,
			Text: fmt.Sprintf("%s has not started (no %s passed on): start %s first", s.what(o), s.part, s.ids(false))})
	}
	return out
}

// confirmRules lists the rules counting good + scrap more at o (a
// partial confirmation or the final one) would break, o having counted
// before what it has.
func confirmRules(o *Operation, srcs []source, good, scrap int) []Broken {
	var out []Broken
	before := o.Good + o.Scrap
	asked := before + good + scrap
	given := fmt.Sprintf("good %d + scrap %d given", good, scrap)
	if before > 0 {
		given = fmt.Sprintf("%d counted before, good %d + scrap %d given", before, good, scrap)
	}
	for _, s := range srcs {
		switch {
		case !s.passing() && s.part == "":
			p := s.ops[0]
			out = append(out, Broken{Rule: RuleConfirmBeforePredecessor, Need: p.ID, Asked: asked,
				Text: fmt.Sprintf("%s comes after %s, which is %s, not confirmed (it has passed on nothing yet): confirm %s first, then at most its good here", o.ID, p.ID, p.Status, p.ID)})
		case !s.passing():
			out = append(out, Broken{Rule: RuleConfirmBeforeParts, Need: s.ops[0].ID, Asked: asked,
				Text: fmt.Sprintf("%s is not confirmed (no %s passed on yet): confirm %s first, then at most what it makes here", s.what(o), s.part, s.ids(true))})
		case asked > s.passed() && s.part == "":
			p := s.ops[0]
			has := "has confirmed"
			if p.Status != OpConfirmed {
				has = "is still running and has reported"
			}
			out = append(out, Broken{Rule: RuleMoreThanPassedOn, Need: p.ID, Passed: p.Good, Asked: asked,
				Text: fmt.Sprintf("operation %s %s %d good: confirm at most %d here (%s)", p.ID, has, p.Good, p.Good, given)})
		case asked > s.passed():
			n := s.passed()
			more := ""
			if s.ids(true) != "" {
				more = ", or confirm " + s.ids(true) + " first"
			}
			out = append(out, Broken{Rule: RuleMoreThanParts, Need: s.ops[0].ID, Passed: n, Asked: asked,
				Text: fmt.Sprintf("%s has confirmed %d good (%d a unit): confirm at most %d here (%s)%s", s.what(o), s.good(), s.per, n, given, more)})
		}
	}
	return out
}

// passedOn is what operation o can count at most: its planned quantity,
// or less when a source that passes units on passed on less.
func passedOn(o *Operation, srcs []source) int {
	n := o.Planned
	for _, s := range srcs {
		if s.passing() {
			n = min(n, s.passed())
		}
	}
	return n
}

// override accepts a scan that broke the routing's rules when it carries
// a supervisor's reason, recording who, why and which rules; it returns
// the refusal otherwise.
func (d *DB) override(t *tx, user, worker string, o *Operation, reason string, broken []Broken, at time.Time) (*Override, error) {
	if reason == "" {
		return nil, &SequenceError{Operation: o.ID, Broken: broken}
	}
	var u User
	ok, err := t.Get("user/"+user, &u)
	if err != nil {
		return nil, err
	}
	if !ok || u.Disabled || !slices.Contains(u.Roles, RoleSupervisor) {
		has := "no role"
		if ok {
			has = "the roles " + strings.Join(u.Roles, ", ")
		}
		return nil, fmt.Errorf("%s: an override of the routing needs the role %s, and %s has %s: ask the shift's supervisor to scan the card with the reason: %w",
			o.ID, RoleSupervisor, user, has, ErrForbidden)
	}
	n, err := t.NextID()
	if err != nil {
		return nil, err
	}
	ov := &Override{ID: fmt.Sprintf("OV-%06d", n), Operation: o.ID, Order: o.Order, At: at, By: user, Worker: worker, Reason: reason, Broken: broken}
	if err := t.put("ovr", ov.ID, nil, ov); err != nil {
		return nil, err
	}
	return ov, t.Index("order", o.Order, "ovr", ov.ID)
}
