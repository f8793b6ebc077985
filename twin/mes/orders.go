package mes

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"twin/plant"
	"twin/twin/mes/recstore"
)

// Order statuses.
const (
	StatusPlanned    = "planned"     // entered, not released to the floor
	StatusReleased   = "released"    // work orders and cards exist
	StatusInProgress = "in_progress" // an operation has started
	StatusCompleted  = "completed"   // orders: the good units reached the ordered quantity, or a planner closed it short; work orders: the last operation confirmed the quantity good
	StatusClosed     = "closed"      // work orders: closed with their order before they made their quantity
	StatusCancelled  = "cancelled"
)

// Order is a production order: what a customer ordered.
type Order struct {
	ID         string    `json:"id" doc:"the ERP's order number"`
	Customer   string    `json:"customer"`
	Priority   int       `json:"priority" doc:"customer priority: an index into the plant's priorities, higher is more urgent"`
	Product    string    `json:"product"`
	Quantity   int       `json:"quantity"`
	Due        time.Time `json:"due"`
	Status     string    `json:"status" enum:"planned,released,in_progress,completed,cancelled"`
	Created    time.Time `json:"created"`
	Released   time.Time `json:"released,omitzero"`
	Started    time.Time `json:"started,omitzero"`
	Completed  time.Time `json:"completed,omitzero" doc:"when the good units reached the ordered quantity, or the order was closed short (lead time runs from released to this)"`
	Good       int       `json:"good" doc:"units finished good: the good of the last operation of its final work orders, make-ups included"`
	Scrap      int       `json:"scrap" doc:"scrap confirmed at the operations of its final work orders"`
	WorkOrders []string  `json:"work_orders,omitempty"`
	Short      *Closure  `json:"short_close,omitempty" doc:"set when a planner closed the order before its good units reached the quantity"`
}

// Closure is an order closed short: by whom, why, with how many good.
type Closure struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason"`
	Good    int       `json:"good" doc:"good units when it was closed"`
	Ordered int       `json:"ordered"`
}

// WorkOrder is the making of one item (the product, or a part made in
// the plant) for an order, along that item's routing.
type WorkOrder struct {
	ID         string    `json:"id"`
	Order      string    `json:"order"`
	Item       string    `json:"item" doc:"product or part id"`
	Final      bool      `json:"final" doc:"makes the ordered product (its units carry serial numbers)"`
	Routing    string    `json:"routing"`
	Quantity   int       `json:"quantity"`
	Priority   int       `json:"priority"`
	Due        time.Time `json:"due"`
	Status     string    `json:"status" enum:"released,in_progress,completed,closed,cancelled"`
	Operations []string  `json:"operations"`
	Released   time.Time `json:"released"`
	Completed  time.Time `json:"completed,omitzero" doc:"completed, or closed"`
	Components []string  `json:"components,omitempty" doc:"final work orders: the work orders making the parts it joins (press-fit's rotors, assembly's stators)"`
	Makeup     bool      `json:"makeup,omitempty" doc:"released to make up for scrap"`
	Reason     string    `json:"reason,omitempty" doc:"a make-up's reason"`
}

// Unit is one finished unit with its serial number.
type Unit struct {
	Serial       string    `json:"serial"`
	Order        string    `json:"order"`
	WorkOrder    string    `json:"work_order"`
	Product      string    `json:"product"`
	Status       string    `json:"status" enum:"in_process,rework,passed,accepted,scrapped"`
	FirstPass    *bool     `json:"first_pass,omitempty" doc:"passed every inspection at the first attempt; unset until inspected"`
	Reinspection string    `json:"reinspection,omitempty" doc:"operation whose re-inspection is pending"`
	Inspections  []string  `json:"inspections,omitempty"`
	NCs          []string  `json:"nonconformances,omitempty"`
	Created      time.Time `json:"created"`
}

// NewOrder is the request that enters an order.
type NewOrder struct {
	ID       string    `json:"id" maxlen:"64" doc:"order number; generated when empty"`
	Customer string    `json:"customer" maxlen:"200"`
	Priority int       `json:"priority"`
	Product  string    `json:"product" maxlen:"64"`
	Quantity int       `json:"quantity"`
	Due      time.Time `json:"due"`
}

