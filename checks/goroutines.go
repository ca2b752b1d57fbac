package checks

import (
	"context"
	"runtime"

	"github.com/probekit/probekit/health"
)

// Goroutines returns a check that fails when the process runs more than max
// goroutines: a count that only grows is the usual symptom of a goroutine
// leak, which ends in an out-of-memory kill unless something restarts the
// process first. The check observes the count, in "goroutines".
//
// Goroutines is a check of process-local state, a health.CheckFunc, so it
// suits liveness (a restart does cure a leak) as well as readiness. Choose max well above the
// peak of normal load: the count includes goroutines serving requests. A max
// below 1 is a misconfiguration: Register refuses the check with an error
// matching health.ErrMisconfigured and starting "checks: Goroutines:".
func Goroutines(max int) health.Checker {
	if max < 1 {
		return misconfigured("Goroutines", "limit must be positive, got %d", max)
	}
	return health.CheckFunc(func(ctx context.Context) error {
		n := runtime.NumGoroutine()
		if n > max {
			return failf("Goroutines", "%d goroutines, above the limit of %d", n, max)
		}
		return nil
	})
}
