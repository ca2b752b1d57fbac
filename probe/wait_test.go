package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/probe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWaitReadyAndNotReady is the intended use: assert that flipping an
// endpoint takes it into and out of rotation.
func TestWaitReadyAndNotReady(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	asked := make(chan struct{}, 1)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	ctx := testCtx(t)

	waited := make(chan error, 1)
	go func() { waited <- probe.WaitReady(ctx, srv.URL) }()
	<-asked // WaitReady has seen the endpoint not ready at least once
	ready.Store(true)
	require.NoError(t, <-waited)

	ready.Store(false)
	require.NoError(t, probe.WaitStatus(ctx, probe.HTTPGet{URL: srv.URL}, probe.Failure))
}

func TestWaitStatusGivesUp(t *testing.T) {
	t.Parallel()
	var served atomic.Int32
	// The caller gives up once the server has answered three probes, so
	// that polling is shown however fast the machine is.
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, secret)
		if served.Add(1) == 3 {
			w.(http.Flusher).Flush()
			cancel()
		}
	}))

	err := probe.WaitReady(ctx, srv.URL)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "the last gave failure: HTTP probe failed with statuscode: 503")
	assert.NotContains(t, err.Error(), secret)
	assert.Greater(t, served.Load(), int32(1), "it polls")
}

func TestWaitStatusDescribesErrors(t *testing.T) {
	t.Parallel()
	s := newScript(t, "abort")
	ctx, cancel := context.WithTimeout(testCtx(t), 100*time.Millisecond)
	defer cancel()
	err := probe.WaitStatus(ctx, probe.HTTPGet{URL: s.URL}, probe.Failure)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the last gave error: ")
	assert.Contains(t, err.Error(), "unexpected EOF")
}

func TestWaitStatusOtherActions(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	require.NoError(t, probe.WaitStatus(ctx, probe.TCPSocket{Addr: closedAddr(t)}, probe.Failure))
	requireTools(t, "true", "false")
	require.NoError(t, probe.WaitStatus(ctx, probe.Exec{Command: []string{"true"}}, probe.Success))
}

func TestWaitStatusInvalid(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	// Returned at once, not after the deadline: a bad URL never improves.
	assert.ErrorIs(t, probe.WaitReady(ctx, "ftp://127.0.0.1/"), probe.ErrInvalid)
	assert.ErrorIs(t, probe.WaitReady(ctx, ""), probe.ErrInvalid)
	a := probe.TCPSocket{Addr: "127.0.0.1:1"}
	assert.ErrorIs(t, probe.WaitStatus(ctx, a, probe.Warning), probe.ErrInvalid)
	assert.ErrorIs(t, probe.WaitStatus(ctx, a, probe.Unknown), probe.ErrInvalid)
	assert.ErrorIs(t, probe.WaitStatus(ctx, nil, probe.Success), probe.ErrInvalid)
}
