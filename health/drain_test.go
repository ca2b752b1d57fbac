package health_test

import (
	"net/http"
	"testing"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// TestSetReadyAfterDrainKeepsReadinessOff: Drain is final. A later
// SetReady(true) (an application's warm-up finishing, a cache refresh, the
// seed app's /make_ready) must not put a process that is shutting down back
// into rotation, where its listener would close under traffic a moment later.
func TestSetReadyAfterDrainKeepsReadinessOff(t *testing.T) {
	reg := health.New()
	defer reg.Close()
	if err := reg.Drain(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	reg.SetReady(true) // e.g. a warm-up goroutine finishing late
	healthtest.AssertStatus(t, reg.Handler(health.Readiness), "/", http.StatusServiceUnavailable)
}
