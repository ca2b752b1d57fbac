package health_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/health"
)

// While its breaker is open, a background dependency check sleeps until the
// breaker's trial time or its interval, whichever comes later: an open
// breaker with a shorter open period than the interval must not make the
// check call a dead dependency more often than a healthy one.
func TestOpenBreakerNeverCallsMoreOftenThanTheInterval(t *testing.T) {
	const interval = 300 * time.Millisecond
	r := openRegistry(t)
	calls := make(chan time.Time, 8)
	mustRegister(t, r, health.Readiness, "db", func(context.Context) error {
		select {
		case calls <- time.Now():
		default:
		}
		return errors.New("down")
	}, health.Dependency(), health.Every(interval), health.Jitter(0), health.WithBreaker(gobreaker.Settings{
		Timeout:     20 * time.Millisecond,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	}))
	var prev time.Time
	for i := range 3 {
		select {
		case at := <-calls:
			if i > 0 && at.Sub(prev) < interval {
				t.Errorf("call %d came %v after the one before: the open breaker made the check call the dead dependency more often than its %v interval",
					i+1, at.Sub(prev).Round(time.Millisecond), interval)
			}
			prev = at
		case <-time.After(10 * time.Second):
			t.Fatalf("call %d never came", i+1)
		}
	}
}