// CreateOrder enters a production order (status planned).
func (d *DB) CreateOrder(user string, r NewOrder) (*Order, error) {
	if r.ID != "" {
		if err := validID("id", r.ID); err != nil {
			return nil, err
		}
	}
	if r.Customer == "" {
		return nil, FieldErr("customer", "required")
	}
	if d.product(r.Product) == nil {
		return nil, FieldErr("product", "%q is not a product of plant %s", r.Product, d.p.ID)
	}
	if r.Quantity <= 0 || r.Quantity > 100000 {
		return nil, FieldErr("quantity", "want 1 to 100000, got %d", r.Quantity)
	}
	if r.Due.IsZero() {
		return nil, FieldErr("due", "required (RFC 3339)")
	}
	if n := len(d.p.Demand.Priorities); r.Priority < 0 || n > 0 && r.Priority >= n || n == 0 && r.Priority > 9 {
		return nil, FieldErr("priority", "out of range (%d levels)", max(n, 10))
	}
	var o *Order
	err := d.update(user, "order.create", func(t *tx) error {
		id := r.ID
		if id == "" {
			n, err := t.NextID()
			if err != nil {
				return err
			}
			id = fmt.Sprintf("PO-%06d", n)
		}
		if ok, err := t.Exists("order/" + id); err != nil || ok {
			if ok {
				return fmt.Errorf("order %q exists: %w", id, ErrConflict)
			}
			return err
		}
		o = &Order{ID: id, Customer: r.Customer, Priority: r.Priority, Product: r.Product, Quantity: r.Quantity,
			Due: r.Due, Status: StatusPlanned, Created: t.Now}
		if err := t.put("order", id, nil, o); err != nil {
			return err
		}
		return t.Index("time", "order", "order", recstore.TimeKey(t.Now, id))
	})
	return o, err
}

func (d *DB) product(id string) *plant.Product { return d.p.FindProduct(id) }

// Order returns an order.
func (d *DB) Order(id string) (*Order, error) {
	o := new(Order)
	return o, d.view(func(t *tx) error { return t.Must("order", id, o) })
}

// OrderFilter selects orders.
type OrderFilter struct {
	Status   string
	Product  string
	Customer string
	From, To time.Time // created in [From, To)
}

// Orders lists orders by id.
func (d *DB) Orders(f OrderFilter, cursor string, limit int) (Page[Order], error) {
	var p Page[Order]
	err := d.view(func(t *tx) (err error) {
		p, err = list(t, "order/", cursor, limit, func(o *Order) bool {
			return (f.Status == "" || o.Status == f.Status) && (f.Product == "" || o.Product == f.Product) &&
				(f.Customer == "" || o.Customer == f.Customer) && inWindow(o.Created, f.From, f.To)
		})
		return err
	})
	return p, err
}

func inWindow(at, from, to time.Time) bool {
	return (from.IsZero() || !at.Before(from)) && (to.IsZero() || at.Before(to))
}

// ReleaseOrder releases an order to the floor: a work order for the
// product and one for each part made in the plant (its quantity the
// order's times the bill of materials'), an operation card for every
// operation of their routings, and a serial number for every unit.
func (d *DB) ReleaseOrder(user, id string) (*Order, error) {
	var o Order
	err := d.update(user, "order.release", func(t *tx) error {
		if err := t.Must("order", id, &o); err != nil {
			return err
		}
		if o.Status != StatusPlanned {
			return fmt.Errorf("order %s is %s, not planned: %w", id, o.Status, ErrConflict)
		}
		before := o
		pr := d.product(o.Product)
		if pr == nil {
			return FieldErr("product", "%q is no longer in the plant file", o.Product)
		}
		o.WorkOrders = nil
		if _, err := d.release(t, &o, pr, o.Quantity, o.ID, 1, ""); err != nil {
			return err
		}
		o.Status, o.Released = StatusReleased, t.Now
		return t.put("order", o.ID, before, o)
	})
	return &o, err
}

