package health

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBreakerTrialsAreJittered opens 50 breakers in the same instant (50
// dependency checks on a dead port, run by the same probes) and checks that
// their trial times spread over [open, open×(1+BreakerJitter)] after the
// opening instead of coinciding. The trial time is internal (retryAt):
// observing it from outside would take a 30 s wait per breaker.
func TestBreakerTrialsAreJittered(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	require.NoError(t, l.Close())

	r := New()
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	const n = 50
	for i := range n {
		require.NoError(t, r.Register(Readiness, fmt.Sprintf("dep-%02d", i), func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", dead)
			if err == nil {
				_ = c.Close()
			}
			return err
		}, Dependency(), Timeout(200*time.Millisecond)))
	}
	ctx := context.Background()
	for range DefaultBreakerFailures - 1 {
		_, err := r.Check(ctx, Readiness)
		require.NoError(t, err)
	}
	before := time.Now()
	rep, err := r.Check(ctx, Readiness)
	require.NoError(t, err)
	after := time.Now()
	require.Equal(t, StatusFail, rep.Status)

	var lo, hi time.Time
	distinct := make(map[time.Time]bool)
	for i := range n {
		b, err := r.Breaker(fmt.Sprintf("dep-%02d", i))
		require.NoError(t, err)
		require.Equal(t, gobreaker.StateOpen, b.State(), b.Name())
		b.mu.Lock()
		at := b.retryAt
		b.mu.Unlock()
		assert.False(t, at.Before(before.Add(DefaultBreakerOpen)), "%s retries %v after opening", b.Name(), at.Sub(before))
		assert.False(t, at.After(after.Add(time.Duration(float64(DefaultBreakerOpen)*(1+BreakerJitter)))),
			"%s retries %v after opening", b.Name(), at.Sub(after))
		distinct[at] = true
		if lo.IsZero() || at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
	}
	assert.Greater(t, len(distinct), n/2, "trial times coincide")
	// 50 uniform draws over a 6 s window all landing within 3 s of each
	// other has probability below 1e-13.
	assert.Greater(t, hi.Sub(lo), time.Duration(BreakerJitter*float64(DefaultBreakerOpen)/2), "trial times barely spread")
}
