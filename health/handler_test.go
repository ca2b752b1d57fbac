package health_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// probePaths are every path Mount serves, with entry names that exist.
var probePaths = []string{
	"/", "/ready", "/livez", "/readyz", "/startupz",
	"/livez/alive", "/readyz/ready", "/readyz/liveness", "/readyz/startup", "/readyz/db", "/startupz/boot",
}

func TestStatusCodeFollowsStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		c      health.Checker
		opts   health.CheckOptions
		code   int
		status string
	}{
		{"pass", passing, health.CheckOptions{}, http.StatusOK, "pass"},
		{"a non-critical failure warns", failing, health.CheckOptions{NonCritical: true}, http.StatusOK, "warn"},
		{"a Warn error warns", health.CheckFunc(func(context.Context) error { return health.Warn(errors.New("cert expires soon")) }),
			health.CheckOptions{}, http.StatusOK, "warn"},
		{"a wrapped Warn error warns", health.CheckFunc(func(context.Context) error {
			return errors.Join(errors.New("x"), health.Warn(errors.New("slow")))
		}), health.CheckOptions{}, http.StatusOK, "warn"},
		{"fail", failing, health.CheckOptions{}, http.StatusServiceUnavailable, "fail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			mustRegister(t, r, health.Readiness, "db", tc.c, tc.opts)
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
			rep := report(t, r, health.Readiness)
			assert.Equal(t, tc.status, rep.Status.String(), "the report's status is the one the handler answers with")
		})
	}
	assert.Nil(t, health.Warn(nil))
}

func TestOtherMethodsGet405(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", passing)
	mustRegister(t, r, health.Startup, "boot", passing)
	p := serveProbes(t, r)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "PROPFIND"} {
		for _, path := range probePaths {
			resp := p.do(method, path)
			assert.Equal(t, http.StatusMethodNotAllowed, resp.code, "%s %s", method, path)
			assert.Equal(t, "GET, HEAD", resp.header.Get("Allow"), "%s %s", method, path)
			assert.Equal(t, "no-store", resp.header.Get("Cache-Control"), "%s %s", method, path)
		}
	}
}

