package probe_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/internal/hostile"
	"github.com/probekit/probekit/probe"
)

// hostileTimeout is the probe timeout against hostile servers, the one of
// the reproduction (healthprobe -timeout 700ms).
const hostileTimeout = 700 * time.Millisecond

// slack is what a probe may take beyond its timeout on a loaded machine:
// closing connections, killing processes, scheduling. It bounds the tests;
// it never decides a verdict.
const slack = 2 * time.Second

// within runs f and fails the test if it took longer than budget+slack.
func within(t *testing.T, budget time.Duration, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if took := time.Since(start); took > budget+slack {
		t.Errorf("took %v, more than its timeout %v plus %v of slack", took, budget, slack)
	}
}

// TestHTTPGetHostile: whatever the server does, a probe returns within its
// timeout with the kubelet's verdict.
func TestHTTPGetHostile(t *testing.T) {
	t.Parallel()
	for _, b := range hostile.HTTPBehaviors {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			want := b.HTTP()
			var out probe.Outcome
			var err error
			within(t, hostileTimeout, func() {
				out, err = probe.HTTPGet{URL: hostile.URL(t, b)}.Probe(testCtx(t), hostileTimeout)
			})
			if want.BodyError {
				require.Error(t, err, "a body that cannot be read is an error, as in the kubelet")
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, want.Passes, out.Result.Passed(), "outcome %v", out)
			assert.Equal(t, want.StatusCode, out.StatusCode, "outcome %v", out)
			if b == hostile.SwitchProtocols {
				assert.Equal(t, "HTTP probe failed with statuscode: 101", out.Message)
			}
			if b == hostile.EndlessBody {
				assert.True(t, out.Truncated)
				assert.Len(t, out.Body, probe.MaxBody)
			}
		})
	}
}

// TestWaitReadyHostile: WaitReady gives up when its context does, even when
// every probe meets a server that would hold it forever.
func TestWaitReadyHostile(t *testing.T) {
	t.Parallel()
	for _, b := range hostile.HTTPBehaviors {
		if b.HTTP().Passes {
			continue
		}
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			url := hostile.URL(t, b)
			ctx, cancel := context.WithTimeout(testCtx(t), hostileTimeout)
			defer cancel()
			var err error
			within(t, hostileTimeout, func() { err = probe.WaitReady(ctx, url) })
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

// TestProberHostile: the probe loop keeps its period and reaches Failure
// against a server that answers 101 and holds the connection.
func TestProberHostile(t *testing.T) {
	t.Parallel()
	url := hostile.URL(t, hostile.SwitchProtocols)
	failed := make(chan probe.Transition, 4)
	p, err := probe.NewProber(probe.Liveness, probe.HTTPGet{URL: url}, probe.Settings{
		Period:           50 * time.Millisecond,
		Timeout:          hostileTimeout,
		FailureThreshold: 3,
		OnTransition: func(tr probe.Transition) {
			if tr.To == probe.Failure {
				failed <- tr
			}
		},
	})
	require.NoError(t, err)
	// Three probes that each returned at once; a probe held until its
	// timeout would take three timeouts.
	budget := 3 * hostileTimeout
	ctx, cancel := context.WithTimeout(testCtx(t), budget+slack)
	defer cancel()
	within(t, budget, func() { err = p.Run(ctx) })
	require.NoError(t, err, "a liveness probe stops at Failure")
	tr := <-failed
	assert.Equal(t, 101, tr.Outcome.StatusCode)
}

// TestTCPSocketHostile: a connect that is never established (a full accept
// queue) fails within the timeout; a server that accepts and then
// misbehaves passes, since a TCP probe only connects.
func TestTCPSocketHostile(t *testing.T) {
	t.Parallel()
	t.Run("connect never completes", func(t *testing.T) {
		t.Parallel()
		addr := hostile.ListenFull(t)
		var out probe.Outcome
		var err error
		within(t, hostileTimeout, func() {
			out, err = probe.TCPSocket{Addr: addr}.Probe(testCtx(t), hostileTimeout)
		})
		require.NoError(t, err)
		assert.Equal(t, probe.Failure, out.Result, out.Message)
	})
	for _, b := range []hostile.Behavior{hostile.AcceptNeverRead, hostile.SwitchProtocols, hostile.TLSHandshakeStall} {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			addr := hostile.Listen(t, b)
			var out probe.Outcome
			var err error
			within(t, hostileTimeout, func() {
				out, err = probe.TCPSocket{Addr: addr}.Probe(testCtx(t), hostileTimeout)
			})
			require.NoError(t, err)
			assert.Equal(t, probe.Success, out.Result, out.Message)
		})
	}
}
