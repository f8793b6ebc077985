package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/mes"
)

// floor plays the people of the demo plant on the records: the ERP
// entering each order the virtual plant receives and the planner
// releasing it with its material received; operators scanning each card
// when its first part starts on a machine and again when its last part is
// done, booking material at the press and the assembly bench; inspectors
// recording the end-of-line test of every unit (a failed test opens a
// nonconformance, the unit goes to rework and is tested again);
// technicians recording planned maintenance when it ends. Everything goes
// through the same calls the API makes, stamped with plant time.
type floor struct {
	db  *mes.DB
	p   *plant.Plant
	log *slog.Logger

	mu   sync.Mutex
	q    []event.Event
	wake chan struct{}

	pending map[string]*plant.Order // released, not yet entered
	cards   map[string]*cardRun
	serial  map[string]map[string]int // order → job → unit number
	stats   floorStats
}

type floorStats struct {
	Orders, Scans, Inspections, NCs, Maintenance, Errors atomic.Int64
}

type cardRun struct {
	started, confirmed bool
	jobs               map[string]bool // finished, by job; false: failed inspection last
}

func newFloor(db *mes.DB, p *plant.Plant, log *slog.Logger) *floor {
	return &floor{db: db, p: p, log: log, wake: make(chan struct{}, 1), pending: map[string]*plant.Order{},
		cards: map[string]*cardRun{}, serial: map[string]map[string]int{}}
}

// see queues an event of the virtual plant (the demo's fan calls it).
func (f *floor) see(e event.Event) {
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

func (f *floor) run(ctx context.Context) {
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
			f.handle(e)
		}
	}
}

func (f *floor) fail(what string, err error) {
	if err != nil {
		f.stats.Errors.Add(1)
		f.log.Warn("demo floor", "what", what, "err", err)
	}
}

func (f *floor) product(id string) *plant.Product {
	for _, p := range f.p.Products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (f *floor) handle(e event.Event) {
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
		case "completed":
			f.complete(e.Ref, at)
		}
	case event.OpStarted, event.OpFinished:
		parts := strings.Split(e.Ref, "/")
		if len(parts) != 3 {
			return
		}
		if o := f.pending[parts[0]]; o != nil {
			f.enter(o)
		}
		item := parts[1]
		if item == "P" {
			item = ""
		}
		card := f.card(parts[0], item, e.Name)
		if card == "" {
			return
		}
		r := f.cards[card]
		if r == nil {
			r = &cardRun{jobs: map[string]bool{}}
			f.cards[card] = r
		}
		unit := e.Asset[strings.LastIndex(e.Asset, "/")+1:]
		if e.Kind == event.OpStarted {
			if !r.started {
				r.started = true
				f.scan(card, "start", unit, at, nil)
			}
			return
		}
		op, err := f.db.Operation(card)
		if err != nil || f.reworking(op, e.Asset) {
			return
		}
		r.jobs[e.Ref] = e.Value != 0 || !op.Inspect
		if op.Inspect {
			f.inspect(parts[0], op, e.Ref, e.Value != 0, at)
		}
		if !r.confirmed && len(r.jobs) >= op.Planned {
			f.confirm(card, op, r, unit, at)
		}
	case event.Alarm:
		// planned maintenance over: the technician signs it off
		if e.Value == 0 && strings.HasPrefix(e.Name, "maintenance/") {
			unit := e.Asset[strings.LastIndex(e.Asset, "/")+1:]
			_, err := f.db.CompleteMaintenance("technician", mes.NewCompletion{Plan: unit + "-" + slugName(strings.TrimPrefix(e.Name, "maintenance/")), At: at, Note: "planned maintenance done"})
			if err == nil {
				f.stats.Maintenance.Add(1)
			}
			f.fail("maintenance", err)
		}
	}
}

// reworking tells whether a part finishing op at the machine asset was
// being reworked there: the plant reports a rework under the operation
// it repairs, at the repair station, which is neither a test nor a part
// made (the test that follows is).
func (f *floor) reworking(op *mes.Operation, asset string) bool {
	for _, u := range f.p.Units {
		if u.Path() == asset {
			return u.WorkCenter != nil && !slices.Contains(op.WorkCenters, u.WorkCenter.ID())
		}
	}
	return false
}

func slugName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

// card is the operation card of an order's item at op ("" item: the product).
func (f *floor) card(order, item, op string) string {
	if item == "" {
		o, err := f.db.Order(order)
		if err != nil {
			return ""
		}
		item = o.Product
	}
	return order + "-" + item + "-" + op
}