func TestHeadMatchesGet(t *testing.T) {
	for _, c := range []health.Checker{passing, failing} {
		r := openRegistry(t)
		rec := observe(r)
		// A background check that runs once: GET and HEAD are answered from
		// the same result, so the bodies (times, durations) are the same.
		mustRegister(t, r, health.Readiness, "db", c, health.CheckOptions{Every: time.Hour})
		rec.runsOf(t, "db", 1)
		p := serveProbes(t, r)
		for _, target := range []string{"/ready", "/readyz?verbose", "/readyz/db", "/", "/livez/alive"} {
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
		code                        int
	}{
		{"/", "", "application/health+json", 200},
		{"/readyz", "", "application/health+json", 503},
		{"/readyz", "Accept: application/json, text/plain", "application/health+json", 503},
		{"/readyz", "Accept: application/health+json", "application/health+json", 503},
		{"/readyz", "Accept: */*", "application/health+json", 503},
		{"/readyz?verbose", "", "text/plain; charset=utf-8", 503},
		{"/readyz?verbose", "Accept: application/json", "text/plain; charset=utf-8", 503},
		{"/readyz", "Accept: text/plain", "text/plain; charset=utf-8", 503},
		{"/readyz", "Accept: text/plain;q=0.9, */*;q=0.8", "text/plain; charset=utf-8", 503},
		{"/livez", "Accept: text/plain", "text/plain; charset=utf-8", 200},
		{"/readyz/db", "", "application/health+json", 503},
		{"/readyz/nope", "", "text/plain; charset=utf-8", 404},
		{"/readyz?%zz", "", "text/plain; charset=utf-8", 400},
	} {
		resp := p.get(tc.target, tc.accept)
		label := tc.target + " " + tc.accept
		assert.Equal(t, tc.code, resp.code, label)
		assert.Equal(t, tc.contentType, resp.header.Get("Content-Type"), label)
		assert.Equal(t, "no-store", resp.header.Get("Cache-Control"), label)
		assert.Equal(t, "nosniff", resp.header.Get("X-Content-Type-Options"), label)
		assert.Empty(t, resp.header.Get("Location"), label)
	}
}

func TestTextForms(t *testing.T) {
	r := openRegistry(t)
	var db checkSwitch
	db.set(true)
	mustRegister(t, r, health.Readiness, "cache", passing)
	mustRegister(t, r, health.Readiness, "db", &db)
	mustRegister(t, r, health.Readiness, "cert", health.CheckFunc(func(context.Context) error {
		return health.Warn(errors.New("expires"))
	}))
	p := serveProbes(t, r)

	for _, req := range [][]string{{"/readyz?verbose"}, {"/readyz", "Accept: text/plain"}} {
		resp := p.get(req[0], req[1:]...)
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		assert.Equal(t, "[+]cache ok\n[+]cert warn: reason withheld\n[-]db failed: reason withheld\n"+
			"[+]liveness ok\n[+]ready ok\n[+]startup ok\nreadiness check failed\n", resp.body, "%v", req)
	}

	db.set(false)
	resp := p.get("/readyz", "Accept: text/plain")
	assert.Equal(t, http.StatusOK, resp.code)
	assert.Contains(t, resp.body, "[+]cert warn", "a warning is not a plain ok")
	resp = p.get("/readyz?verbose")
	assert.Equal(t, http.StatusOK, resp.code)
	assert.Contains(t, resp.body, "[+]db ok\n")
	assert.True(t, strings.HasSuffix(resp.body, "readiness check passed\n"), resp.body)
	assert.Equal(t, "[+]alive ok\nliveness check passed\n", p.get("/livez?verbose").body)
	assert.Equal(t, "ok", p.get("/livez", "Accept: text/plain").body, "a passing group in short text form")
}

func TestExclude(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	mustRegister(t, r, health.Readiness, "cache", failing)
	mustRegister(t, r, health.Readiness, "queue", passing)
	p := serveProbes(t, r)

	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz?exclude=db").code, "cache still fails")
	resp := p.get("/readyz?exclude=db&exclude=cache")
	assert.Equal(t, http.StatusOK, resp.code, resp.body)
	body := decodeHealth(t, resp)
	assert.NotContains(t, body.Checks, "db")
	assert.NotContains(t, body.Checks, "cache")
	assert.Contains(t, body.Checks, "queue")
	assert.ElementsMatch(t, []string{"excluded: db", "excluded: cache"}, body.Notes)
	resp = p.get("/readyz?exclude=db&exclude=cache&verbose")
	assert.Contains(t, resp.body, "[+]db excluded: ok\n")

	t.Run("names that match nothing are noted", func(t *testing.T) {
		resp := p.get("/readyz?exclude=db&exclude=cache&exclude=nosuch")
		assert.Equal(t, http.StatusOK, resp.code, resp.body)
		notes := strings.Join(decodeHealth(t, resp).Notes, "\n")
		assert.Contains(t, notes, `no matches for "nosuch"`)
		resp = p.get("/readyz?exclude=db&exclude=cache&exclude=nosuch&verbose")
		assert.Equal(t, http.StatusOK, resp.code)
		assert.Contains(t, resp.body, `warn: some health checks cannot be excluded: no matches for "nosuch"`)
		// Gate names are not entries of liveness: excluding them there is
		// a no-op with a note.
		assert.Contains(t, strings.Join(decodeHealth(t, p.get("/livez?exclude=liveness")).Notes, "\n"), `"liveness"`)
	})

	t.Run("a query that does not parse gets 400", func(t *testing.T) {
		for _, q := range []string{"?%zz", "?exclude=%zz", "?exclude=db;x", "?a=1;b=2", "?verbose&%"} {
			resp := p.get("/readyz" + q)
			assert.Equal(t, http.StatusBadRequest, resp.code, q)
			assert.Equal(t, "no-store", resp.header.Get("Cache-Control"), q)
		}
	})

	t.Run("at most 64 distinct names", func(t *testing.T) {
		var q strings.Builder
		for i := range 64 {
			q.WriteString("exclude=x" + strings.Repeat("y", i) + "&")
		}
		resp := p.get("/readyz?" + q.String())
		assert.Equal(t, http.StatusServiceUnavailable, resp.code, "64 excludes are fine")
		assert.Less(t, len(resp.body), 10240)
		resp = p.get("/readyz?" + q.String() + "exclude=one-too-many")
		assert.Equal(t, http.StatusBadRequest, resp.code)
		assert.Contains(t, resp.body, "64")
		// Repeating a name does not count twice, nor does an empty one.
		resp = p.get("/readyz?" + strings.Repeat("exclude=db&exclude=&", 200) + "exclude=cache")
		assert.Equal(t, http.StatusOK, resp.code)
	})
	t.Run("the switches and gates can be excluded", func(t *testing.T) {
		r.MarkBroken("test")
		r.MarkNotReady("test")
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz?exclude=db&exclude=cache&exclude=liveness").code)
		resp := p.get("/readyz?exclude=db&exclude=cache&exclude=liveness&exclude=ready")
		assert.Equal(t, http.StatusOK, resp.code)
		assert.Contains(t, decodeHealth(t, resp).Notes, "excluded: liveness", "an exclusion is always stated")
		assert.Equal(t, http.StatusOK, p.get("/livez?exclude=alive").code)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/livez").code)
	})
}

func TestPerCheckPaths(t *testing.T) {
	r := openRegistry(t)
	var bootRuns checkSwitch
	mustRegister(t, r, health.Liveness, "loop", passing)
	mustRegister(t, r, health.Readiness, "good", passing)
	mustRegister(t, r, health.Readiness, "bad", failing)
	mustRegister(t, r, health.Startup, "boot", &bootRuns)
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
	assert.Positive(t, bootRuns.runs.Load())

	// Unknown per-check names, and names of another group's entries, are
	// 404s of the handler's.
	for _, path := range []string{
		"/readyz/nosuch", "/livez/good", "/livez/ready", "/startupz/good", "/readyz/alive",
		"/readyz/loop", "/livez/liveness", "/readyz/a%2Fgood", "/readyz/" + strings.Repeat("a", 300),
	} {
		resp := p.get(path)
		assert.Equal(t, http.StatusNotFound, resp.code, path)
		assert.Equal(t, "no-store", resp.header.Get("Cache-Control"), path)
		assert.Contains(t, resp.body, "has no check", path)
	}
	// Paths outside the table are the mux's 404s.
	for _, path := range []string{"/other", "/readyz/good/x", "/readyz/", "/ready/", "/favicon.ico"} {
		assert.Equal(t, http.StatusNotFound, p.get(path).code, path)
	}

	// A per-check path reflects only its entry.
	r.MarkBroken("wedged")
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz/liveness").code)
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/livez/alive").code)
	assert.Equal(t, http.StatusOK, p.get("/livez/loop").code, "only that entry counts")
	assert.Equal(t, http.StatusOK, p.get("/readyz/good").code, "only that entry counts")
	r.MarkNotReady("maintenance")
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz/ready").code)
}

func TestHandlerOfAnInvalidGroupAnswers500(t *testing.T) {
	r := openRegistry(t)
	for _, g := range []health.Group{0, 4, 255} {
		w := serve(r.Handler(g), http.MethodGet, "/")
		assert.Equal(t, http.StatusInternalServerError, w.Code, g)
		assert.Equal(t, http.StatusMethodNotAllowed, serve(r.Handler(g), http.MethodPost, "/").Code, g)
	}
}

// The handler never redirects, whatever the path it is given; an
// http.ServeMux in front of it redirects unclean paths before it runs, as
// documented, which is why probes use clean paths.
func TestHandlerNeverRedirects(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", passing)
	for _, target := range []string{"//ready", "/a/../ready", "/ready/", "/x/./y", "/readyz/db/"} {
		w := serve(r.Handler(health.Readiness), http.MethodGet, target)
		assert.Equal(t, http.StatusOK, w.Code, target)
		assert.Empty(t, w.Header().Get("Location"), target)
	}
	p := serveProbes(t, r)
	resp := p.get("//ready")
	assert.True(t, resp.code >= 300 && resp.code < 400, "ServeMux cleans the path first: %d", resp.code)
	require.Equal(t, http.StatusOK, p.get("/ready").code)
}
