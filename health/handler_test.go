package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func passing(context.Context) error { return nil }

func failing(context.Context) error { return errors.New("broken") }

// probePaths are every path Mount serves, with a check name that exists.
var probePaths = []string{
	"/", "/ready", "/livez", "/readyz", "/startupz",
	"/livez/alive", "/readyz/ready", "/readyz/liveness", "/readyz/startup", "/readyz/db", "/startupz/boot",
}

func TestStatusCodeFollowsStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fn     health.CheckFunc
		opts   []health.CheckOption
		code   int
		status string
	}{
		{"pass", passing, nil, http.StatusOK, "pass"},
		{"non-critical failure warns", failing, []health.CheckOption{health.NonCritical()}, http.StatusOK, "warn"},
		{"Warn error warns", func(context.Context) error { return health.Warn(errors.New("cert expires soon")) }, nil, http.StatusOK, "warn"},
		{"fail", failing, nil, http.StatusServiceUnavailable, "fail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			mustRegister(t, r, health.Readiness, "db", tc.fn, tc.opts...)
			mustRegister(t, r, health.Startup, "boot", passing)
			p := serveProbes(t, r)
			for _, path := range []string{"/ready", "/readyz", "/readyz/db"} {
				resp := p.get(path)
				assert.Equal(t, tc.code, resp.code, "%s: %s", path, resp.body)
				body := decodeHealth(t, resp)
				assert.Equal(t, tc.status, body.Status, path)
				assert.Equal(t, tc.status, body.only(t, "db").Status, path)
			}
			for _, path := range probePaths {
				resp := p.get(path)
				assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, resp.code, "%s: %s", path, resp.body)
			}
		})
	}
}

func TestOtherMethodsGet405(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", passing)
	mustRegister(t, r, health.Startup, "boot", passing)
	p := serveProbes(t, r)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		for _, path := range probePaths {
			resp := p.do(method, path)
			assert.Equal(t, http.StatusMethodNotAllowed, resp.code, "%s %s", method, path)
			assert.Equal(t, "GET, HEAD", resp.header.Get("Allow"), "%s %s", method, path)
			assert.Equal(t, "no-store", resp.header.Get("Cache-Control"), "%s %s", method, path)
		}
	}
}

func TestHeadMatchesGet(t *testing.T) {
	for _, fn := range []health.CheckFunc{passing, failing} {
		r := openRegistry(t)
		// A background check that runs once: GET and HEAD are answered from
		// the same result, so the bodies (times, durations) are identical.
		mustRegister(t, r, health.Readiness, "db", fn, health.Every(time.Hour))
		p := serveProbes(t, r)
		waitResult(t, r, health.Readiness, "db", func(c health.CheckResult) bool { return !c.Time.IsZero() })
		for _, target := range []string{"/ready", "/readyz?verbose", "/readyz/db", "/"} {
			for _, accept := range []string{"", "Accept: text/plain"} {
				get := p.get(target, accept)
				head := p.do(http.MethodHead, target, accept)
				assert.Equal(t, get.code, head.code, "%s %s", target, accept)
				assert.Equal(t, int64(len(get.body)), get.length, "%s %s", target, accept)
				assert.Equal(t, get.length, head.length, "%s %s", target, accept)
				assert.Equal(t, get.header.Get("Content-Type"), head.header.Get("Content-Type"), "%s %s", target, accept)
				assert.Empty(t, head.body, "%s %s", target, accept)
			}
		}
		assert.Equal(t, http.StatusNotFound, p.do(http.MethodHead, "/readyz/nosuch").code)
	}
}

