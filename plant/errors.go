package plant

import "twin/plant/yamldec"

// FieldError is one problem in a plant (or scenario) file: where it is and
// what was expected (see yamldec.FieldError).
type FieldError = yamldec.FieldError

// Errors is every problem found in a file, in line order.
type Errors = yamldec.Errors
