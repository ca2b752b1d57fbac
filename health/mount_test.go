package health_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func home(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "home page") }

func TestMountServesTheTable(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", passing)
	mustRegister(t, r, health.Liveness, "loop", passing)
	mustRegister(t, r, health.Startup, "boot", passing)
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux))
	for _, tc := range []struct {
		target string
		group  string // an entry only that group's report has
	}{
		{"/", "alive"}, {"/ready", "ready"}, {"/livez", "alive"}, {"/readyz", "ready"}, {"/startupz", "boot"},
		{"/livez/loop", "loop"}, {"/readyz/db", "db"}, {"/startupz/boot", "boot"},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			w := serve(mux, method, tc.target)
			assert.Equal(t, http.StatusOK, w.Code, "%s %s", method, tc.target)
		}
		assert.Contains(t, decodeBody(t, serve(mux, http.MethodGet, tc.target).Body.String()).Checks, tc.group, tc.target)
	}
	assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, "/readyz/nosuch").Code)
	assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, "/other").Code, "liveness is at / only")
	assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, "/livez/db").Code, "db is a readiness check")
}

func TestMountRefusesToShadow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing string
		opts     health.MountOptions
		ok       bool
	}{
		{"home page at /", "/", health.MountOptions{}, false},
		{"GET /{$}", "GET /{$}", health.MountOptions{}, false},
		{"HEAD /{$}", "HEAD /{$}", health.MountOptions{}, false},
		{"exact /ready", "/ready", health.MountOptions{}, false},
		{"GET /livez", "GET /livez", health.MountOptions{}, false},
		{"subtree /readyz/", "/readyz/", health.MountOptions{}, false},
		{"one path inside the subtree", "/startupz/x", health.MountOptions{}, true}, // it shadows Mount's, not the reverse
		{"host pattern", "example.com/ready", health.MountOptions{}, true},
		{"catch-all / without liveness at /", "/", health.MountOptions{Paths: []string{"/ready", "/readyz", "/readyz/{check}"}}, true},
		{"home page at / and a prefix", "/", health.MountOptions{Prefix: "/health"}, true},
		{"unrelated", "/api/", health.MountOptions{}, true},
		{"prefix taken", "/health/ready", health.MountOptions{Prefix: "/health"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			mux := http.NewServeMux()
			mux.HandleFunc(tc.existing, home)
			err := r.Mount(mux, tc.opts)
			if tc.ok {
				require.NoError(t, err)
				if tc.existing == "/startupz/x" {
					assert.Equal(t, "home page", serve(mux, http.MethodGet, "/startupz/x").Body.String())
				}
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "already served by pattern \""+tc.existing+"\"")
			assert.Nil(t, r.Contract().HTTP, "nothing was mounted")
			for _, path := range []string{"/", "/ready", "/livez", "/readyz", "/startupz", "/readyz/ready", "/health/"} {
				assert.NotContains(t, serve(mux, http.MethodGet, path).Header().Get("Content-Type"), "health+json", path)
			}
		})
	}
	// A catch-all stays the catch-all for every path Mount does not serve.
	r := openRegistry(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/", home)
	require.NoError(t, r.Mount(mux, health.MountOptions{Paths: []string{"/ready", "/readyz"}}))
	assert.Equal(t, "home page", serve(mux, http.MethodGet, "/").Body.String())
	assert.Equal(t, "home page", serve(mux, http.MethodGet, "/about").Body.String())
	assert.Equal(t, "application/health+json", serve(mux, http.MethodGet, "/ready").Header().Get("Content-Type"))
}

