// Package plant describes a discrete-manufacturing plant: its equipment
// hierarchy after ISA-95 (site, area, line, work centre, unit), products and
// bills of material, routings, setups, batches, inspections, failures and
// maintenance, calendars, workers, energy prices and emission factor,
// demand, floor layout, and the tag map that ties a live plant's signals to
// its assets.
//
// A plant is written in a YAML file (see FORMAT.md and plant.schema.json)
// and read with Load, which resolves every reference and reports every
// error with its file, line and field.
//
// It is not a simulator: package plant/model builds a simulation on the
// kernel from a Plant. Nor does it speak any protocol: the connectors read
// the tag map.
//
//	p, err := plant.Load("testdata/plants/motor.yaml")
//	if err != nil {
//		log.Fatal(err) // motor.yaml:42: units[3].failures[0].tbf: want a duration like "8h", got "eight"
//	}
//	fmt.Println(len(p.Units), "machines")
package plant
