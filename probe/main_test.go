package probe_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// prober loop, an HTTP connection or an exec pipe copier.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