func TestResponseHeaders(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	p := serveProbes(t, r)
	for _, tc := range []struct {
		target, accept, contentType string
	}{
		{"/", "", "application/health+json"},
		{"/readyz", "", "application/health+json"},
		{"/readyz", "Accept: application/json, text/plain", "application/health+json"},
		{"/readyz", "Accept: */*", "application/health+json"},
		{"/readyz?verbose", "", "text/plain; charset=utf-8"},
		{"/readyz", "Accept: text/plain", "text/plain; charset=utf-8"},
		{"/livez", "Accept: text/plain", "text/plain; charset=utf-8"},
		{"/readyz/db", "", "application/health+json"},
		{"/readyz/nope", "", "text/plain; charset=utf-8"},
		{"/readyz?%zz", "", "text/plain; charset=utf-8"},
	} {
		resp := p.get(tc.target, tc.accept)
		assert.Equal(t, tc.contentType, resp.header.Get("Content-Type"), "%s %s", tc.target, tc.accept)
		assert.Equal(t, "no-store", resp.header.Get("Cache-Control"), "%s %s", tc.target, tc.accept)
		assert.Equal(t, "nosniff", resp.header.Get("X-Content-Type-Options"), "%s %s", tc.target, tc.accept)
	}
}

func TestTextForms(t *testing.T) {
	r := openRegistry(t)
	var dbUp atomic.Bool
	mustRegister(t, r, health.Readiness, "cache", passing)
	mustRegister(t, r, health.Readiness, "db", func(context.Context) error {
		if dbUp.Load() {
			return nil
		}
		return errSecret
	})
	p := serveProbes(t, r)

	for _, req := range [][]string{{"/readyz?verbose"}, {"/readyz", "Accept: text/plain"}} {
		resp := p.get(req[0], req[1:]...)
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		lines := strings.Split(strings.TrimSuffix(resp.body, "\n"), "\n")
		assert.Equal(t, []string{
			"[+]cache ok",
			"[-]db failed: reason withheld",
			"[+]liveness ok",
			"[+]ready ok",
			"[+]startup ok",
			"readiness check failed",
		}, lines, "%v", req)
	}

	dbUp.Store(true)
	resp := p.get("/readyz", "Accept: text/plain")
	assert.Equal(t, http.StatusOK, resp.code)
	assert.Equal(t, "ok", resp.body)
	resp = p.get("/readyz?verbose")
	assert.Equal(t, http.StatusOK, resp.code)
	assert.Contains(t, resp.body, "[+]db ok\n")
	assert.True(t, strings.HasSuffix(resp.body, "readiness check passed\n"), resp.body)
	resp = p.get("/livez?verbose")
	assert.Equal(t, "[+]alive ok\nliveness check passed\n", resp.body)
}

