package readyswitch

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSwitch(t *testing.T) {
	reg := health.New()
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	on, off := Handler(reg, true, "on"), Handler(reg, false, "off")
	for _, step := range []struct {
		h      http.Handler
		method string
		status health.Status
	}{
		{off, http.MethodPost, health.StatusFail},
		{on, http.MethodGet, health.StatusPass},
		{off, http.MethodGet, health.StatusFail},
		{on, http.MethodPost, health.StatusPass},
	} {
		r := healthtest.Do(t, step.h, httptest.NewRequest(step.method, "/", nil))
		require.Equal(t, http.StatusOK, r.Code)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(t, step.status, reg.Latest(health.Readiness).Status)
	}
	r := healthtest.Do(t, on, httptest.NewRequest(http.MethodDelete, "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, r.Code)
	assert.Equal(t, "GET, POST", r.Header.Get("Allow"))
}
