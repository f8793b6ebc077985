// Package floor plays the people of a virtual plant on its execution
// records: the ERP, the planner, the operators at their terminals, the
// inspectors and the technicians, as the simulated plant (connectors/
// virtual) runs. With it the demo's records are kept as a real plant's
// would be, through the same calls the records API makes.
package floor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/mes"
	"twin/twin/window"
)

// Floor plays the people of the demo plant on the records: the ERP
// entering each order the virtual plant receives and the planner
// releasing it with its material received; operators scanning each card
// when its first part starts on a machine and again when its last part is
// done (an inspecting card when its last unit has passed), booking
// material at the press and the assembly bench; inspectors recording the
// end-of-line test of every unit (a failed test opens a nonconformance,
// the unit goes to rework and is tested again); the planner closing an
// order short when the plant finished it with units scrapped (it does
// not remake a scrapped motor); technicians recording planned
// maintenance when it ends. Everything goes through the same calls the
// API makes, stamped with plant time, in the routing's sequence.
type Floor struct {
	rec Records
	p   *plant.Plant
	log *slog.Logger

	mu   sync.Mutex
	q    []event.Event
	wake chan struct{}

	pending map[string]*plant.Order   // released, not yet entered
	orders  map[string]*orderRun      // entered
	serial  map[string]map[string]int // order → job → unit number
	stats   counts
}

type counts struct {
	orders, scans, inspections, ncs, maintenance, closed, errors atomic.Int64
}

// Stats is what the floor did: orders entered and released, card scans,
// unit tests and the nonconformances they opened, maintenance signed off,
// orders closed short, and entries the records refused.
type Stats struct {
	Orders, Scans, Inspections, NCs, Maintenance, Closed, Errors int64
}

// Stats returns what the floor has done so far.
func (f *Floor) Stats() Stats {
	c := &f.stats
	return Stats{c.orders.Load(), c.scans.Load(), c.inspections.Load(), c.ncs.Load(), c.maintenance.Load(), c.closed.Load(), c.errors.Load()}
}

// orderRun is what the floor knows of an order it entered: its cards, in
// the routing's order (the parts' work orders first), and the units the
// plant made before the floor saw them (a demo's warm start hands over
// orders in progress).
type orderRun struct {
	id, product string
	cards       []*cardRun          // parts' work orders first, each along its routing
	byID        map[string]*cardRun // by card id
	pre         int                 // units the plant finished before the floor saw them
	joined      map[string]map[string]bool
	last        *cardRun // the product's last card
}

type cardRun struct {
	id, op             string
	planned            int
	inspect            bool
	wcs                []string
	final              bool
	per                int      // parts per unit (a part's card)
	part               string   // the part its work order makes ("" for the product's)
	prev               *cardRun // the card before it in its work order
	joins              []*cardRun
	started, confirmed bool
	jobs               map[string]bool // by job, passed on; false: failed its test last
}

// trues counts the jobs that passed the card's operation.
func (r *cardRun) trues() int {
	n := 0
	for _, ok := range r.jobs {
		if ok {
			n++
		}
	}
	return n
}

// passed is how many units passed the card's operation: the jobs seen
// there or further on, those the plant finished before the floor saw
// them, and for a part's card the parts units were seen to join.
func (o *orderRun) passed(r *cardRun) int {
	if r.final {
		return r.trues() + o.pre
	}
	return o.pre*r.per + max(r.trues(), len(o.joined[r.part])*r.per)
}

// Records is what the floor does with the records (*mes.DB does it; so
// would a client of the records API).
type Records interface {
	CreateOrder(user string, r mes.NewOrder) (*mes.Order, error)
	ReleaseOrder(user, id string) (*mes.Order, error)
	CloseOrder(user, id string, r mes.CloseRequest) (*mes.Order, error)
	Order(id string) (*mes.Order, error)
	Records(id string) (*mes.OrderRecords, error)
	ReceiveLot(user string, r mes.NewLot) (*mes.Lot, error)
	Consume(user string, r mes.NewConsumption) (*mes.Consumption, error)
	CardToken(op string) string
	DoScan(user string, s mes.Scan) (*mes.ScanResult, error)
	Operation(id string) (*mes.Operation, error)
	InspectionPlans() ([]mes.InspectionPlan, error)
	Inspect(user string, r mes.NewInspection) (*mes.Inspection, error)
	Dispose(user, id string, r mes.Disposition) (*mes.Nonconformance, error)
	CompleteMaintenance(user string, r mes.NewCompletion) (*mes.MaintCompletion, error)
}

