package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health/healthtest"
)

// TestStatusPageFromThePodOnly: /statusz/ shows the checks and why
// readiness fails to requests from 127.0.0.1 and ::1, and refuses every
// other address, other loopback ones included.
func TestStatusPageFromThePodOnly(t *testing.T) {
	a := newTestApp(t)
	for from, want := range map[string]int{
		"127.0.0.1:40000": http.StatusOK,
		"[::1]:40000":     http.StatusOK,
		"127.0.0.6:40000": http.StatusForbidden, // a sidecar proxy's address
		"10.1.2.3:40000":  http.StatusForbidden,
		"[fe80::1]:40000": http.StatusForbidden,
	} {
		req := httptest.NewRequest(http.MethodGet, "/statusz/", nil)
		req.RemoteAddr = from
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, from)
		body := rec.Body.String()
		if want == http.StatusOK {
			assert.Contains(t, body, `<span class="name">goroutines</span>`, from)
			assert.Contains(t, body, reasonNotReady, from)
		} else {
			assert.False(t, strings.Contains(body, "goroutines") || strings.Contains(body, reasonNotReady), from)
		}
	}
	// The probes are where they were, and are not the page.
	r := healthtest.AssertStatus(t, a.handler, "/ready", http.StatusServiceUnavailable)
	assert.Equal(t, "fail", r.Status)
}
