package health_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/probekit/probekit/health"
)

// The switches and gates over HTTP, each state asked three times (the
// first fills the cached rendering, the others are served from it): a
// cached answer never outlives a change.
func TestGatesOverHTTP(t *testing.T) {
	r := openRegistry(t, health.Options{StartNotReady: "warming caches"})
	var loop checkSwitch
	mustRegister(t, r, health.Liveness, "loop", &loop)
	mustRegister(t, r, health.Readiness, "db", passing)
	p := serveProbes(t, r)
	expect := func(live, ready int) {
		t.Helper()
		for range 3 {
			for _, path := range []string{"/", "/livez"} {
				assert.Equal(t, live, p.get(path).code, path)
				assert.Equal(t, live, p.do(http.MethodHead, path).code, path)
				assert.Equal(t, live, p.get(path, "Accept: text/plain").code, path)
			}
			for _, path := range []string{"/ready", "/readyz", "/readyz?verbose"} {
				assert.Equal(t, ready, p.get(path).code, path)
				assert.Equal(t, ready, p.do(http.MethodHead, path).code, path)
			}
		}
	}
	expect(http.StatusOK, http.StatusServiceUnavailable)
	resp := p.get("/readyz")
	assert.Equal(t, "fail", decodeHealth(t, resp).only(t, "ready").Status)
	assert.NotContains(t, resp.body, "warming", "reasons are withheld")
	r.MarkReady()
	expect(http.StatusOK, http.StatusOK)
	loop.set(true)
	expect(http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	assert.Equal(t, "fail", decodeHealth(t, p.get("/ready")).only(t, "liveness").Status)
	assert.Equal(t, "pass", decodeHealth(t, p.get("/ready")).only(t, "db").Status)
	loop.set(false)
	expect(http.StatusOK, http.StatusOK)
	r.MarkNotReady("maintenance")
	expect(http.StatusOK, http.StatusServiceUnavailable)
	r.MarkReady()
	expect(http.StatusOK, http.StatusOK)
	r.MarkBroken("wedged")
	expect(http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	assert.NotContains(t, p.get("/livez?verbose").body, "wedged", "reasons are withheld")
}

// Whatever the query, the answer is a verdict (or a 400), under 10 KiB.
func TestHostileQueries(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	mustRegister(t, r, health.Readiness, "cache", failing)
	mustRegister(t, r, health.Startup, "boot", passing)
	r.MarkBroken("test")
	p := serveProbes(t, r)
	long := strings.Repeat("x", 100<<10)
	var many strings.Builder
	for i := range 64 {
		fmt.Fprintf(&many, "exclude=%s%d&", strings.Repeat("y", 4000), i)
	}
	for _, q := range []string{
		"exclude=" + long, "verbose&exclude=" + long, many.String(), "verbose&" + many.String(),
		"exclude=", "exclude", "exclude=&exclude=&verbose", "exclude=%00%ff%22%3C", "verbose=false&verbose=1",
		"exclude=liveness", "exclude=startup", "exclude=ready", "exclude=alive",
		"exclude=liveness&exclude=startup&exclude=ready&exclude=db&exclude=cache", "&&&", "=x", "exclude=a+b",
	} {
		for _, path := range []string{"/readyz", "/livez", "/startupz", "/readyz/db", "/", "/startupz/boot"} {
			resp := p.get(path + "?" + q)
			label := path + "?" + q[:min(len(q), 40)]
			assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, resp.code, label)
			assert.Less(t, len(resp.body), 10240, label)
		}
	}
	// Liveness is broken: readiness fails unless that gate is excluded.
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz?exclude=").code)
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz?exclude=startup&exclude=db&exclude=cache").code)
	assert.Equal(t, http.StatusOK, p.get("/readyz?exclude=liveness&exclude=db&exclude=cache").code)
}