// New returns the floor of plant p, keeping records rec.
func New(rec Records, p *plant.Plant, log *slog.Logger) *Floor {
	return &Floor{rec: rec, p: p, log: log, wake: make(chan struct{}, 1), pending: map[string]*plant.Order{},
		orders: map[string]*orderRun{}, serial: map[string]map[string]int{}}
}

// See queues an event of the virtual plant (the demo's fan calls it).
func (f *Floor) See(e event.Event) {
	switch e.Kind {
	case event.Order, event.OpStarted, event.OpFinished, event.Alarm:
	default:
		return
	}
	f.mu.Lock()
	f.q = append(f.q, e)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *Floor) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
		f.mu.Lock()
		q := f.q
		f.q = nil
		f.mu.Unlock()
		for _, e := range q {
			f.Handle(e)
		}
	}
}

func (f *Floor) fail(what string, err error) {
	if err != nil {
		f.stats.errors.Add(1)
		f.log.Warn("demo floor", "what", what, "err", err)
	}
}

func (f *Floor) product(id string) *plant.Product {
	for _, p := range f.p.Products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// scrapReason is the reason an inspector gives for units that failed
// their test again: the operation's own failed-test reason (a code
// ending in "test_fail") where it lists one, else its first reason, else
// none. The model knows only that they failed, not which fault it was.
func (f *Floor) scrapReason(product, op string) string {
	pr := f.product(product)
	if pr == nil || pr.Routing == nil {
		return ""
	}
	for _, o := range pr.Routing.Ops {
		if o.ID != op {
			continue
		}
		codes := o.ScrapReasons
		if codes == nil {
			for _, r := range f.p.ScrapReasons {
				codes = append(codes, r.Code)
			}
		}
		for _, c := range codes {
			if strings.HasSuffix(c, "test_fail") {
				return c
			}
		}
		if len(codes) > 0 {
			return codes[0]
		}
	}
	return ""
}

func (f *Floor) Handle(e event.Event) {
	at := time.Unix(0, e.Time).In(f.p.Location)
	switch e.Kind {
	case event.Order:
		o := f.pending[e.Ref]
		switch e.Name {
		case "released":
			f.pending[e.Ref] = &plant.Order{ID: e.Ref, Product: f.product(e.Asset), Quantity: int(e.Value), Release: at}
		case "due":
			if o != nil {
				o.Due = time.Unix(int64(e.Value), 0)
			}
		case "priority":
			if o != nil {
				o.Priority = int(e.Value)
				f.enter(o)
			}
		case "progress":
			// units done that the floor never saw finish: an order the
			// plant had in progress when the floor began
			if r := f.orders[e.Ref]; r != nil && r.last != nil {
				r.pre = max(r.pre, int(e.Value)-r.last.trues())
				f.settle(r, at, false)
			}
		case "completed":
			f.complete(e.Ref, at)
		}
	case event.OpStarted, event.OpFinished:
		if parts := strings.Split(e.Ref, "/"); len(parts) == 3 {
			if o := f.pending[parts[0]]; o != nil {
				f.enter(o)
			}
		}
		o, r := f.note(e)
		if r == nil {
			return
		}
		if e.Kind == event.OpStarted {
			f.start(r, e.Asset[strings.LastIndex(e.Asset, "/")+1:], at)
			f.settle(o, at, false)
			return
		}
		if r.inspect {
			f.inspect(o.id, r, e.Ref, e.Value != 0, at)
		}
		// a card is confirmed when its last unit is done: passed, for a
		// test (a unit that failed comes back from rework and is tested
		// again)
		f.settle(o, at, false)
	case event.Alarm:
		// planned maintenance over: the technician signs it off
		if e.Value == 0 && strings.HasPrefix(e.Name, "maintenance/") {
			unit := e.Asset[strings.LastIndex(e.Asset, "/")+1:]
			_, err := f.rec.CompleteMaintenance("technician", mes.NewCompletion{Plan: mes.PlanID(unit, strings.TrimPrefix(e.Name, "maintenance/")), At: at, Note: "planned maintenance done"})
			if err == nil {
				f.stats.maintenance.Add(1)
			}
			f.fail("maintenance", err)
		}
	}
}

// note books what an operation started or finished tells of an order's
// units: the card it is on, the cards before it passed (a unit seen here
// that the floor did not see there passed them before the floor began),
// the parts it has joined, and a finished unit's result. It returns the
// order and the card, or nil for an event of no order the floor follows
// (and for a rework at the repair station, which is no card's).
func (f *Floor) note(e event.Event) (*orderRun, *cardRun) {
	parts := strings.Split(e.Ref, "/")
	if len(parts) != 3 {
		return nil, nil
	}
	o := f.orders[parts[0]]
	if o == nil {
		return nil, nil
	}
	item := parts[1]
	if item == "P" {
		item = o.product
	}
	r := o.byID[parts[0]+"-"+item+"-"+e.Name]
	if r == nil || f.reworking(r, e.Asset) {
		return nil, nil
	}
	for p := r.prev; p != nil; p = p.prev {
		p.jobs[e.Ref] = true
	}
	for c := r; c != nil; c = c.prev {
		for _, j := range c.joins {
			if o.joined[j.part] == nil {
				o.joined[j.part] = map[string]bool{}
			}
			o.joined[j.part][e.Ref] = true
		}
	}
	if e.Kind == event.OpFinished {
		r.jobs[e.Ref] = e.Value != 0 || !r.inspect
	}
	return o, r
}

// Resume picks up, when the demo continues its history, the orders the
// records have open: their cards as the records have them, and what the
// plant reported of their units since they were released (history h,
// from since), replayed into the floor's books without scanning again;
// the serial numbers given to the units tested are given again, in the
// same order.
func (f *Floor) Resume(h window.History, ids []string, since time.Time) error {
	for _, id := range ids {
		o, err := f.rec.Order(id)
		if err != nil || o.Status != mes.StatusReleased && o.Status != mes.StatusInProgress {
			continue
		}
		f.track(id)
	}
	if len(f.orders) == 0 {
		return nil
	}
	return h.Range(since.UnixNano(), math.MaxInt64, func(e event.Event) error {
		if e.Kind != event.OpStarted && e.Kind != event.OpFinished {
			return nil
		}
		if o, r := f.note(e); r != nil && r.inspect && e.Kind == event.OpFinished {
			f.serialOf(o.id, e.Ref)
		}
		return nil
	})
}

// start scans a card on when its first unit starts, after the cards that
// feed it (an order the plant had in progress when the floor began has
// cards whose units all ran before: they start now).
func (f *Floor) start(r *cardRun, unit string, at time.Time) {
	if r.started {
		return
	}
	if r.prev != nil {
		f.start(r.prev, f.firstUnit(r.prev.wcs), at)
	}
	for _, j := range r.joins {
		f.start(j, f.firstUnit(j.wcs), at)
	}
	r.started = true
	f.scan(r.id, "start", unit, at, nil, nil, "")
}

// settle confirms the order's cards whose units have all passed, in the
// routing's order; at the order's end (last), every card with what passed.
func (f *Floor) settle(o *orderRun, at time.Time, last bool) {
	for _, r := range o.cards {
		if r.confirmed || !last && o.passed(r) < r.planned {
			continue
		}
		f.start(r, f.firstUnit(r.wcs), at)
		f.confirm(o, r, at, last)
	}
}

// reworking tells whether a part finishing op at the machine asset was
// being reworked there: the plant reports a rework under the operation
// it repairs, at the repair station, which is neither a test nor a part
// made (the test that follows is).
func (f *Floor) reworking(r *cardRun, asset string) bool {
	for _, u := range f.p.Units {
		if u.Path() == asset {
			return u.WorkCenter != nil && !slices.Contains(r.wcs, u.WorkCenter.ID())
		}
	}
	return false
}

// enter enters and releases an order, and receives its purchased parts.
// An order the records have already (one released through the API, which
// the plant took on; one the demo continues) is followed as it is.
func (f *Floor) enter(o *plant.Order) {
	delete(f.pending, o.ID)
	if o.Product == nil || f.orders[o.ID] != nil {
		return
	}
	if have, err := f.rec.Order(o.ID); err == nil {
		if have.Status == mes.StatusReleased || have.Status == mes.StatusInProgress {
			f.receive(o)
			f.track(o.ID)
		}
		return
	}
	due := o.Due
	if due.IsZero() {
		due = o.Release.Add(7 * 24 * time.Hour)
	}
	cust := "stock"
	if g := f.p.Demand.Generator; g != nil && len(g.Customers) > 0 {
		h := fnv.New32a()
		h.Write([]byte(o.ID))
		cust = g.Customers[int(h.Sum32())%len(g.Customers)]
	}
	if _, err := f.rec.CreateOrder("erp", mes.NewOrder{ID: o.ID, Customer: cust, Priority: o.Priority, Product: o.Product.ID, Quantity: o.Quantity, Due: due}); err != nil {
		f.fail("order", err)
		return
	}
	if _, err := f.rec.ReleaseOrder("planner", o.ID); err != nil {
		f.fail("release", err)
		return
	}
	f.stats.orders.Add(1)
	f.track(o.ID)
	f.receive(o)
}

// receive books the purchased parts of an order as received (a lot each;
// one already booked stays as it is).
func (f *Floor) receive(o *plant.Order) {
	for _, c := range o.Product.BOM {
		if c.Part.Purchased {
			_, err := f.rec.ReceiveLot("planner", mes.NewLot{ID: "LOT-" + o.ID + "-" + c.Part.ID, Material: c.Part.ID, Supplier: "supplier of " + c.Part.Name,
				Quantity: float64(c.Qty * o.Quantity), Received: o.Release})
			if errors.Is(err, mes.ErrConflict) {
				err = nil
			}
			f.fail("lot", err)
		}
	}
}

func (f *Floor) scan(card, action, unit string, at time.Time, good, scrap *int, reason string) *mes.ScanResult {
	res, err := f.rec.DoScan("terminal-"+unit, mes.Scan{Token: f.rec.CardToken(card), Action: action, Station: unit, Worker: "W-" + unit, Good: good, Scrap: scrap, At: at,
		ScanID: card + "-" + action, ScrapReason: reason})
	if err == nil {
		f.stats.scans.Add(1)
	}
	f.fail("scan "+card, err)
	return res
}

// track reads the cards of an order just released.
func (f *Floor) track(id string) {
	rs, err := f.rec.Records(id)
	if err != nil {
		f.fail("records "+id, err)
		return
	}
	o := &orderRun{id: id, product: rs.Order.Product, byID: map[string]*cardRun{}, joined: map[string]map[string]bool{}}
	lastOf := map[string]*cardRun{} // part → its work order's last card
	ops := rs.Operations            // by work order, along the routing
	slices.SortStableFunc(ops, func(a, b mes.Operation) int {
		return cmp.Compare(btoi(a.Item == o.product), btoi(b.Item == o.product))
	})
	var prev *cardRun
	for _, op := range ops {
		r := &cardRun{id: op.ID, op: op.Op, planned: op.Planned, inspect: op.Inspect, wcs: op.WorkCenters, final: op.Item == o.product,
			per: 1, jobs: map[string]bool{}, started: op.Status != mes.OpPending, confirmed: op.Status == mes.OpConfirmed}
		if prev != nil && prev.final == r.final && strings.TrimSuffix(prev.id, "-"+prev.op) == strings.TrimSuffix(r.id, "-"+r.op) {
			r.prev = prev
		}
		if !r.final {
			r.part = op.Item
			lastOf[op.Item] = r
		}
		o.cards = append(o.cards, r)
		o.byID[r.id] = r
		prev = r
	}
	if pr := f.product(o.product); pr != nil && pr.Routing != nil {
		for _, r := range o.cards {
			if !r.final {
				continue
			}
			o.last = r
			for _, rop := range pr.Routing.Ops {
				if rop.ID != r.op {
					continue
				}
				for _, c := range rop.Consumes {
					if l := lastOf[c.Part.ID]; l != nil {
						r.joins = append(r.joins, l)
						for p := l; p != nil; p = p.prev {
							p.per = max(c.Qty, 1)
						}
					}
				}
			}
		}
	}
	f.orders[id] = o
}

// confirm confirms a card with the units that passed; at the order's end
// (last) a test's units that failed last are its scrap.
func (f *Floor) confirm(o *orderRun, r *cardRun, at time.Time, last bool) {
	r.confirmed = true
	good := min(o.passed(r), r.planned)
	var scrap *int
	if failed := len(r.jobs) - r.trues(); last && r.inspect && failed > 0 {
		scrap = new(min(failed, r.planned-good))
	}
	unit := f.firstUnit(r.wcs)
	if op, err := f.rec.Operation(r.id); err == nil && op.Station != "" {
		unit = op.Station[strings.LastIndex(op.Station, "/")+1:]
	}
	reason := ""
	if scrap != nil {
		reason = f.scrapReason(o.product, r.op)
	}
	if f.scan(r.id, "confirm", unit, at, &good, scrap, reason) == nil {
		return
	}
	// material booked where the bill of materials joins it
	var lots []string
	switch r.op {
	case "pressfit":
		lots = []string{"LOT-" + o.id + "-bearing", o.id + "-rotor"}
	case "assemble":
		lots = []string{"LOT-" + o.id + "-housing", "LOT-" + o.id + "-endshield", o.id + "-stator"}
	}
	for _, l := range lots {
		_, err := f.rec.Consume("W-"+unit, mes.NewConsumption{Operation: r.id, Lot: l, At: at})
		f.fail("consume "+l, err)
	}
}

// inspect records the test of one unit: the job's first time at the
// inspecting operation gives it the order's next serial number.
func (f *Floor) inspect(order string, r *cardRun, job string, pass bool, at time.Time) {
	serial := f.serialOf(order, job)
	plan, err := f.plan(r.op)
	if err != nil || plan == nil {
		return
	}
	values := map[string]float64{}
	for i, c := range plan.Characteristics {
		values[c.Name] = c.Nominal
		if !pass && i == 0 { // the first characteristic out of limits
			values[c.Name] = c.LSL - (c.Nominal-c.LSL)/4 - 1
		}
	}
	in, err := f.rec.Inspect("inspector", mes.NewInspection{Serial: serial, Operation: r.id, Values: values, At: at})
	if err != nil {
		f.fail("inspect "+serial, err)
		return
	}
	f.stats.inspections.Add(1)
	if !in.Pass {
		f.stats.ncs.Add(1)
		_, err := f.rec.Dispose("inspector", in.NC, mes.Disposition{Decision: "rework", Note: "rework at the repair bench, then test again"})
		f.fail("dispose", err)
	}
}

// serialOf is the serial number of the unit job: the order's next at its
// first test.
func (f *Floor) serialOf(order, job string) string {
	m := f.serial[order]
	if m == nil {
		m = map[string]int{}
		f.serial[order] = m
	}
	n, ok := m[job]
	if !ok {
		n = len(m) + 1
		m[job] = n
	}
	return fmt.Sprintf("%s-%04d", order, n)
}

func (f *Floor) plan(op string) (*mes.InspectionPlan, error) {
	ps, err := f.rec.InspectionPlans()
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].Op == op {
			return &ps[i], nil
		}
	}
	return nil, nil
}

