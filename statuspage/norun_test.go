package statuspage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// TestRunsNoCheck: 1,000 page loads, 100 JSON loads and a stream's
// updates through 6 changes run no check, and are no probe.
func TestRunsNoCheck(t *testing.T) {
	reg := newRegistry(t)
	var live, ready, start healthtest.Switch
	var dep atomic.Int64
	register(t, reg, health.Liveness, "live", &live)
	register(t, reg, health.Readiness, "ready-check", &ready)
	register(t, reg, health.Startup, "start", &start)
	register(t, reg, health.Readiness, "dep", health.DependencyFunc(func(context.Context) error {
		dep.Add(1)
		return errors.New("down")
	}))
	ready.Set(errors.New("not yet"))
	_, err := reg.Check(context.Background(), health.Readiness) // one probe: every check has a result
	require.NoError(t, err)
	runs := func() [4]int64 {
		return [4]int64{int64(live.Runs()), int64(ready.Runs()), int64(start.Runs()), dep.Load()}
	}
	before := runs()
	require.Equal(t, [4]int64{1, 1, 1, 1}, before)
	probed := reg.Latest(health.Readiness).LastProbed

	p := newPage(t, reg, Options{Authorize: allow(AccessDetails)})
	for range 1000 {
		res, body := get(t, p, "/")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "ready-check")
	}
	for range 100 {
		res, _ := get(t, p, "/history.json")
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	for i := range 3 {
		reg.MarkNotReady(fmt.Sprintf("change %d", i))
		s.waitFor(t, fmt.Sprintf("change %d", i), 5*time.Second)
		reg.MarkReady()
		s.waitFor(t, "Readiness switch on", 5*time.Second)
	}
	s.close()

	assert.Equal(t, before, runs(), "runs of live, ready-check, start and dep")
	assert.Equal(t, probed, reg.Latest(health.Readiness).LastProbed, "reading the page counted as a probe")
	_, body := get(t, p, "/")
	assert.Contains(t, rowOf(t, body, "ready-check"), "not yet", "the result of the one probe is shown")
}
