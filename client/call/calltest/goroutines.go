package calltest

import (
	"testing"

	"github.com/parleynet/parley/internal/leaktest"
)

// CheckGoroutines records the running goroutines; the returned function
// fails tb if goroutines started since are still running after a grace
// period, and prints their stacks (internal/leaktest). Use as defer
// CheckGoroutines(t)().
func CheckGoroutines(tb testing.TB) func() {
	tb.Helper()
	return leaktest.Check(tb)
}