func TestExclude(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	mustRegister(t, r, health.Readiness, "cache", failing)
	mustRegister(t, r, health.Readiness, "queue", passing)
	p := serveProbes(t, r)

	resp := p.get("/readyz?exclude=db")
	assert.Equal(t, http.StatusServiceUnavailable, resp.code, "cache still fails")

	resp = p.get("/readyz?exclude=db&exclude=cache")
	assert.Equal(t, http.StatusOK, resp.code, resp.body)
	body := decodeHealth(t, resp)
	assert.NotContains(t, body.Checks, "db")
	assert.NotContains(t, body.Checks, "cache")
	assert.Contains(t, body.Checks, "queue")
	assert.Contains(t, body.Notes, "excluded: db")
	assert.Contains(t, body.Notes, "excluded: cache")

	t.Run("unknown names are noted", func(t *testing.T) {
		resp := p.get("/readyz?exclude=db&exclude=cache&exclude=nosuch")
		assert.Equal(t, http.StatusOK, resp.code, resp.body)
		body := decodeHealth(t, resp)
		require.NotEmpty(t, body.Notes)
		assert.Contains(t, strings.Join(body.Notes, "\n"), `"nosuch"`)
		resp = p.get("/readyz?exclude=db&exclude=cache&exclude=nosuch&verbose")
		assert.Equal(t, http.StatusOK, resp.code)
		assert.Contains(t, resp.body, "[+]db excluded: ok\n")
		assert.Contains(t, resp.body, `nosuch`)
	})

	t.Run("malformed query", func(t *testing.T) {
		for _, q := range []string{"?%zz", "?exclude=%zz", "?a=1;b=2"} {
			resp := p.get("/readyz" + q)
			assert.Equal(t, http.StatusBadRequest, resp.code, q)
		}
	})

	t.Run("at most 64 excludes", func(t *testing.T) {
		var q strings.Builder
		for i := range 64 {
			fmt.Fprintf(&q, "exclude=x%d&", i)
		}
		resp := p.get("/readyz?" + q.String())
		assert.Equal(t, http.StatusServiceUnavailable, resp.code, "64 unknown excludes are fine")
		assert.Less(t, len(resp.body), 10240)
		resp = p.get("/readyz?" + q.String() + "exclude=one-too-many")
		assert.Equal(t, http.StatusBadRequest, resp.code)
		// Repeating a name does not count twice.
		resp = p.get("/readyz?" + strings.Repeat("exclude=db&", 200))
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
	})

	t.Run("hostile queries", func(t *testing.T) {
		r.MarkBroken("test")
		defer r.SetAlive(true)
		long := strings.Repeat("x", 100<<10)
		var many strings.Builder
		for i := range 64 {
			fmt.Fprintf(&many, "exclude=%s%d&", strings.Repeat("y", 4000), i)
		}
		for _, q := range []string{
			"exclude=" + long,
			"verbose&exclude=" + long,
			many.String(),
			"verbose&" + many.String(),
			"exclude=",
			"exclude",
			"exclude=&exclude=&verbose",
			"exclude=%00%ff%22%3C",
			"verbose=false&verbose=1",
			"exclude=liveness",
			"exclude=startup",
			"exclude=ready",
			"exclude=liveness&exclude=startup&exclude=ready&exclude=db&exclude=cache",
		} {
			for _, path := range []string{"/readyz", "/livez", "/startupz", "/readyz/db", "/"} {
				resp := p.get(path + "?" + q)
				label := path + "?" + q[:min(len(q), 40)]
				assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, resp.code, label)
				assert.Less(t, len(resp.body), 10240, label)
			}
		}
		// Liveness is broken: readiness fails unless that gate is excluded,
		// and an exclusion is always stated in the body.
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz?exclude=").code)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz?exclude=startup&exclude=db&exclude=cache").code)
		resp := p.get("/readyz?exclude=liveness&exclude=db&exclude=cache")
		assert.Equal(t, http.StatusOK, resp.code)
		assert.Contains(t, decodeHealth(t, resp).Notes, "excluded: liveness")
		// Gate names are not entries of liveness: excluding them there is
		// a no-op with a note.
		resp = p.get("/livez?exclude=liveness")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		assert.Contains(t, strings.Join(decodeHealth(t, resp).Notes, "\n"), `"liveness"`)
	})
}

