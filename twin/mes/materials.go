package mes

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Lot is a quantity of one material received together (purchased parts)
// or made by one work order (parts made in the plant; its id is the work
// order's).
type Lot struct {
	ID        string    `json:"id"`
	Material  string    `json:"material" doc:"part id"`
	Supplier  string    `json:"supplier,omitempty"`
	Quantity  float64   `json:"quantity"`
	Remaining float64   `json:"remaining"`
	Received  time.Time `json:"received"`
	Internal  bool      `json:"internal" doc:"made in the plant by the work order of the same id"`
}

// NewLot is a goods receipt.
type NewLot struct {
	ID       string    `json:"id" maxlen:"64"`
	Material string    `json:"material" maxlen:"64"`
	Supplier string    `json:"supplier" maxlen:"200"`
	Quantity float64   `json:"quantity"`
	Received time.Time `json:"received,omitzero"`
}

// ReceiveLot records a lot of a purchased part.
func (d *DB) ReceiveLot(user string, r NewLot) (*Lot, error) {
	if err := validID("id", r.ID); err != nil {
		return nil, err
	}
	if !d.purchased(r.Material) {
		return nil, FieldErr("material", "%q is not a purchased part of the plant", r.Material)
	}
	if r.Supplier == "" {
		return nil, FieldErr("supplier", "required")
	}
	if !(r.Quantity > 0) || math.IsInf(r.Quantity, 0) {
		return nil, FieldErr("quantity", "want a positive number")
	}
	var l *Lot
	err := d.update(user, "lot.receive", func(t *tx) error {
		if ok, err := t.Exists("lot/" + r.ID); err != nil || ok {
			if ok {
				return fmt.Errorf("lot %q exists: %w", r.ID, ErrConflict)
			}
			return err
		}
		at := r.Received
		if at.IsZero() {
			at = t.Now
		}
		l = &Lot{ID: r.ID, Material: r.Material, Supplier: r.Supplier, Quantity: r.Quantity, Remaining: r.Quantity, Received: at}
		return t.put("lot", l.ID, nil, l)
	})
	return l, err
}

func (d *DB) purchased(id string) bool {
	for _, p := range d.p.Parts {
		if p.ID == id {
			return p.Purchased
		}
	}
	return false
}

// Lots lists the lots received.
func (d *DB) Lots(material, cursor string, limit int) (Page[Lot], error) {
	var p Page[Lot]
	err := d.view(func(t *tx) (err error) {
		p, err = list(t, "lot/", cursor, limit, func(l *Lot) bool { return material == "" || l.Material == material })
		return err
	})
	return p, err
}

// Consumption is material that went into units at an operation.
type Consumption struct {
	ID        string    `json:"id"`
	Lot       string    `json:"lot" doc:"a lot id, or the work order that made the part"`
	Material  string    `json:"material"`
	Operation string    `json:"operation"`
	Order     string    `json:"order"`
	Serials   []string  `json:"serials"`
	Quantity  float64   `json:"quantity" doc:"in all"`
	At        time.Time `json:"at"`
	By        string    `json:"by"`
}

// NewConsumption records material put into units.
type NewConsumption struct {
	Operation string    `json:"operation" maxlen:"200" doc:"card id of the operation that used it"`
	Lot       string    `json:"lot" maxlen:"200" doc:"a received lot, or the work order of the same order that made the part"`
	Serials   []string  `json:"serials,omitempty" maxlen:"200" doc:"the units it went into; default the units of the operation's work order (of the order's first final work order for a part's)"`
	PerUnit   float64   `json:"per_unit,omitempty" doc:"quantity per unit; default the bill of materials'"`
	At        time.Time `json:"at,omitzero"`
}