// enter enters and releases an order, and receives its purchased parts.
func (f *floor) enter(o *plant.Order) {
	delete(f.pending, o.ID)
	if o.Product == nil {
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
	if _, err := f.db.CreateOrder("erp", mes.NewOrder{ID: o.ID, Customer: cust, Priority: o.Priority, Product: o.Product.ID, Quantity: o.Quantity, Due: due}); err != nil {
		f.fail("order", err)
		return
	}
	if _, err := f.db.ReleaseOrder("planner", o.ID); err != nil {
		f.fail("release", err)
		return
	}
	f.stats.Orders.Add(1)
	for _, c := range o.Product.BOM {
		if c.Part.Purchased {
			_, err := f.db.ReceiveLot("planner", mes.NewLot{ID: "LOT-" + o.ID + "-" + c.Part.ID, Material: c.Part.ID, Supplier: "supplier of " + c.Part.Name,
				Quantity: float64(c.Qty * o.Quantity), Received: o.Release})
			f.fail("lot", err)
		}
	}
}

func (f *floor) scan(card, action, unit string, at time.Time, good *int) *mes.ScanResult {
	res, err := f.db.DoScan("terminal-"+unit, mes.Scan{Token: f.db.CardToken(card), Action: action, Station: unit, Worker: "W-" + unit, Good: good, At: at,
		ScanID: card + "-" + action})
	if err == nil {
		f.stats.Scans.Add(1)
	}
	f.fail("scan "+card, err)
	return res
}

func (f *floor) confirm(card string, op *mes.Operation, r *cardRun, unit string, at time.Time) {
	r.confirmed = true
	good := 0
	for _, ok := range r.jobs {
		if ok {
			good++
		}
	}
	good = min(good, op.Planned)
	if f.scan(card, "confirm", unit, at, &good) == nil {
		return
	}
	// material booked where the bill of materials joins it
	var lots []string
	switch op.Op {
	case "pressfit":
		lots = []string{"LOT-" + op.Order + "-bearing", op.Order + "-rotor"}
	case "assemble":
		lots = []string{"LOT-" + op.Order + "-housing", "LOT-" + op.Order + "-endshield", op.Order + "-stator"}
	}
	for _, l := range lots {
		_, err := f.db.Consume("W-"+unit, mes.NewConsumption{Operation: op.ID, Lot: l, At: at})
		f.fail("consume "+l, err)
	}
}

// inspect records the test of one unit: the job's first time at the
// inspecting operation gives it the order's next serial number.
func (f *floor) inspect(order string, op *mes.Operation, job string, pass bool, at time.Time) {
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
	serial := fmt.Sprintf("%s-%04d", order, n)
	plan, err := f.plan(op)
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
	in, err := f.db.Inspect("inspector", mes.NewInspection{Serial: serial, Operation: op.ID, Values: values, At: at})
	if err != nil {
		f.fail("inspect "+serial, err)
		return
	}
	f.stats.Inspections.Add(1)
	if !in.Pass {
		f.stats.NCs.Add(1)
		_, err := f.db.Dispose("inspector", in.NC, mes.Disposition{Decision: "rework", Note: "rework at the repair bench, then test again"})
		f.fail("dispose", err)
	}
}

func (f *floor) plan(op *mes.Operation) (*mes.InspectionPlan, error) {
	ps, err := f.db.InspectionPlans()
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].Op == op.Op {
			return &ps[i], nil
		}
	}
	return nil, nil
}

// complete confirms what the order's cards did when the plant says the
// order is done, and scraps units still waiting for rework.
func (f *floor) complete(order string, at time.Time) {
	rs, err := f.db.Records(order)
	if err != nil {
		return
	}
	for _, op := range rs.Operations {
		if op.Status == mes.OpConfirmed {
			continue
		}
		r := f.cards[op.ID]
		if r == nil {
			r = &cardRun{jobs: map[string]bool{}}
			f.cards[op.ID] = r
		}
		unit := ""
		if op.Station != "" {
			unit = op.Station[strings.LastIndex(op.Station, "/")+1:]
		} else if u := f.firstUnit(op.WorkCenters); u != "" {
			unit = u
		}
		f.confirm(op.ID, &op, r, unit, at)
	}
	for _, u := range rs.Units {
		if u.Status == mes.UnitRework {
			for _, nc := range u.NCs {
				_, err := f.db.Dispose("inspector", nc, mes.Disposition{Decision: "scrap", Note: "failed the test again"})
				if err == nil {
					break
				}
			}
		}
	}
}

func (f *floor) firstUnit(wcs []string) string {
	for _, w := range f.p.WorkCenters {
		if len(wcs) > 0 && w.ID() == wcs[0] && len(w.Units) > 0 {
			return w.Units[0].ID()
		}
	}
	return ""
}