func TestPerCheckPaths(t *testing.T) {
	r := openRegistry(t)
	var bootRuns atomic.Int64
	mustRegister(t, r, health.Liveness, "loop", passing)
	mustRegister(t, r, health.Readiness, "good", passing)
	mustRegister(t, r, health.Readiness, "bad", failing)
	mustRegister(t, r, health.Startup, "boot", func(context.Context) error { bootRuns.Add(1); return nil })
	p := serveProbes(t, r)

	for _, tc := range []struct {
		path string
		code int
	}{
		{"/readyz/good", http.StatusOK},
		{"/readyz/bad", http.StatusServiceUnavailable},
		{"/readyz/liveness", http.StatusOK},
		{"/readyz/ready", http.StatusOK},
		{"/readyz/startup", http.StatusOK},
		{"/livez/alive", http.StatusOK},
		{"/livez/loop", http.StatusOK},
		{"/startupz/boot", http.StatusOK},
	} {
		resp := p.get(tc.path)
		assert.Equal(t, tc.code, resp.code, "%s: %s", tc.path, resp.body)
		name := tc.path[strings.LastIndexByte(tc.path, '/')+1:]
		body := decodeHealth(t, resp)
		assert.Len(t, body.Checks, 1, tc.path)
		assert.Contains(t, body.Checks, name, tc.path)
	}
	assert.Positive(t, bootRuns.Load())

	for _, path := range []string{
		"/readyz/nosuch", "/livez/good", "/livez/ready", "/startupz/good", "/readyz/alive",
		"/readyz/loop", "/livez/liveness", "/readyz/%2e%2e", "/readyz/" + strings.Repeat("a", 300),
	} {
		resp := p.get(path)
		assert.Equal(t, http.StatusNotFound, resp.code, path)
		assert.Equal(t, "no-store", resp.header.Get("Cache-Control"), path)
	}
	for _, path := range []string{"/other", "/readyz/good/x", "/readyz/", "/ready/", "/favicon.ico"} {
		assert.Equal(t, http.StatusNotFound, p.get(path).code, path)
	}

	// "/" is liveness and "/ready" readiness.
	root := decodeHealth(t, p.get("/"))
	assert.Contains(t, root.Checks, "alive")
	assert.Contains(t, root.Checks, "loop")
	assert.NotContains(t, root.Checks, "good")
	ready := p.get("/ready")
	assert.Equal(t, http.StatusServiceUnavailable, ready.code)
	assert.Contains(t, decodeHealth(t, ready).Checks, "bad")

	// A per-check path reflects the gates it names.
	r.MarkBroken("wedged")
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz/liveness").code)
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/livez/alive").code)
	assert.Equal(t, http.StatusOK, p.get("/livez/loop").code, "only that entry counts")
	assert.Equal(t, http.StatusOK, p.get("/readyz/good").code, "only that entry counts")
	r.SetReady(false)
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz/ready").code)
}

func TestReadinessGates(t *testing.T) {
	t.Run("failing liveness check", func(t *testing.T) {
		r := openRegistry(t)
		var broken atomic.Bool
		mustRegister(t, r, health.Liveness, "loop", func(context.Context) error {
			if broken.Load() {
				return errors.New("stuck")
			}
			return nil
		})
		mustRegister(t, r, health.Readiness, "db", passing)
		p := serveProbes(t, r)
		assert.Equal(t, http.StatusOK, p.get("/ready").code)
		broken.Store(true)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/").code)
		resp := p.get("/ready")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		assert.Equal(t, "fail", decodeHealth(t, resp).only(t, "liveness").Status)
		assert.Equal(t, "pass", decodeHealth(t, resp).only(t, "db").Status)
		broken.Store(false)
		assert.Equal(t, http.StatusOK, p.get("/ready").code)
	})

	t.Run("MarkBroken", func(t *testing.T) {
		r := openRegistry(t)
		p := serveProbes(t, r)
		r.MarkBroken("worker wedged")
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/").code)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/livez").code)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/ready").code)
		assert.NotContains(t, p.get("/livez?verbose").body, "wedged", "reasons are withheld")
		r.SetAlive(true)
		assert.Equal(t, http.StatusOK, p.get("/").code)
		assert.Equal(t, http.StatusOK, p.get("/ready").code)
	})

	t.Run("startup latches", func(t *testing.T) {
		r := openRegistry(t)
		var started atomic.Bool
		var runs atomic.Int64
		mustRegister(t, r, health.Startup, "migrate", func(context.Context) error {
			runs.Add(1)
			if started.Load() {
				return nil
			}
			return errors.New("migrating")
		})
		p := serveProbes(t, r)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/ready").code)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/startupz").code)
		assert.Equal(t, http.StatusOK, p.get("/livez").code, "liveness does not wait for startup")
		assert.Equal(t, int64(2), runs.Load())
		started.Store(true)
		assert.Equal(t, http.StatusOK, p.get("/ready").code)
		n := runs.Load()
		started.Store(false)
		for _, path := range []string{"/ready", "/readyz", "/startupz", "/startupz/migrate", "/readyz/startup"} {
			assert.Equal(t, http.StatusOK, p.get(path).code, path)
		}
		assert.Equal(t, n, runs.Load(), "a latched startup check is not run again")
	})

	t.Run("readiness switch", func(t *testing.T) {
		r := openRegistry(t, health.StartNotReady("warming caches"))
		mustRegister(t, r, health.Readiness, "db", passing)
		p := serveProbes(t, r)
		check := func(ready int) {
			t.Helper()
			assert.Equal(t, ready, p.get("/ready").code)
			assert.Equal(t, ready, p.get("/readyz?verbose").code)
			assert.Equal(t, http.StatusOK, p.get("/").code, "liveness never follows the switch")
			assert.Equal(t, http.StatusOK, p.get("/livez").code)
		}
		check(http.StatusServiceUnavailable)
		resp := p.get("/readyz")
		assert.Equal(t, "fail", decodeHealth(t, resp).only(t, "ready").Status)
		assert.NotContains(t, resp.body, "warming", "reasons are withheld")
		r.SetReady(true)
		check(http.StatusOK)
		r.MarkNotReady("maintenance")
		check(http.StatusServiceUnavailable)
		r.SetReady(true)
		check(http.StatusOK)
		require.NoError(t, r.Drain(context.Background(), 0))
		check(http.StatusServiceUnavailable)
	})
}