// complete confirms what the order's cards did when the plant says the
// order is done (the parts' work orders first, each along its routing),
// scraps the units that failed their test last, and closes the order
// short when units were scrapped: the plant does not remake them.
func (f *Floor) complete(order string, at time.Time) {
	o := f.orders[order]
	if o == nil {
		return
	}
	f.settle(o, at, true)
	delete(f.orders, order)
	rs, err := f.rec.Records(order)
	if err != nil {
		f.fail("records "+order, err)
		return
	}
	for _, u := range rs.Units {
		if u.Status == mes.UnitRework {
			for _, nc := range u.NCs {
				_, err := f.rec.Dispose("inspector", nc, mes.Disposition{Decision: "scrap", Note: "failed the test again"})
				if err == nil {
					break
				}
			}
		}
	}
	ord, err := f.rec.Order(order)
	if err != nil || ord.Status == mes.StatusCompleted {
		f.fail("order "+order, err)
		return
	}
	_, err = f.rec.CloseOrder("planner", order, mes.CloseRequest{Reason: fmt.Sprintf(
		"the plant finished the order with %d of %d good: %d scrapped at the end-of-line test, not remade", ord.Good, ord.Quantity, ord.Quantity-ord.Good)})
	if err == nil {
		f.stats.closed.Add(1)
	}
	f.fail("close "+order, err)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (f *Floor) firstUnit(wcs []string) string {
	for _, w := range f.p.WorkCenters {
		if len(wcs) > 0 && w.ID() == wcs[0] && len(w.Units) > 0 {
			return w.Units[0].ID()
		}
	}
	return ""
}
