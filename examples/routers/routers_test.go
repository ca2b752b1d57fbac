package routers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var constructors = map[string]func(*health.Registry) (http.Handler, error){
	"ServeMux": ServeMux,
	"chi":      Chi,
	"gorilla":  Gorilla,
}

type answer struct {
	code   int
	body   string
	status string           // the report's "status"
	checks map[string][]any // the report's entries
	header http.Header
}

// fetch sends a request over a real connection.
func fetch(t *testing.T, srv *httptest.Server, method, path string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
	require.NoError(t, err)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	a := answer{code: res.StatusCode, body: string(body), header: res.Header}
	if method != http.MethodHead && res.Header.Get("Content-Type") == "application/health+json" {
		var rep struct {
			Status string           `json:"status"`
			Checks map[string][]any `json:"checks"`
		}
		require.NoError(t, json.Unmarshal(body, &rep), "%s", body)
		a.status, a.checks = rep.Status, rep.Checks
	}
	return a
}

func TestRouters(t *testing.T) {
	for name, newHandler := range constructors {
		t.Run(name, func(t *testing.T) {
			reg := health.New()
			t.Cleanup(func() { assert.NoError(t, reg.Close()) })
			var db healthtest.Switch
			require.NoError(t, reg.Register(health.Readiness, "db", db.Check))
			require.NoError(t, reg.Register(health.Liveness, "goroutines", healthtest.Fixed(nil)))
			require.NoError(t, reg.Register(health.Startup, "warmup", healthtest.Fixed(nil)))
			h, err := newHandler(reg)
			require.NoError(t, err)
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)

			for path, want := range map[string]int{
				"/": 200, "/ready": 200, "/livez": 200, "/readyz": 200, "/startupz": 200,
				"/readyz/db": 200, "/livez/goroutines": 200, "/startupz/warmup": 200, "/readyz/liveness": 200,
			} {
				a := fetch(t, srv, http.MethodGet, path)
				assert.Equal(t, want, a.code, "GET %s: %s", path, a.body)
				assert.Equal(t, "pass", a.status, "GET %s", path)
			}

			// The per-check paths reach the handler with the check's name:
			// one entry, and a 404 from the health handler (not the
			// router's) for a name the group lacks.
			a := fetch(t, srv, http.MethodGet, "/livez/goroutines")
			assert.Len(t, a.checks, 1)
			assert.Contains(t, a.checks, "goroutines")
			a = fetch(t, srv, http.MethodGet, "/readyz/nope")
			assert.Equal(t, http.StatusNotFound, a.code)
			assert.Contains(t, a.body, `readiness has no check "nope"`)
			a = fetch(t, srv, http.MethodGet, "/livez/db")
			assert.Equal(t, http.StatusNotFound, a.code, "db is a readiness check")
			a = fetch(t, srv, http.MethodGet, "/readyz/goroutines")
			assert.Equal(t, http.StatusNotFound, a.code, "readiness shows liveness as one entry")

			db.Set(errors.New("connection refused"))
			assert.Equal(t, http.StatusServiceUnavailable, fetch(t, srv, http.MethodGet, "/ready").code)
			assert.Equal(t, http.StatusServiceUnavailable, fetch(t, srv, http.MethodGet, "/readyz/db").code)
			assert.Equal(t, http.StatusOK, fetch(t, srv, http.MethodGet, "/").code, "a dependency outage leaves liveness alone")
			db.Set(nil)
			reg.MarkBroken("wedged")
			assert.Equal(t, http.StatusServiceUnavailable, fetch(t, srv, http.MethodGet, "/").code)
			assert.Equal(t, http.StatusServiceUnavailable, fetch(t, srv, http.MethodGet, "/ready").code, "readiness follows liveness")
			reg.SetAlive(true)

			// The application's routes are untouched, and "/" is not a
			// catch-all.
			a = fetch(t, srv, http.MethodGet, "/hello")
			assert.Equal(t, http.StatusOK, a.code)
			assert.Equal(t, "hello\n", a.body)
			for _, path := range []string{"/anything", "/hello/there", "/ready/more", "/readyz/db/more"} {
				assert.Equal(t, http.StatusNotFound, fetch(t, srv, http.MethodGet, path).code, "GET %s", path)
			}

			// Methods: the health handlers answer GET and HEAD only.
			a = fetch(t, srv, http.MethodHead, "/ready")
			assert.Equal(t, http.StatusOK, a.code)
			assert.Empty(t, a.body)
			a = fetch(t, srv, http.MethodPost, "/")
			assert.Equal(t, http.StatusMethodNotAllowed, a.code)
			assert.Equal(t, "GET, HEAD", a.header.Get("Allow"))
		})
	}
}
