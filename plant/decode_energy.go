package plant

import (
	"strconv"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
)

// Energy: power per machine state, tariffs, the grid's emission factor.

func (d *decoder) energy(n *yaml.Node) {
	e := &d.p.Energy
	d.fields(n, "energy", "energy", func(key string, v *yaml.Node) {
		switch key {
		case "tariff":
			d.fields(v, "tariff", "energy.tariff", func(key string, v *yaml.Node) {
				for i, pn := range d.List(v, "energy.tariff.periods", false) {
					pf := "energy.tariff.periods." + yamldec.IDOf(pn, i)
					tp := TariffPeriod{}
					var price bool
					d.fields(pn, "period", pf, func(key string, v *yaml.Node) {
						f := yamldec.Join(pf, key)
						switch key {
						case "name":
							tp.Name = d.Str(v, f)
						case "price":
							if s, ok := d.Scalar(v, f, "a price like 0.65 "+d.p.Currency+"/kWh"); ok {
								x, err := parsePrice(s, d.p.Currency)
								if err != nil {
									d.Errorf(v, f, "%v", err)
								}
								tp.Price, price = x, true
							}
						case "months":
							ms, nodes := d.Strs(v, f)
							for i, m := range ms {
								k, err := strconv.Atoi(m)
								if err != nil || k < 1 || k > 12 {
									d.Errorf(nodes[i], f, "want months as numbers 1–12, got %q", m)
									continue
								}
								tp.Months[k] = true
							}
						case "hours":
							hs, nodes := d.Strs(v, f)
							for i, h := range hs {
								sp, err := parseSpan(h)
								if err != nil {
									d.Errorf(nodes[i], f, "%v", err)
									continue
								}
								tp.Hours = append(tp.Hours, sp)
							}
						}
					})
					if tp.Name == "" || !price {
						d.Errorf(pn, pf, "want name and price")
					}
					e.Tariff.Periods = append(e.Tariff.Periods, tp)
				}
			})
		case "emission":
			d.fields(v, "emission", "energy.emission", func(key string, v *yaml.Node) {
				f := "energy.emission." + key
				switch key {
				case "factor":
					if s, ok := d.Scalar(v, f, "an emission factor like 0.5366 kg/kWh"); ok {
						x, err := parseEmission(s)
						if err != nil {
							d.Errorf(v, f, "%v", err)
						}
						e.Emission.Factor = x
					}
				case "year":
					e.Emission.Year = d.Int(v, f, "a whole number", 1990, 2200)
				case "source":
					e.Emission.Source = d.Str(v, f)
				case "basis":
					e.Emission.Basis = d.Str(v, f)
					if e.Emission.Basis != "location" && e.Emission.Basis != "market" {
						d.Errorf(v, f, "want location or market (GHG Protocol scope 2), got %q", e.Emission.Basis)
					}
				}
			})
		}
	})
	if e.Emission.Basis == "" {
		e.Emission.Basis = "location"
	}
}
