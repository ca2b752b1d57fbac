package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttemptRetriesThreeTimes pins the kubelet's maxProbeRetries
// (pkg/kubelet/prober/prober.go:42 and 139-150, v1.37.2): an erroring
// probe is tried exactly three times, then its error is returned.
func TestAttemptRetriesThreeTimes(t *testing.T) {
	t.Parallel()
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) <= 4 {
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "cut")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the body breaks off: an errored probe
		}
	}))
	defer srv.Close()
	p, err := NewProber(Readiness, HTTPGet{URL: srv.URL}, Settings{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	out, err := p.attempt(ctx)
	require.Error(t, err)
	assert.Equal(t, Failure, out.Result)
	assert.EqualValues(t, 3, served.Load())

	// Requests 4 (error) and 5 (success): a retry stops at the first
	// attempt without an error.
	out, err = p.attempt(ctx)
	require.NoError(t, err)
	assert.Equal(t, Success, out.Result)
	assert.EqualValues(t, 5, served.Load())
}
