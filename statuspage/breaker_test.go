package statuspage

import (
	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/health"
)

// breakerStatus returns a breaker status in state ("closed", "half-open",
// "open").
func breakerStatus(state string) *health.BreakerStatus {
	for _, s := range []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen} {
		if s.String() == state {
			return &health.BreakerStatus{State: s}
		}
	}
	panic("no breaker state " + state)
}
