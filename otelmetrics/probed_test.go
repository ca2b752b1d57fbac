package otelmetrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A group's last probe is absent until a probe (a request to its handler,
// or Check) asks for it, then the time of the latest one; collections are
// no probes.
func TestLastProbed(t *testing.T) {
	r := record(t)
	require.NoError(t, r.reg.Register(health.Readiness, "db", healthtest.Fixed(nil)))
	probed := func(p points, g string) float64 {
		return p.get("probekit.group.last_probed_timestamp{group=" + g + "}")
	}
	for range 3 {
		p := r.collect()
		for _, g := range []string{"liveness", "readiness", "startup"} {
			assert.Equal(t, -1.0, probed(p, g), "%s: never probed, absent", g)
		}
	}

	before := time.Now()
	rec := httptest.NewRecorder()
	r.reg.Handler(health.Readiness).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	after := time.Now()
	p := r.collect()
	ready := probed(p, "readiness")
	assert.Equal(t, float64(r.reg.Latest(health.Readiness).LastProbed.UnixNano())/1e9, ready, "Report.LastProbed")
	assert.GreaterOrEqual(t, ready, float64(before.UnixNano())/1e9)
	assert.LessOrEqual(t, ready, float64(after.UnixNano())/1e9)
	assert.Equal(t, -1.0, probed(p, "liveness"), "a probe of readiness is none of liveness")
	assert.Equal(t, ready, probed(r.collect(), "readiness"), "a collection is no probe")

	_, err := r.reg.Check(context.Background(), health.Liveness)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, probed(r.collect(), "liveness"), ready, "Check is a probe")
}