func TestMountErrors(t *testing.T) {
	r := openRegistry(t)
	assert.Error(t, r.Mount(nil))
	var typedNil *http.ServeMux
	assert.Error(t, r.Mount(typedNil))

	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(http.ResponseWriter, *http.Request) {})
	assert.Error(t, r.Mount(mux))

	mux = http.NewServeMux()
	require.NoError(t, r.Mount(mux))
	assert.Error(t, r.Mount(mux), "mounting twice conflicts")
}

// TestCachedPathFollowsChanges checks that a probe answered from the cached
// rendering never serves a stale verdict.
func TestCachedPathFollowsChanges(t *testing.T) {
	r := openRegistry(t)
	var healthy atomic.Bool
	healthy.Store(true)
	mustRegister(t, r, health.Readiness, "db", func(context.Context) error {
		if healthy.Load() {
			return nil
		}
		return errors.New("down")
	}, health.Every(2*time.Millisecond), health.Jitter(0))
	p := serveProbes(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	expect := func(code int, status string) {
		t.Helper()
		for range 3 { // the first fills the cache, the others hit it
			resp := p.get("/readyz")
			require.Equal(t, code, resp.code, resp.body)
			require.Equal(t, status, decodeHealth(t, resp).Status)
			require.Equal(t, code, p.do(http.MethodHead, "/readyz").code)
			require.Equal(t, code, p.get("/readyz", "Accept: text/plain").code)
		}
	}
	for range 3 {
		_, err := r.WaitFor(ctx, health.Readiness, health.StatusPass)
		require.NoError(t, err)
		expect(http.StatusOK, "pass")

		healthy.Store(false)
		_, err = r.WaitFor(ctx, health.Readiness, health.StatusFail)
		require.NoError(t, err)
		expect(http.StatusServiceUnavailable, "fail")
		healthy.Store(true)
	}

	_, err := r.WaitFor(ctx, health.Readiness, health.StatusPass)
	require.NoError(t, err)
	expect(http.StatusOK, "pass")
	r.SetReady(false)
	expect(http.StatusServiceUnavailable, "fail")
	r.SetReady(true)
	expect(http.StatusOK, "pass")
	r.MarkBroken("x")
	expect(http.StatusServiceUnavailable, "fail")
	r.SetAlive(true)
	expect(http.StatusOK, "pass")
}
