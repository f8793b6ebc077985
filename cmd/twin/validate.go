package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"twin/plant"
	"twin/scenarios"
)

func init() {
	register(&Command{
		Name:  "validate",
		Usage: "FILE…",
		Short: "check plant and scenario files without running them",
		Long: `Validate reads each file, a plant (plant/FORMAT.md) or a scenario
(scenarios/FORMAT.md, told apart by its "plant:" key naming a file), and
reports every error it finds as file:line:column: field: message. A
scenario is checked with the plant it names and every variant's overrides
applied. The status is 0 when every file is valid, 1 otherwise.`,
		Run: runValidate,
	})
}

func runValidate(ctx context.Context, args []string, stdout io.Writer) error {
	c := commands["validate"]
	fs := newFlags(c, stdout)
	files, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errUsage
	}
	bad := 0
	for _, f := range files {
		what, err := validateFile(f)
		if err != nil {
			bad++
			fmt.Fprintln(stdout, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%s)\n", f, what)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files have errors", bad, len(files))
	}
	return nil
}

// validateFile checks one file and says what it was.
func validateFile(f string) (string, error) {
	src, err := os.ReadFile(f)
	if err != nil {
		return "", fileHint(err)
	}
	if scenarios.IsScenario(src) {
		s, err := scenarios.Load(f)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("scenario %s: %d variants × %d replications on %s", s.Name, len(s.Variants), s.Replications, s.PlantFile), nil
	}
	p, err := plant.Parse(f, src)
	if err != nil {
		var list plant.Errors
		if errors.As(err, &list) {
			return "", list
		}
		return "", err
	}
	return fmt.Sprintf("plant %s: %d work centres, %d units, %d products", p.ID, len(p.WorkCenters), len(p.Units), len(p.Products)), nil
}
