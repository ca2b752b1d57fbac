package prommetrics_test

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

const lastProbed = "probekit_group_last_probed_timestamp_seconds"

// A group's last probe is absent until a probe (a request to its handler,
// or Check) asks for it, then the time of the latest one; scrapes are no
// probes.
func TestLastProbed(t *testing.T) {
	reg := openRegistry(t)
	m := serveMetrics(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "db", healthtest.Fixed(nil)))
	for range 3 {
		s := m.scrape()
		for _, g := range []string{"liveness", "readiness", "startup"} {
			assert.Equal(t, -1.0, s.value(lastProbed, "group="+g), "%s: never probed, absent", g)
		}
	}

	before := time.Now()
	rec := httptest.NewRecorder()
	reg.Handler(health.Readiness).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	after := time.Now()
	s := m.scrape()
	probed := s.value(lastProbed, "group=readiness")
	assert.Equal(t, float64(reg.Latest(health.Readiness).LastProbed.UnixNano())/1e9, probed, "Report.LastProbed")
	assert.GreaterOrEqual(t, probed, float64(before.UnixNano())/1e9)
	assert.LessOrEqual(t, probed, float64(after.UnixNano())/1e9)
	assert.Equal(t, -1.0, s.value(lastProbed, "group=liveness"), "a probe of readiness is none of liveness")
	assert.Equal(t, -1.0, s.value(lastProbed, "group=startup"))
	assert.Equal(t, probed, m.scrape().value(lastProbed, "group=readiness"), "a scrape is no probe")

	_, err := reg.Check(context.Background(), health.Liveness)
	require.NoError(t, err)
	s = m.scrape()
	assert.GreaterOrEqual(t, s.value(lastProbed, "group=liveness"), probed, "Check is a probe")
	assert.Equal(t, probed, s.value(lastProbed, "group=readiness"))
}
