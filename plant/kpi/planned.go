package kpi

import (
	"time"

	"twin/plant"
	"twin/sim"
)

// PerUnitTime is the planned run time of one unit whose processing time
// at work centre wc is d: d's mean, and for a batch work centre the mean
// cycle shared by its capacity (ISO 22400's PRU counts the machine's
// capability, so a batch run below capacity shows as lost effectiveness).
func PerUnitTime(d sim.Dist, wc *plant.WorkCenter) time.Duration {
	if d == nil {
		return 0
	}
	s := d.Mean()
	if wc != nil && wc.Batch != nil && wc.Batch.Max > 1 {
		s /= float64(wc.Batch.Max)
	}
	return time.Duration(s * float64(time.Second))
}

// OperationTime is the planned run time per unit of operation op of
// routing r for product pr at work centre wc: the operation's time there,
// or its rework time when wc is the operation's rework station. ok is
// false when r has no such operation at wc.
func OperationTime(r *plant.Routing, op string, pr *plant.Product, wc *plant.WorkCenter) (time.Duration, bool) {
	if r == nil {
		return 0, false
	}
	for _, o := range r.Ops {
		if o.ID != op {
			continue
		}
		for _, a := range o.Alternatives {
			if a.WorkCenter == wc {
				return PerUnitTime(times(a.Time, pr), wc), true
			}
		}
		if o.Inspect != nil && o.Inspect.Rework != nil && o.Inspect.Rework.WorkCenter == wc {
			return PerUnitTime(times(o.Inspect.Rework.Time, pr), wc), true
		}
	}
	return 0, false
}

func times(t plant.Times, pr *plant.Product) sim.Dist {
	if pr == nil {
		return t.Default
	}
	return t.ForProduct(pr.ID, pr.Family)
}

// MeanTime is the planned run time per unit at work centre wc when what
// it makes is not known: the mean over the plant's routings' operations
// there and the plant's product families.
func MeanTime(p *plant.Plant, wc *plant.WorkCenter) time.Duration {
	var sum time.Duration
	n := 0
	fams := p.Families
	if len(fams) == 0 {
		fams = []string{""}
	}
	for _, r := range p.Routings {
		for _, op := range r.Ops {
			for _, a := range op.Alternatives {
				if a.WorkCenter != wc {
					continue
				}
				for _, f := range fams {
					if d := a.Time.For(f); d != nil {
						sum += PerUnitTime(d, wc)
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / time.Duration(n)
}

// FinalWorkCenters returns the work centres that can do a product's last
// operation: the good units counted there are the units completed.
func FinalWorkCenters(p *plant.Plant) map[*plant.WorkCenter]bool {
	out := map[*plant.WorkCenter]bool{}
	for _, pr := range p.Products {
		if r := pr.Routing; r != nil && len(r.Ops) > 0 {
			for _, a := range r.Ops[len(r.Ops)-1].Alternatives {
				out[a.WorkCenter] = true
			}
		}
	}
	return out
}

// LineOf returns the id of the production line a unit belongs to ("" if
// none).
func LineOf(u *plant.Unit) string {
	for n := u.Node; n != nil; n = n.Parent {
		if n.Level == plant.LineLevel {
			return n.ID
		}
	}
	return ""
}