// release makes the work orders, cards and serial numbers of qty units
// of product pr for order o: work order ids start with prefix, serial
// numbers count from first. It adds the work orders to o (not written)
// and returns them, the product's first.
func (d *DB) release(t *tx, o *Order, pr *plant.Product, qty int, prefix string, first int, reason string) (*MakeUp, error) {
	if pr.Routing == nil {
		return nil, FieldErr("product", "%s has no routing in the plant file", pr.ID)
	}
	type item struct {
		id      string
		routing *plant.Routing
		qty     int
		final   bool
	}
	items := []item{{pr.ID, pr.Routing, qty, true}}
	for _, c := range pr.BOM {
		if !c.Part.Purchased && c.Part.Routing != nil {
			items = append(items, item{c.Part.ID, c.Part.Routing, qty * c.Qty, false})
		}
	}
	out := &MakeUp{}
	for _, it := range items {
		w := &WorkOrder{ID: prefix + "-" + it.id, Order: o.ID, Item: it.id, Final: it.final, Routing: it.routing.ID,
			Quantity: it.qty, Priority: o.Priority, Due: o.Due, Status: StatusReleased, Released: t.Now, Makeup: reason != "", Reason: reason}
		if ok, err := t.Exists("wo/" + w.ID); err != nil || ok {
			if ok {
				return nil, fmt.Errorf("work order %s exists already (another order's?): %w", w.ID, ErrConflict)
			}
			return nil, err
		}
		for i, op := range it.routing.Ops {
			c := &Operation{ID: w.ID + "-" + op.ID, WorkOrder: w.ID, Order: o.ID, Item: it.id, Seq: (i + 1) * 10,
				Op: op.ID, Name: op.Name, Planned: it.qty, Status: OpPending, Inspect: op.Inspect != nil}
			for _, a := range op.Alternatives {
				c.WorkCenters = append(c.WorkCenters, a.WorkCenter.ID())
			}
			if p := d.plannedTime(op, pr); p > 0 {
				c.PlannedSeconds = p
			}
			w.Operations = append(w.Operations, c.ID)
			if err := t.put("op", c.ID, nil, c); err != nil {
				return nil, err
			}
			if err := t.Index("order", o.ID, "op", c.ID); err != nil {
				return nil, err
			}
		}
		if it.final {
			for _, c := range items[1:] {
				w.Components = append(w.Components, prefix+"-"+c.id)
			}
		}
		if err := t.put("wo", w.ID, nil, w); err != nil {
			return nil, err
		}
		if err := t.Index("order", o.ID, "wo", w.ID); err != nil {
			return nil, err
		}
		if err := t.Index("open", "wo", "wo", w.ID); err != nil {
			return nil, err
		}
		o.WorkOrders = append(o.WorkOrders, w.ID)
		out.WorkOrders = append(out.WorkOrders, *w)
		if it.final {
			for n := first; n < first+it.qty; n++ {
				u := &Unit{Serial: fmt.Sprintf("%s-%04d", o.ID, n), Order: o.ID, WorkOrder: w.ID, Product: pr.ID,
					Status: UnitInProcess, Created: t.Now}
				if ok, err := t.Exists("unit/" + u.Serial); err != nil || ok {
					if ok {
						return nil, fmt.Errorf("unit %s exists already: %w", u.Serial, ErrConflict)
					}
					return nil, err
				}
				if err := t.put("unit", u.Serial, nil, u); err != nil {
					return nil, err
				}
				if err := t.Index("order", o.ID, "unit", u.Serial); err != nil {
					return nil, err
				}
				out.Serials = append(out.Serials, u.Serial)
			}
		}
	}
	return out, nil
}

// plannedTime is the routing's mean time per unit of op for product pr,
// at its first alternative (ISO 22400's planned run time per item).
func (d *DB) plannedTime(op *plant.Operation, pr *plant.Product) float64 {
	if len(op.Alternatives) == 0 {
		return 0
	}
	a := op.Alternatives[0]
	dist := a.Time.ForProduct(pr.ID, pr.Family)
	if dist == nil {
		return 0
	}
	s := dist.Mean()
	if b := a.WorkCenter.Batch; b != nil && b.Max > 1 {
		s /= float64(b.Max)
	}
	return s
}

// CancelOrder cancels an order that has not started.
func (d *DB) CancelOrder(user, id string) (*Order, error) {
	var o Order
	err := d.update(user, "order.cancel", func(t *tx) error {
		if err := t.Must("order", id, &o); err != nil {
			return err
		}
		if o.Status != StatusPlanned && o.Status != StatusReleased {
			return fmt.Errorf("order %s is %s: only planned or released orders can be cancelled: %w", id, o.Status, ErrConflict)
		}
		before := o
		for _, wid := range o.WorkOrders {
			var w WorkOrder
			if err := t.Must("wo", wid, &w); err != nil {
				return err
			}
			wb := w
			w.Status = StatusCancelled
			if err := t.put("wo", wid, wb, w); err != nil {
				return err
			}
			if err := t.Delete("x/open/wo/wo/" + wid); err != nil {
				return err
			}
		}
		o.Status = StatusCancelled
		return t.put("order", id, before, o)
	})
	return &o, err
}

