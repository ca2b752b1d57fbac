package health_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// registry a test makes is closed, and Close waits for what it started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
