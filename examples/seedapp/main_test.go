package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/probekit/probekit/health/healthtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

func newTestApp(t *testing.T) *app {
	t.Helper()
	a, err := newApp(slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.reg.Close()) })
	return a
}

func TestStartsNotReadyAndAnswers503(t *testing.T) {
	a := newTestApp(t)
	r := healthtest.AssertStatus(t, a.handler, "/ready", http.StatusServiceUnavailable)
	assert.Equal(t, "fail", r.Status)
	assert.Equal(t, "fail", r.Checks["ready"].Status)
	healthtest.AssertStatus(t, a.handler, "/", http.StatusOK)
	healthtest.AssertStatus(t, a.handler, "/startupz", http.StatusOK)
}

func TestMakeReadyAndNotReady(t *testing.T) {
	a := newTestApp(t)
	for _, step := range []struct {
		method, path string
		ready        int
	}{
		{http.MethodGet, "/make_ready", http.StatusOK},
		{http.MethodPost, "/make_not_ready", http.StatusServiceUnavailable},
		{http.MethodPost, "/make_ready", http.StatusOK},
		{http.MethodGet, "/make_not_ready", http.StatusServiceUnavailable},
	} {
		req, err := http.NewRequest(step.method, step.path, nil)
		require.NoError(t, err)
		r := healthtest.Do(t, a.handler, req)
		require.Equal(t, http.StatusOK, r.Code, "%s %s", step.method, step.path)
		assert.Contains(t, string(r.Body), `"ready":`)
		healthtest.AssertStatus(t, a.handler, "/ready", step.ready)
		healthtest.AssertStatus(t, a.handler, "/", http.StatusOK)
	}
}

func TestToggleRejectsOtherMethods(t *testing.T) {
	a := newTestApp(t)
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodPatch, http.MethodOptions} {
		req, err := http.NewRequest(method, "/make_ready", nil)
		require.NoError(t, err)
		r := healthtest.Do(t, a.handler, req)
		assert.Equal(t, http.StatusMethodNotAllowed, r.Code, method)
		assert.Equal(t, "GET, POST", r.Header.Get("Allow"), method)
	}
	healthtest.AssertStatus(t, a.handler, "/ready", http.StatusServiceUnavailable)
}

func TestLivenessIsProcessLocal(t *testing.T) {
	a := newTestApp(t)
	r := healthtest.AssertStatus(t, a.handler, "/", http.StatusOK)
	require.Contains(t, r.Checks, "goroutines")
	assert.Equal(t, "pass", r.Checks["goroutines"].Status)
	for name, e := range r.Checks {
		assert.Empty(t, e.Breaker, "liveness entry %q is a dependency check", name)
	}
	// Readiness may go down; liveness does not follow it.
	a.reg.MarkNotReady("maintenance")
	healthtest.AssertStatus(t, a.handler, "/", http.StatusOK)
}

func TestOtherPathsAreNotLiveness(t *testing.T) {
	a := newTestApp(t)
	healthtest.AssertStatus(t, a.handler, "/anything", http.StatusNotFound)
	healthtest.AssertStatus(t, a.handler, "/readyz/goroutines", http.StatusNotFound)
	healthtest.AssertStatus(t, a.handler, "/livez/goroutines", http.StatusOK)
}

func TestFlags(t *testing.T) {
	fs, cfg := newFlags(io.Discard)
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, ":5000", cfg.addr, "the tutorial's port, which the Dockerfile and deployment.yaml use")
	assert.Equal(t, 5*time.Second, cfg.drainDelay)
	assert.Equal(t, 10*time.Second, cfg.shutdownTimeout)

	var stderr bytes.Buffer
	assert.ErrorIs(t, run(t.Context(), []string{"-h"}, io.Discard, &stderr), flag.ErrHelp)
	assert.Contains(t, stderr.String(), "-drain-delay")
	assert.Error(t, run(t.Context(), []string{"-drain-delay", "soon"}, io.Discard, io.Discard))
	assert.ErrorContains(t, run(t.Context(), []string{"extra"}, io.Discard, io.Discard), "unexpected arguments")
}

func TestRunFailsOnBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(t.Context(), []string{"-addr", ln.Addr().String()}, io.Discard, io.Discard)
	assert.ErrorIs(t, err, syscall.EADDRINUSE)
}

// TestOverRealSocket runs the built binary and walks the tutorial: readiness
// fails until /make_ready, passes after it, fails again after
// /make_not_ready, and liveness passes throughout. Then SIGTERM stops it
// cleanly.
func TestOverRealSocket(t *testing.T) {
	p := startBinary(t, "-addr", "127.0.0.1:0", "-drain-delay", "100ms")

	assert.Equal(t, http.StatusServiceUnavailable, p.do(t, http.MethodGet, "/ready"), "starts not ready, and says so with a 503")
	assert.Equal(t, http.StatusOK, p.do(t, http.MethodGet, "/"))
	assert.Equal(t, http.StatusOK, p.do(t, http.MethodGet, "/make_ready"))
	assert.Equal(t, http.StatusOK, p.do(t, http.MethodGet, "/ready"))
	assert.Equal(t, http.StatusOK, p.do(t, http.MethodGet, "/"))
	assert.Equal(t, http.StatusOK, p.do(t, http.MethodPost, "/make_not_ready"))
	assert.Equal(t, http.StatusServiceUnavailable, p.do(t, http.MethodGet, "/ready"))
	assert.Equal(t, http.StatusOK, p.do(t, http.MethodGet, "/"))
	assert.Equal(t, http.StatusMethodNotAllowed, p.do(t, http.MethodPut, "/make_ready"))
	assert.Equal(t, http.StatusServiceUnavailable, p.do(t, http.MethodGet, "/ready"))

	require.NoError(t, p.stop(t), "exit status after SIGTERM")
	logs := p.Output()
	drain := strings.Index(logs, "failing readiness and draining")
	closing := strings.Index(logs, "closing the listener")
	done := strings.Index(logs, "shutdown: done")
	assert.True(t, drain >= 0 && drain < closing && closing < done, "shutdown phases out of order:\n%s", logs)
}