// Consume records that material from a lot went into units of an order.
func (d *DB) Consume(user string, r NewConsumption) (*Consumption, error) {
	if err := validID("operation", r.Operation); err != nil {
		return nil, err
	}
	if err := validID("lot", r.Lot); err != nil {
		return nil, err
	}
	if r.PerUnit < 0 || math.IsNaN(r.PerUnit) || math.IsInf(r.PerUnit, 0) {
		return nil, FieldErr("per_unit", "want a positive number")
	}
	var c *Consumption
	err := d.update(user, "material.consume", func(t *tx) error {
		var o Operation
		if err := t.Must("op", r.Operation, &o); err != nil {
			return err
		}
		var ord Order
		if err := t.Must("order", o.Order, &ord); err != nil {
			return err
		}
		var lot Lot
		ok, err := t.Get("lot/"+r.Lot, &lot)
		if err != nil {
			return err
		}
		if !ok {
			var w WorkOrder
			if ok, err := t.Get("wo/"+r.Lot, &w); err != nil {
				return err
			} else if !ok || w.Order != o.Order || w.Final {
				return FieldErr("lot", "%q is neither a lot nor a part work order of order %s", r.Lot, o.Order)
			}
			lot = Lot{ID: w.ID, Material: w.Item, Quantity: float64(w.Quantity), Remaining: math.Inf(1), Internal: true}
		}
		perUnit := r.PerUnit
		if perUnit == 0 {
			perUnit = 1
			if pr := d.product(ord.Product); pr != nil {
				for _, b := range pr.BOM {
					if b.Part.ID == lot.Material {
						perUnit = float64(b.Qty)
					}
				}
			}
		}
		serials := r.Serials
		if len(serials) == 0 {
			serials, err = t.unitsOf(&o)
			if err != nil {
				return err
			}
		}
		for i, s := range serials {
			var u Unit
			if ok, err := t.Get("unit/"+s, &u); err != nil {
				return err
			} else if !ok || u.Order != o.Order {
				return FieldErr(fmt.Sprintf("serials[%d]", i), "%q is not a unit of order %s", s, o.Order)
			}
		}
		qty := perUnit * float64(len(serials))
		if !lot.Internal {
			if lot.Remaining+1e-9 < qty {
				return FieldErr("lot", "%s has %g %s left, %g needed", lot.ID, lot.Remaining, lot.Material, qty)
			}
			lb := lot
			lot.Remaining -= qty
			if err := t.put("lot", lot.ID, lb, lot); err != nil {
				return err
			}
		}
		n, err := t.NextID()
		if err != nil {
			return err
		}
		at := r.At
		if at.IsZero() {
			at = t.Now
		}
		c = &Consumption{ID: fmt.Sprintf("CO-%07d", n), Lot: lot.ID, Material: lot.Material, Operation: o.ID, Order: o.Order,
			Serials: slices.Clone(serials), Quantity: qty, At: at, By: user}
		if err := t.put("cons", c.ID, nil, c); err != nil {
			return err
		}
		if err := t.Index("order", o.Order, "cons", c.ID); err != nil {
			return err
		}
		if err := t.Index("lot", lot.ID, "cons", c.ID); err != nil {
			return err
		}
		for _, s := range serials {
			if err := t.Index("serial", s, "cons", c.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return c, err
}

// Backward is where a unit came from: its order and customer, the lots
// and part work orders that went into it, every operation of its work
// orders (machine, workers, times), and its inspections.
type Backward struct {
	Unit            Unit             `json:"unit"`
	Order           Order            `json:"order"`
	Materials       []Material       `json:"materials"`
	Operations      []Operation      `json:"operations"`
	Inspections     []Inspection     `json:"inspections"`
	Nonconformances []Nonconformance `json:"nonconformances"`
}

// Material is one consumption with its lot.
type Material struct {
	Consumption Consumption `json:"consumption"`
	Lot         Lot         `json:"lot"`
	// Made lists the operations of the work order that made an internal
	// lot (a stator's winding, on which machine, by whom).
	Made []Operation `json:"made,omitempty"`
}

// Genealogy returns the backward genealogy of the unit with serial.
func (d *DB) Genealogy(serial string) (*Backward, error) {
	b := &Backward{Materials: []Material{}, Operations: []Operation{}}
	err := d.view(func(t *tx) error {
		if err := t.Must("unit", serial, &b.Unit); err != nil {
			return err
		}
		if err := t.Must("order", b.Unit.Order, &b.Order); err != nil {
			return err
		}
		cs, err := all[Consumption](t, "x/serial/"+serial+"/cons/", "cons")
		if err != nil {
			return err
		}
		for _, c := range cs {
			m := Material{Consumption: c}
			if ok, err := t.Get("lot/"+c.Lot, &m.Lot); err != nil {
				return err
			} else if !ok {
				var w WorkOrder
				if err := t.Must("wo", c.Lot, &w); err != nil {
					return err
				}
				m.Lot = Lot{ID: w.ID, Material: w.Item, Quantity: float64(w.Quantity), Internal: true, Received: w.Completed}
				if m.Made, err = ops(t, w.Operations); err != nil {
					return err
				}
			}
			b.Materials = append(b.Materials, m)
		}
		var w WorkOrder
		if err := t.Must("wo", b.Unit.WorkOrder, &w); err != nil {
			return err
		}
		if b.Operations, err = ops(t, w.Operations); err != nil {
			return err
		}
		if b.Inspections, err = all[Inspection](t, "x/serial/"+serial+"/insp/", "insp"); err != nil {
			return err
		}
		b.Nonconformances = []Nonconformance{}
		for _, id := range b.Unit.NCs {
			var nc Nonconformance
			if err := t.Must("nc", id, &nc); err != nil {
				return err
			}
			b.Nonconformances = append(b.Nonconformances, nc)
		}
		return nil
	})
	return b, err
}

func ops(t *tx, ids []string) ([]Operation, error) {
	out := make([]Operation, 0, len(ids))
	for _, id := range ids {
		var o Operation
		if err := t.Must("op", id, &o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// Forward is where a lot went: every consumption of it and the units,
// orders and customers it reached.
type Forward struct {
	Lot          Lot           `json:"lot"`
	Consumptions []Consumption `json:"consumptions"`
	Units        []Unit        `json:"units"`
	Orders       []Order       `json:"orders"`
}

// Where returns the forward genealogy of a lot (or a part work order).
func (d *DB) Where(lot string) (*Forward, error) {
	f := &Forward{Units: []Unit{}, Orders: []Order{}}
	err := d.view(func(t *tx) error {
		if ok, err := t.Get("lot/"+lot, &f.Lot); err != nil {
			return err
		} else if !ok {
			var w WorkOrder
			if err := t.Must("wo", lot, &w); err != nil {
				return fmt.Errorf("lot %q: %w", lot, ErrNotFound)
			}
			f.Lot = Lot{ID: w.ID, Material: w.Item, Quantity: float64(w.Quantity), Internal: true}
		}
		var err error
		if f.Consumptions, err = all[Consumption](t, "x/lot/"+lot+"/cons/", "cons"); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, c := range f.Consumptions {
			for _, s := range c.Serials {
				if seen[s] {
					continue
				}
				seen[s] = true
				var u Unit
				if err := t.Must("unit", s, &u); err != nil {
					return err
				}
				f.Units = append(f.Units, u)
			}
			if !seen["order/"+c.Order] {
				seen["order/"+c.Order] = true
				var o Order
				if err := t.Must("order", c.Order, &o); err != nil {
					return err
				}
				f.Orders = append(f.Orders, o)
			}
		}
		return nil
	})
	return f, err
}

// unitsOf returns the serial numbers of the units operation o works on:
// those of its work order, or for a part's work order those of the final
// work order it makes the part for.
func (t *tx) unitsOf(o *Operation) ([]string, error) {
	var w WorkOrder
	if err := t.Must("wo", o.WorkOrder, &w); err != nil {
		return nil, err
	}
	final := w.ID
	if !w.Final {
		var ord Order
		if err := t.Must("order", o.Order, &ord); err != nil {
			return nil, err
		}
		final = ""
		for _, id := range ord.WorkOrders {
			var f WorkOrder
			if err := t.Must("wo", id, &f); err != nil {
				return nil, err
			}
			if f.Final && (slices.Contains(f.Components, w.ID) || f.Components == nil && !f.Makeup && !w.Makeup) {
				final = f.ID
				break
			}
		}
	}
	var out []string
	for _, s := range t.Keys("x/order/" + o.Order + "/unit/") {
		var u Unit
		if ok, err := t.Get("unit/"+s, &u); err != nil {
			return nil, err
		} else if ok && u.WorkOrder == final {
			out = append(out, s)
		}
	}
	return out, nil
}
