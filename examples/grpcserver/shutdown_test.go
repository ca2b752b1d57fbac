package main

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestSIGTERMWithWatcher is the sequence a pod goes through with a gRPC
// client watching its health: SIGTERM; readiness NOT_SERVING at once while
// calls are still served for the drain delay; then the Watch streams end
// and GracefulStop returns, long before the shutdown timeout that would
// otherwise cut it short (grpc-go issues #8776, #8882).
func TestSIGTERMWithWatcher(t *testing.T) {
	const drain = 2 * time.Second
	p := startBinary(t, "-drain-delay="+drain.String(), "-shutdown-timeout=5m")
	conn := p.conn(t)
	require.Equal(t, http.StatusOK, p.do(t, http.MethodPost, "/make_ready"))
	server, live := watch(t, conn, ""), watch(t, conn, "liveness")
	require.Equal(t, serving, server.until(t, serving))
	require.Equal(t, serving, live.next(t))

	p.Signal(syscall.SIGTERM)
	signalled := time.Now()
	assert.Equal(t, notServing, server.next(t), "readiness fails at once on SIGTERM")

	// Draining: still serving, over both protocols.
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	got, err := hello(ctx, conn, "kube")
	assert.NoError(t, err, "calls are served while draining")
	assert.Equal(t, "hello, kube", got)
	assert.Equal(t, http.StatusServiceUnavailable, p.do(t, http.MethodGet, "/ready"))
	assert.Equal(t, http.StatusOK, p.do(t, http.MethodGet, "/"))
	ok, out := kubelet(p, "liveness")
	assert.True(t, ok, "liveness passes while draining: %s", out)

	// Then the streams end, the liveness one after a last NOT_SERVING.
	_, err = server.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	assert.Equal(t, notServing, live.next(t))
	_, err = live.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	assert.GreaterOrEqual(t, time.Since(signalled), drain, "the streams stay open for the drain delay")

	// The 5 m shutdown timeout would fail Wait's bound: returning within
	// it means GracefulStop returned by itself.
	require.NoError(t, p.Wait(3*waitLimit), "exit status after SIGTERM")
	assert.Contains(t, p.Output(), "graceful=true")
	assert.False(t, strings.Contains(p.Output(), "level=ERROR"), "errors logged:\n%s", p.Output())
}
