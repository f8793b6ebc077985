package traveller

import (
	"testing"
	"time"

	"twin/plant"
	"twin/twin/mes"
)

// sample is the travellers of the reference plant's first product, with
// customer as the customer.
func sample(t testing.TB, customer string) *Sheet {
	t.Helper()
	p, o, w, ops := sampleOrder(t, customer)
	return Build(p, o, w, ops, func(id string) string { return "v1." + id + ".sig" }, time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC))
}

// sampleOrder is the plant, order, work order and operations of sample.
func sampleOrder(t testing.TB, customer string) (*plant.Plant, *mes.Order, *mes.WorkOrder, []mes.Operation) {
	t.Helper()
	p, err := plant.Load("../../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pr := p.Products[0]
	due := time.Date(2026, 12, 1, 16, 0, 0, 0, p.Location)
	o := &mes.Order{ID: "PO-1001", Customer: customer, Product: pr.ID, Quantity: 5, Due: due}
	w := &mes.WorkOrder{ID: "PO-1001-" + pr.ID, Order: o.ID, Item: pr.ID, Final: true, Quantity: 5, Due: due}
	var ops []mes.Operation
	for i, op := range pr.Routing.Ops {
		o := mes.Operation{ID: w.ID + "-" + op.ID, WorkOrder: w.ID, Order: o.ID, Seq: (i + 1) * 10, Op: op.ID, Name: op.Name, Planned: 5, Inspect: op.Inspect != nil}
		for _, a := range op.Alternatives {
			o.WorkCenters = append(o.WorkCenters, a.WorkCenter.ID())
		}
		ops = append(ops, o)
	}
	return p, o, w, ops
}
