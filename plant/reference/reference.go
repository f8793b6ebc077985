// Package reference is the reference plant, built into the binaries: a
// small maker of electric motors in Qijiang, Chongqing (motor.yaml beside
// this file: stamping, winding, VPI ovens, die-casting, machining,
// assembly, test with rework, painting, packing; three motor families; two
// shifts; the source of every number in its comments). It is the plant of
// twin demo, and the plant of any command given a data directory that
// does not name its own.
//
// It is not a catalogue of plants: the plants the tests check against
// theory stay in testdata/plants, where motor.yaml is a link to this
// package's file (one copy: go:embed cannot reach testdata/, and the go
// tool ignores packages below it).
//
//	p, err := reference.Plant() // a new *plant.Plant each call
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Println(p.ID, len(p.Units), "machines")
package reference

import (
	_ "embed"

	"twin/plant"
)

// Source is the reference plant's file, as in the repository.
//
//go:embed motor.yaml
var Source []byte

// File names the reference plant in messages and errors: its path in the
// repository.
const File = "plant/reference/motor.yaml"

// Plant decodes the reference plant. Each call returns a new plant, which
// the caller may change (twin demo points its tag map at its own broker).
func Plant() (*plant.Plant, error) {
	return plant.Parse(File, Source)
}
