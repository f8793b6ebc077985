package model

import (
	"fmt"
	"time"

	"twin/plant"
	"twin/sim"
)

// builder assembles small plants in code for tests: one site, one area,
// one line, work centres in a row.
type builder struct {
	p    *plant.Plant
	line *plant.Node
}

func newBuilder() *builder {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	site := &plant.Node{ID: "s", Level: plant.SiteLevel, Path: "s"}
	area := &plant.Node{ID: "a", Level: plant.AreaLevel, Path: "s/a", Parent: site}
	line := &plant.Node{ID: "l", Level: plant.LineLevel, Path: "s/a/l", Parent: area}
	site.Nodes = []*plant.Node{area}
	area.Nodes = []*plant.Node{line}
	p := &plant.Plant{
		ID: "test", Currency: "CNY", Location: time.UTC, Start: start,
		Site: site, Nodes: []*plant.Node{site, area, line},
		Families: []string{"f"},
	}
	return &builder{p: p, line: line}
}

// wc adds a work centre with n units drawing the given power.
func (b *builder) wc(id string, n, buffer int, pw plant.Power) *plant.WorkCenter {
	node := &plant.Node{ID: id, Level: plant.WorkCenterLevel, Path: b.line.Path + "/" + id, Parent: b.line}
	b.line.Nodes = append(b.line.Nodes, node)
	w := &plant.WorkCenter{Node: node, Index: len(b.p.WorkCenters), Buffer: buffer}
	node.WorkCenter = w
	b.p.Nodes = append(b.p.Nodes, node)
	b.p.WorkCenters = append(b.p.WorkCenters, w)
	for i := 0; i < n; i++ {
		un := &plant.Node{ID: fmt.Sprintf("%s%d", id, i+1), Level: plant.UnitLevel, Parent: node}
		un.Path = node.Path + "/" + un.ID
		u := &plant.Unit{Node: un, Index: len(b.p.Units), WorkCenter: w, Power: pw}
		un.Unit = u
		node.Nodes = append(node.Nodes, un)
		b.p.Nodes = append(b.p.Nodes, un)
		w.Units = append(w.Units, u)
		b.p.Units = append(b.p.Units, u)
	}
	return w
}

// op is an operation at w taking d seconds.
func op(id string, w *plant.WorkCenter, d sim.Dist) *plant.Operation {
	return &plant.Operation{ID: id, Alternatives: []plant.Alternative{{WorkCenter: w, Time: plant.Times{Default: d}}}}
}

// product adds a product made along ops, with the given parts.
func (b *builder) product(id string, ops []*plant.Operation, bom ...plant.Component) *plant.Product {
	r := &plant.Routing{ID: id, Ops: ops}
	for i, o := range ops {
		o.Index, o.Routing = i, r
	}
	b.p.Routings = append(b.p.Routings, r)
	pr := &plant.Product{ID: id, Family: "f", Index: len(b.p.Products), Routing: r, BOM: bom}
	b.p.Products = append(b.p.Products, pr)
	return pr
}

// part adds a made part.
func (b *builder) part(id string, ops []*plant.Operation) *plant.Part {
	r := &plant.Routing{ID: id, Ops: ops}
	for i, o := range ops {
		o.Index, o.Routing = i, r
	}
	b.p.Routings = append(b.p.Routings, r)
	pt := &plant.Part{ID: id, Index: len(b.p.Parts), Routing: r}
	b.p.Parts = append(b.p.Parts, pt)
	return pt
}

// poisson makes orders of one unit of pr arrive with exponential gaps of
// mean seconds, due in dueIn seconds.
func (b *builder) poisson(pr *plant.Product, mean float64, dueIn sim.Dist) {
	if dueIn == nil {
		dueIn = sim.Const{V: 1e9}
	}
	b.p.Demand.Generator = &plant.Generator{
		Interarrival: sim.Exponential{M: mean},
		Mix:          []plant.Share{{Product: pr, Weight: 1}},
		Quantity:     sim.Const{V: 1},
		DueIn:        dueIn,
	}
}