// CloseRequest closes an order short.
type CloseRequest struct {
	Reason string `json:"reason" maxlen:"1000" doc:"why the order is closed before its good units reach the quantity (required)"`
}

// CloseOrder closes a started order short: it completes
// with the good units it has, and records who closed it, why and with
// how many good; its open work orders are closed. Operations still
// started must be confirmed first (with what they made).
func (d *DB) CloseOrder(user, id string, r CloseRequest) (*Order, error) {
	reason := strings.TrimSpace(r.Reason)
	if reason == "" {
		return nil, FieldErr("reason", "required: say why the order is closed short (e.g. \"customer accepts 30 of 31\")")
	}
	if len(reason) > 500 {
		return nil, FieldErr("reason", "longer than 500 characters")
	}
	var o Order
	err := d.update(user, "order.close", func(t *tx) error {
		if err := t.Must("order", id, &o); err != nil {
			return err
		}
		switch o.Status {
		case StatusInProgress:
		case StatusPlanned, StatusReleased:
			return fmt.Errorf("order %s is %s and nothing has started: cancel it instead: %w", id, o.Status, ErrConflict)
		default:
			return fmt.Errorf("order %s is %s already: %w", id, o.Status, ErrConflict)
		}
		var started []string
		for _, op := range t.Keys("x/order/" + id + "/op/") {
			var x Operation
			if err := t.Must("op", op, &x); err != nil {
				return err
			}
			if x.Status == OpStarted {
				started = append(started, x.ID)
			}
		}
		if len(started) > 0 {
			return fmt.Errorf("order %s has operations started: confirm %s with what they made first, then close the order: %w", id, strings.Join(started, ", "), ErrConflict)
		}
		before := o
		good, scrap, err := t.counts(&o, nil)
		if err != nil {
			return err
		}
		o.Good, o.Scrap = good, scrap
		o.Status, o.Completed = StatusCompleted, t.Now
		o.Short = &Closure{By: user, At: t.Now, Reason: reason, Good: good, Ordered: o.Quantity}
		if err := t.closeWorkOrders(&o, t.Now); err != nil {
			return err
		}
		if err := t.Index("time", "done", "order", recstore.TimeKey(t.Now, o.ID)); err != nil {
			return err
		}
		return t.put("order", id, before, o)
	})
	return &o, err
}

// MakeUpRequest asks for a make-up work order.
type MakeUpRequest struct {
	Quantity int    `json:"quantity,omitempty" doc:"units to make; default the shortfall (the ordered quantity less what the order's final work orders can still make good)"`
	Reason   string `json:"reason,omitempty" maxlen:"1000" doc:"why (default: the shortfall)"`
}

// MakeUp is a make-up released for an order: its work orders (the
// product's first, then those of the parts a unit needs, with their
// cards) and the serial numbers of its units.
type MakeUp struct {
	Order      Order       `json:"order"`
	WorkOrders []WorkOrder `json:"work_orders"`
	Serials    []string    `json:"serials"`
}

// ReleaseMakeUp releases a make-up for scrap: a final work order of
// qty units of the order's product (by default the shortfall) with a work
// order for each part made in the plant that a unit needs, their cards
// and new serial numbers. Work order ids are <order>-M<n>-<item>.
func (d *DB) ReleaseMakeUp(user, id string, r MakeUpRequest) (*MakeUp, error) {
	if r.Quantity < 0 || r.Quantity > 100000 {
		return nil, FieldErr("quantity", "want 1 to 100000 (or none for the shortfall), got %d", r.Quantity)
	}
	r.Reason = strings.TrimSpace(r.Reason)
	if len(r.Reason) > 500 {
		return nil, FieldErr("reason", "longer than 500 characters")
	}
	var out *MakeUp
	err := d.update(user, "order.makeup", func(t *tx) error {
		var o Order
		if err := t.Must("order", id, &o); err != nil {
			return err
		}
		if o.Status != StatusReleased && o.Status != StatusInProgress {
			return fmt.Errorf("order %s is %s: a make-up is for a released order that is short: %w", id, o.Status, ErrConflict)
		}
		pr := d.product(o.Product)
		if pr == nil {
			return FieldErr("product", "%q is no longer in the plant file", o.Product)
		}
		can, err := t.canMake(&o)
		if err != nil {
			return err
		}
		short := max(o.Quantity-can, 0)
		qty, reason := r.Quantity, r.Reason
		if qty == 0 {
			if short == 0 {
				return fmt.Errorf("order %s is not short: its work orders can still make %d good of %d ordered; give a quantity to make more anyway: %w", id, can, o.Quantity, ErrConflict)
			}
			qty = short
		}
		if reason == "" {
			reason = fmt.Sprintf("make-up: %d ordered, %d can still be made good", o.Quantity, can)
		}
		n := 1
		for _, w := range o.WorkOrders {
			var x WorkOrder
			if err := t.Must("wo", w, &x); err != nil {
				return err
			}
			if x.Final && x.Makeup {
				n++
			}
		}
		prefix := fmt.Sprintf("%s-M%d", o.ID, n)
		for ok := true; ok; {
			if ok, err = t.Exists("wo/" + prefix + "-" + pr.ID); err != nil {
				return err
			} else if ok {
				n++
				prefix = fmt.Sprintf("%s-M%d", o.ID, n)
			}
		}
		before := o
		first := len(t.Keys("x/order/"+o.ID+"/unit/")) + 1
		if out, err = d.release(t, &o, pr, qty, prefix, first, reason); err != nil {
			return err
		}
		if err := t.put("order", o.ID, before, o); err != nil {
			return err
		}
		out.Order = o
		return nil
	})
	return out, err
}

