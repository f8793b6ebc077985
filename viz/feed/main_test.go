package feed

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// feed's poll and client goroutines, and the Go client's, are joined.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
