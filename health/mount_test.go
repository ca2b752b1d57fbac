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

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestMountServesTheTable(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", passing)
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux))
	for _, target := range []string{"/", "/ready", "/livez", "/readyz", "/startupz", "/readyz/db", "/readyz/ready", "/livez/alive"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			assert.Equal(t, http.StatusOK, serve(mux, method, target).Code, "%s %s", method, target)
		}
	}
	assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, "/readyz/nosuch").Code)
	assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, "/other").Code, "liveness is at / only")
	assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, "/livez/db").Code, "db is a readiness check")
}

func TestMountRefusesToShadow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing string
		opts     []health.MountOption
		ok       bool
	}{
		{"home page at /", "/", nil, false},
		{"home page at /, replacing", "/", []health.MountOption{health.MountReplacing()}, true},
		{"GET /{$}", "GET /{$}", nil, false},
		{"GET /{$}, replacing", "GET /{$}", []health.MountOption{health.MountReplacing()}, false},
		{"exact /ready", "/ready", nil, false},
		{"subtree /readyz/", "/readyz/", nil, false},
		{"subtree /readyz/, replacing", "/readyz/", []health.MountOption{health.MountReplacing()}, true},
		{"wildcard /readyz/{x}", "/readyz/{x}", []health.MountOption{health.MountReplacing()}, false},
		{"catch-all / without liveness at /", "/", []health.MountOption{health.MountPaths("/ready", "/readyz", "/readyz/{check}")}, true},
		{"home page at / and a prefix", "/", []health.MountOption{health.MountPrefix("/health")}, true},
		{"unrelated", "/api/", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			mux := http.NewServeMux()
			mux.HandleFunc(tc.existing, home)
			err := r.Mount(mux, tc.opts...)
			if !tc.ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "already served by pattern \""+tc.existing+"\"")
				return
			}
			require.NoError(t, err)
		})
	}
	// A refused Mount mounts nothing.
	r := openRegistry(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz/", home)
	require.Error(t, r.Mount(mux))
	assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, "/ready").Code)
	// Replacing a home page keeps it for every other path.
	mux = http.NewServeMux()
	mux.HandleFunc("/", home)
	require.NoError(t, r.Mount(mux, health.MountReplacing()))
	assert.Equal(t, "home page", serve(mux, http.MethodGet, "/about").Body.String())
	assert.Equal(t, "application/health+json", serve(mux, http.MethodGet, "/").Header().Get("Content-Type"))
}

func TestMountPrefixAndPaths(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux, health.MountPrefix("/internal/health"), health.MountPaths("/", "/readyz", "/readyz/{check}")))
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/internal/health/").Code)
	assert.Equal(t, http.StatusServiceUnavailable, serve(mux, http.MethodGet, "/internal/health/readyz").Code)
	assert.Equal(t, http.StatusServiceUnavailable, serve(mux, http.MethodGet, "/internal/health/readyz/db").Code)
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/internal/health/readyz/liveness").Code)
	for _, gone := range []string{"/", "/ready", "/internal/health/ready", "/internal/health/livez"} {
		assert.Equal(t, http.StatusNotFound, serve(mux, http.MethodGet, gone).Code, gone)
	}
	for _, bad := range [][]health.MountOption{
		{health.MountPrefix("health")}, {health.MountPrefix("/health/")}, {health.MountPrefix("/{x}")},
		{health.MountPaths()}, {health.MountPaths("/healthz")}, {{}},
	} {
		_, err := r.Routes(bad...)
		assert.ErrorIs(t, err, health.ErrInvalidOption)
		assert.ErrorIs(t, r.Mount(http.NewServeMux(), bad...), health.ErrInvalidOption)
	}
}

// Per-check handlers read the entry's name from the URL path, not from a
// router's path values, so they answer correctly on any router, even one
// that strips a prefix first.
func TestRoutesWorkWithoutPathValues(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	mustRegister(t, r, health.Readiness, "cache", passing)
	routes, err := r.Routes(health.MountPrefix("/h"))
	require.NoError(t, err)
	var paths []string
	for _, rt := range routes {
		paths = append(paths, rt.Pattern)
		if rt.PerCheck && rt.Group == health.Readiness {
			h := http.StripPrefix("/x", rt.Handler) // what some routers do
			assert.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/x"+rt.Path+"db").Code)
			assert.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/x"+rt.Path+"cache").Code)
			assert.Equal(t, http.StatusNotFound, serve(h, http.MethodHead, "/x"+rt.Path+"nosuch").Code)
			assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/x"+rt.Path).Code)
		}
	}
	assert.Equal(t, []string{"/h/{$}", "/h/ready", "/h/livez", "/h/readyz", "/h/startupz",
		"/h/livez/{check}", "/h/readyz/{check}", "/h/startupz/{check}"}, paths)

	// Handler answers for the whole group wherever it is mounted.
	mux := http.NewServeMux()
	mux.Handle("/custom/{check}", r.Handler(health.Readiness))
	w := serve(mux, http.MethodGet, "/custom/cache")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "the group fails because of db")
	// CheckHandler answers for one named entry.
	assert.Equal(t, http.StatusOK, serve(r.CheckHandler(health.Readiness, "cache"), http.MethodGet, "/anything").Code)
	assert.Equal(t, http.StatusNotFound, serve(r.CheckHandler(health.Liveness, "cache"), http.MethodGet, "/").Code)
	late := r.CheckHandler(health.Readiness, "late")
	assert.Equal(t, http.StatusNotFound, serve(late, http.MethodGet, "/").Code)
	mustRegister(t, r, health.Readiness, "late", passing)
	assert.Equal(t, http.StatusOK, serve(late, http.MethodGet, "/").Code)
}

// Under a prefix, the bare prefix is a 404, never the redirect ServeMux
// would make to the liveness path: a probe must not get a 3xx.
func TestMountPrefixNeverRedirects(t *testing.T) {
	r := openRegistry(t)
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux, health.MountPrefix("/health")))
	w := serve(mux, http.MethodGet, "/health")
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Empty(t, w.Header().Get("Location"))
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/health/").Code)
}

// The per-check name is the last segment of the escaped path: an escaped
// "/" stays in the name, and a router that lets the name's parameter match
// several segments gets a 404 rather than some other entry.
func TestPerCheckNameFromEscapedPath(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", failing)
	routes, err := r.Routes(health.MountPaths("/readyz/{check}"))
	require.NoError(t, err)
	h := routes[0].Handler
	assert.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/readyz/db").Code)
	assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/readyz/a%2Fdb").Code)
	assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/readyz/x/db").Code)
	assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/readyz/x/../ready").Code)
	assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/readyz/").Code)
}