// canMake is how many good units an order's final work orders can still
// make: for each, no more than its last confirmed operation's good (the
// units flow on from there), than its quantity less its units scrapped,
// nor than the parts its part work orders can still make.
func (t *tx) canMake(o *Order) (int, error) {
	scrapped := map[string]int{}
	for _, s := range t.Keys("x/order/" + o.ID + "/unit/") {
		var u Unit
		if ok, err := t.Get("unit/"+s, &u); err != nil {
			return 0, err
		} else if ok && u.Status == UnitScrapped {
			scrapped[u.WorkOrder]++
		}
	}
	total := 0
	for _, id := range o.WorkOrders {
		var w WorkOrder
		if err := t.Must("wo", id, &w); err != nil {
			return 0, err
		}
		if !w.Final || w.Status == StatusCancelled || w.Status == StatusClosed {
			continue
		}
		n := w.Quantity - scrapped[w.ID]
		for _, op := range w.Operations {
			var x Operation
			if err := t.Must("op", op, &x); err != nil {
				return 0, err
			}
			if x.Status == OpConfirmed {
				n = min(n, x.Good) // the units flow on from here (joined parts included)
				continue
			}
			for _, c := range t.d.joins(w.Routing, x.Op) {
				pws, err := t.partOrders(&w, c.Part.ID)
				if err != nil {
					return 0, err
				}
				if len(pws) == 0 {
					continue
				}
				parts := 0
				for i := range pws {
					m, err := t.flow(&pws[i])
					if err != nil {
						return 0, err
					}
					parts += m
				}
				n = min(n, parts/max(c.Qty, 1))
			}
		}
		total += max(n, 0)
	}
	return total, nil
}

// flow is how many units can still come out of work order w: its
// quantity, or the good of its last confirmed operation.
func (t *tx) flow(w *WorkOrder) (int, error) {
	n := w.Quantity
	for _, id := range w.Operations {
		var x Operation
		if err := t.Must("op", id, &x); err != nil {
			return 0, err
		}
		if x.Status == OpConfirmed {
			n = min(n, x.Good)
		}
	}
	return n, nil
}

// WorkOrder returns a work order.
func (d *DB) WorkOrder(id string) (*WorkOrder, error) {
	w := new(WorkOrder)
	return w, d.view(func(t *tx) error { return t.Must("wo", id, w) })
}

// WorkOrderFilter selects work orders.
type WorkOrderFilter struct {
	Order  string
	Status string
	Open   bool // released or in progress
}

// WorkOrders lists work orders.
func (d *DB) WorkOrders(f WorkOrderFilter, cursor string, limit int) (Page[WorkOrder], error) {
	var p Page[WorkOrder]
	keep := func(w *WorkOrder) bool { return f.Status == "" || w.Status == f.Status }
	err := d.view(func(t *tx) (err error) {
		switch {
		case f.Order != "":
			p, err = listIndex(t, "x/order/"+f.Order+"/wo/", "wo", cursor, limit, keep)
		case f.Open:
			p, err = listIndex(t, "x/open/wo/wo/", "wo", cursor, limit, keep)
		default:
			p, err = list(t, "wo/", cursor, limit, keep)
		}
		return err
	})
	return p, err
}

