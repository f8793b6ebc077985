package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: every
// goroutine the package starts has an owner that joins it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