func TestMountPrefixAndPaths(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux, health.MountOptions{Prefix: "/internal/health", Paths: []string{"/", "/readyz", "/readyz/{check}"}}))
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/internal/health/").Code)
	assert.Equal(t, http.StatusServiceUnavailable, serve(mux, http.MethodGet, "/internal/health/readyz").Code)
	assert.Equal(t, http.StatusServiceUnavailable, serve(mux, http.MethodGet, "/internal/health/readyz/db").Code)
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/internal/health/readyz/liveness").Code)
	for _, gone := range []string{"/", "/ready", "/readyz", "/internal/health/ready", "/internal/health/livez", "/internal/health/livez/alive"} {
		assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, gone).Code, gone)
	}
	for _, bad := range []health.MountOptions{
		{Prefix: "health"}, {Prefix: "/health/"}, {Prefix: "/"}, {Prefix: "/{x}"}, {Prefix: "/a b"}, {Prefix: "/a?b"},
		{Prefix: "/a//b"}, {Prefix: "/a%2Fb"}, {Paths: []string{}}, {Paths: []string{"/healthz"}}, {Paths: []string{"/readyz/"}},
	} {
		_, err := r.Routes(bad)
		assert.ErrorIs(t, err, health.ErrInvalidOption, "%+v", bad)
		assert.ErrorIs(t, r.Mount(http.NewServeMux(), bad), health.ErrInvalidOption, "%+v", bad)
	}
	assert.ErrorIs(t, r.Mount(nil), health.ErrInvalidOption)
}

// Under a prefix, the bare prefix is a 404, never the redirect ServeMux
// would make to the liveness path: a probe must not get a 3xx.
func TestMountPrefixNeverRedirects(t *testing.T) {
	r := openRegistry(t)
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux, health.MountOptions{Prefix: "/health"}))
	w := serve(mux, http.MethodGet, "/health")
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Empty(t, w.Header().Get("Location"))
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/health/").Code)
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/health/ready").Code)
}

func TestMountTwiceConflicts(t *testing.T) {
	r := openRegistry(t)
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux))
	assert.Error(t, r.Mount(mux), "mounting twice shadows the first")
	require.NoError(t, r.Mount(mux, health.MountOptions{Prefix: "/h2"}), "under another prefix it is fine")
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/h2/ready").Code)
}

// Mount is all or nothing: when ServeMux itself refuses a route (a
// conflict with a wildcard pattern no probe of the paths foresees), Mount
// returns its error and the mux answers every path as it did before.
func TestMountIsAllOrNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing []string
		opts     health.MountOptions
		paths    []string
	}{
		{"wildcard", []string{"/{a}/x"}, health.MountOptions{}, []string{"/", "/ready", "/livez", "/readyz", "/startupz", "/ready/x"}},
		{"wildcard and a home page, under a prefix", []string{"/", "/{a}/{b}/x"}, health.MountOptions{Prefix: "/health"},
			[]string{"/", "/health", "/health/", "/health/ready", "/health/livez", "/health/readyz/x"}},
		{"wildcard and a catch-all, some paths", []string{"/", "/{a}/x"}, health.MountOptions{Paths: []string{"/ready", "/readyz", "/readyz/{check}"}},
			[]string{"/", "/ready", "/readyz", "/livez/x"}},
		{"a route refused after the wildcards were added", []string{"GET /{a}", "/{a}/{b}"},
			health.MountOptions{Paths: []string{"/ready", "/livez/{check}", "/readyz/{check}"}},
			[]string{"/", "/ready", "/livez/x", "/readyz/db", "/other/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			mux := http.NewServeMux()
			for _, p := range tc.existing {
				mux.HandleFunc(p, echo)
			}
			before := answers(mux, tc.paths)
			err := r.Mount(mux, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "health: mount")
			assert.Nil(t, r.Contract().HTTP, "nothing is mounted")
			after := answers(mux, tc.paths)
			var differ []string
			for _, p := range tc.paths {
				if before[p] != after[p] {
					differ = append(differ, p+": "+before[p]+" before, "+after[p]+" after")
				}
			}
			if tc.name == "a route refused after the wildcards were added" {
				failIf(t, len(differ) > 0, "a failed Mount's withdrawn per-check routes answer without the path values (or 404 for other methods): %v", differ)
			}
			assert.Empty(t, differ)
		})
	}
}