// Unit returns a unit by serial number.
func (d *DB) Unit(serial string) (*Unit, error) {
	u := new(Unit)
	return u, d.view(func(t *tx) error { return t.Must("unit", serial, u) })
}

// OrderRecords is everything recorded about one order.
type OrderRecords struct {
	Order           Order            `json:"order"`
	WorkOrders      []WorkOrder      `json:"work_orders"`
	Operations      []Operation      `json:"operations"`
	Units           []Unit           `json:"units"`
	Inspections     []Inspection     `json:"inspections"`
	Nonconformances []Nonconformance `json:"nonconformances"`
	Consumptions    []Consumption    `json:"consumptions"`
	Labour          []Labour         `json:"labour"`
	Flags           []Flag           `json:"flags"`
	Overrides       []Override       `json:"overrides" doc:"scans a supervisor accepted against the routing's rules"`
	Counts          []Count          `json:"counts" doc:"the operations' counts: partial confirmations (report) and final ones (confirm), each with its scan id, worker, time and scrap reason"`
}

// Records returns every record of order id, read from its index.
func (d *DB) Records(id string) (*OrderRecords, error) {
	r := &OrderRecords{}
	err := d.view(func(t *tx) error {
		if err := t.Must("order", id, &r.Order); err != nil {
			return err
		}
		pre := "x/order/" + id + "/"
		var err error
		if r.WorkOrders, err = all[WorkOrder](t, pre+"wo/", "wo"); err != nil {
			return err
		}
		if r.Operations, err = all[Operation](t, pre+"op/", "op"); err != nil {
			return err
		}
		sort.Slice(r.Operations, func(i, j int) bool {
			a, b := r.Operations[i], r.Operations[j]
			return a.WorkOrder < b.WorkOrder || a.WorkOrder == b.WorkOrder && a.Seq < b.Seq
		})
		if r.Units, err = all[Unit](t, pre+"unit/", "unit"); err != nil {
			return err
		}
		if r.Inspections, err = all[Inspection](t, pre+"insp/", "insp"); err != nil {
			return err
		}
		if r.Nonconformances, err = all[Nonconformance](t, pre+"nc/", "nc"); err != nil {
			return err
		}
		if r.Consumptions, err = all[Consumption](t, pre+"cons/", "cons"); err != nil {
			return err
		}
		if r.Labour, err = all[Labour](t, pre+"lab/", "lab"); err != nil {
			return err
		}
		if r.Flags, err = all[Flag](t, pre+"flag/", "flag"); err != nil {
			return err
		}
		if r.Overrides, err = all[Override](t, pre+"ovr/", "ovr"); err != nil {
			return err
		}
		r.Counts, err = all[Count](t, pre+"cnt/", "cnt")
		return err
	})
	return r, err
}

// all reads every record an index prefix names.
func all[T any](t *tx, prefix, kind string) ([]T, error) {
	return records[T](t, kind, t.Keys(prefix))
}

// records reads the records kind/id of ids, passing over missing ones.
func records[T any](t *tx, kind string, ids []string) ([]T, error) {
	out := []T{}
	for _, id := range ids {
		var v T
		if ok, err := t.Get(kind+"/"+id, &v); err != nil {
			return nil, err
		} else if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// OpenOrder is what is left of an open order: the good units its final
// work orders' last operations still have to confirm.
type OpenOrder struct {
	Order Order
	Left  int
}

// OpenOrders returns the orders released or in progress and what is left
// of each, one entry per final work order with units left (a final work
// order whose last operation is confirmed, short, has none: nothing more
// comes).
func (d *DB) OpenOrders() ([]OpenOrder, error) {
	var out []OpenOrder
	err := d.view(func(t *tx) error {
		ws, err := listIndex[WorkOrder](t, "x/open/wo/wo/", "wo", "", 1<<30, nil)
		if err != nil {
			return err
		}
		for _, w := range ws.Items {
			if !w.Final {
				continue
			}
			var o Order
			if err := t.Must("order", w.Order, &o); err != nil {
				return err
			}
			var last Operation
			if err := t.Must("op", w.Operations[len(w.Operations)-1], &last); err != nil {
				return err
			}
			left := w.Quantity - last.Good - last.Scrap
			if left <= 0 || d.product(o.Product) == nil || last.Status == OpConfirmed {
				continue
			}
			out = append(out, OpenOrder{Order: o, Left: left})
		}
		return nil
	})
	return out, err
}
