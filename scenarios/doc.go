// Package scenarios runs what-if studies on a plant: a scenario file names
// a plant, changes any of its values, lists variants and sweeps of such
// changes, and says how long and how often to simulate them. Run executes
// every replication of every variant in parallel, with common random
// numbers across variants, and summarises each KPI by its mean and 95%
// confidence interval, and by its difference from the baseline.
//
// The file format and the output files are specified in FORMAT.md.
//
// It is not the simulation model (package plant/model) nor the plant file
// format (package plant): it changes a plant's YAML document and hands it
// to plant.Decode, so a wrong value is reported by the plant's own checks,
// at its line in the scenario file.
//
//	s, err := scenarios.Load("scenarios/buffer-sweep.yaml")
//	if err != nil {
//		log.Fatal(err) // buffer-sweep.yaml:14:5: overrides.workcenters.windng.buffer: no workcenters "windng" in the plant
//	}
//	res, err := scenarios.Run(ctx, s, scenarios.Options{})
//	…
//	res.WriteJSON(w)
package scenarios
