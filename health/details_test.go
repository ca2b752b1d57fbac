package health_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/probekit/probekit/health"
)

// A ShowDetails that panics or calls runtime.Goexit costs the request its
// details, never the process; the logger hears why.
func TestShowDetailsThatFailsGivesNoDetails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		details func(*http.Request) bool
		logged  string
	}{
		{"panics", func(*http.Request) bool { panic("details " + errSecret.Error()) }, "panicked"},
		{"calls runtime.Goexit", func(*http.Request) bool { runtime.Goexit(); return true }, "Goexit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs, logger := newLog()
			r := openRegistry(t, health.Options{Logger: logger, ShowDetails: tc.details})
			mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return errSecret }))
			for _, target := range []string{"/readyz", "/readyz?verbose", "/readyz/db"} {
				w := serve(r.Handler(health.Readiness), http.MethodGet, target)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code, target)
				assert.Contains(t, w.Body.String(), "reason withheld", target)
				assert.False(t, leaks(w.Body.String()), target)
			}
			rec := logs.wait(t, "ShowDetails's failure", msgContains("ShowDetails failed"))
			msg, _ := rec["error"].(string)
			assert.Contains(t, msg, tc.logged)
			assert.NotContains(t, logs.String(), "hunter2", "the panic value is redacted")
		})
	}
}

// A ShowDetails that hangs is abandoned after 100 ms: the request gets no
// details, and while it has not returned, later requests get none without
// a call.
func TestShowDetailsThatHangsGivesNoDetails(t *testing.T) {
	logs, logger := newLog()
	var calls atomic.Int32
	release := make(chan struct{})
	var hang atomic.Bool
	hang.Store(true)
	r := openRegistry(t, health.Options{Logger: logger, ShowDetails: func(*http.Request) bool {
		calls.Add(1)
		if hang.Load() {
			<-release
		}
		return true
	}})
	mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return errSecret }))
	h := r.Handler(health.Readiness)

	w := serve(h, http.MethodGet, "/readyz?verbose")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, w.Body.String(), "reason withheld")
	rec := logs.wait(t, "the hung ShowDetails", msgContains("ShowDetails failed"))
	assert.Contains(t, rec["error"], "100ms")
	for range 5 {
		w = serve(h, http.MethodGet, "/readyz?verbose")
		assert.Contains(t, w.Body.String(), "reason withheld")
	}
	assert.Equal(t, int32(1), calls.Load(), "no call while the hung one has not returned")
	assert.Equal(t, 1, logs.count(t, msgContains("ShowDetails failed")), "refusals are not logged again")

	hang.Store(false)
	close(release)
	waitFor(t, "ShowDetails to be called again", func() bool {
		body := serve(h, http.MethodGet, "/readyz?verbose").Body.String()
		return strings.Contains(body, shownSecret)
	})
	assert.GreaterOrEqual(t, calls.Load(), int32(2))
}

// ShowDetails is asked per request, and its answer decides that request
// only: it may vary by header, and a cached rendering is never shown to
// the wrong audience (see TestShowDetails).
func TestShowDetailsIsAskedPerRequest(t *testing.T) {
	var calls atomic.Int32
	r := openRegistry(t, health.Options{ShowDetails: func(req *http.Request) bool {
		calls.Add(1)
		return req.URL.Query().Has("details")
	}})
	r.MarkNotReady("maintenance window")
	h := r.Handler(health.Readiness)
	for i := range 4 {
		assert.NotContains(t, serve(h, http.MethodGet, "/readyz").Body.String(), "maintenance")
		assert.Contains(t, serve(h, http.MethodGet, "/readyz?details").Body.String(), "maintenance window")
		assert.Equal(t, int32(2*(i+1)), calls.Load())
	}
}
