package adversarial_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain guards the package with goleak: every hostile scenario must give
// back what it took (release hung user code, close registries), in the
// parent process and in the child processes the crash tests run in alike.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