// echo answers with the pattern that matched and its path values.
func echo(w http.ResponseWriter, req *http.Request) {
	_, _ = io.WriteString(w, req.Pattern+" a="+req.PathValue("a")+" b="+req.PathValue("b"))
}

// answers records what mux answers GET, HEAD and PROPFIND of each path
// with.
func answers(mux *http.ServeMux, paths []string) map[string]string {
	out := make(map[string]string)
	for _, p := range paths {
		for _, method := range []string{http.MethodGet, http.MethodHead, "PROPFIND"} {
			w := serve(mux, method, p)
			out[p] += method + " " + http.StatusText(w.Code) + " " + w.Header().Get("Content-Type") + " " +
				w.Header().Get("Location") + " " + w.Body.String() + "; "
		}
	}
	return out
}

// Per-check handlers read the entry's name from the URL path, not from a
// router's path values, so they answer correctly on any router, even one
// that strips a prefix first.
func TestRoutesForOtherRouters(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	mustRegister(t, r, health.Readiness, "cache", passing)
	routes, err := r.Routes(health.MountOptions{Prefix: "/h"})
	require.NoError(t, err)
	var patterns, paths []string
	for _, rt := range routes {
		patterns = append(patterns, rt.Pattern)
		paths = append(paths, rt.Path)
		assert.Equal(t, http.StatusMethodNotAllowed, serve(rt.Handler, http.MethodPost, rt.Path).Code)
		if rt.PerCheck && rt.Group == health.Readiness {
			h := http.StripPrefix("/x", rt.Handler) // what some routers do
			assert.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/x"+rt.Path+"db").Code)
			assert.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/x"+rt.Path+"cache").Code)
			assert.Equal(t, http.StatusNotFound, serve(h, http.MethodHead, "/x"+rt.Path+"nosuch").Code)
			assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/x"+rt.Path).Code)
		}
	}
	assert.Equal(t, []string{"/h/{$}", "/h/ready", "/h/livez", "/h/readyz", "/h/startupz",
		"/h/livez/{check}", "/h/readyz/{check}", "/h/startupz/{check}"}, patterns, "the table's order")
	assert.Equal(t, []string{"/h/", "/h/ready", "/h/livez", "/h/readyz", "/h/startupz",
		"/h/livez/", "/h/readyz/", "/h/startupz/"}, paths)
	assert.Equal(t, []health.Group{health.Liveness, health.Readiness, health.Liveness, health.Readiness, health.Startup,
		health.Liveness, health.Readiness, health.Startup}, groupsOf(routes))

	assert.Nil(t, r.Contract().HTTP, "Routes mounts nothing")

	// The routes, registered on a mux as Mount would, serve the same set.
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	mounted := http.NewServeMux()
	require.NoError(t, r.Mount(mounted, health.MountOptions{Prefix: "/h"}))
	for _, p := range []string{"/h/", "/h/ready", "/h/readyz/db", "/h/readyz/nosuch", "/h/livez/alive", "/h/startupz"} {
		assert.Equal(t, serve(mounted, http.MethodGet, p).Code, serve(mux, http.MethodGet, p).Code, p)
	}
	_, err = r.Routes(health.MountOptions{Prefix: "nope"})
	assert.ErrorIs(t, err, health.ErrInvalidOption)
}

func groupsOf(routes []health.Route) []health.Group {
	var out []health.Group
	for _, rt := range routes {
		out = append(out, rt.Group)
	}
	return out
}

// The per-check name is the last segment of the escaped path: an escaped
// "/" stays in the name, and a router whose parameter matches several
// segments gets a 404 rather than some other entry.
func TestPerCheckNameFromEscapedPath(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	routes, err := r.Routes(health.MountOptions{Paths: []string{"/readyz/{check}"}})
	require.NoError(t, err)
	require.Len(t, routes, 1)
	h := routes[0].Handler
	assert.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/readyz/db").Code)
	for _, target := range []string{"/readyz/a%2Fdb", "/readyz/x/db", "/readyz/x/../ready", "/readyz/", "/db"} {
		assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, target).Code, target)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz/db%2F..%2Fready")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
