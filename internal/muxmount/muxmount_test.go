package muxmount_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/muxmount"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func says(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.WriteString(w, s+" "+req.PathValue("v"))
	})
}

func get(t *testing.T, mux *http.ServeMux, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestMountRegistersEveryRoute(t *testing.T) {
	mux := http.NewServeMux()
	require.NoError(t, muxmount.Mount(mux, []muxmount.Route{
		{Pattern: "/readyz/{v}", Path: "/readyz/", Subtree: true, Handler: says("check")},
		{Pattern: "/ready", Path: "/ready", Handler: says("ready")},
	}))
	code, body := get(t, mux, http.MethodGet, "/readyz/db")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "check db", body)
	_, body = get(t, mux, http.MethodGet, "/ready")
	assert.Equal(t, "ready ", body)
	assert.Equal(t, "/ready", muxmount.Serves(mux, "/ready"))
	assert.Equal(t, "", muxmount.Serves(mux, "/other"))
}

// A pattern of the very path, or inside a subtree route's subtree, is the
// user's: Mount refuses and registers nothing; a catch-all is no conflict.
func TestMountRefusesToShadowAndAddsNothing(t *testing.T) {
	for _, theirs := range []string{"/ready", "GET /ready", "HEAD /ready", "/readyz/", "/readyz/{x}", "localhost/ready"} {
		t.Run(theirs, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle(theirs, says("theirs"))
			err := muxmount.Mount(mux, []muxmount.Route{
				{Pattern: "/livez", Path: "/livez", Handler: says("live")},
				{Pattern: "/ready", Path: "/ready", Handler: says("ready")},
				{Pattern: "/readyz/{v}", Path: "/readyz/", Subtree: true, Handler: says("check")},
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "already served by pattern")
			code, _ := get(t, mux, http.MethodGet, "/livez")
			assert.Equal(t, http.StatusNotFound, code, "nothing is added when a route is refused")
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/", says("home"))
	require.NoError(t, muxmount.Mount(mux, []muxmount.Route{{Pattern: "/ready", Path: "/ready", Handler: says("ready")}}))
	_, body := get(t, mux, http.MethodGet, "/ready")
	assert.Equal(t, "ready ", body)
}

// A conflict only ServeMux sees (a wildcard pattern no path look finds)
// makes Mount return ServeMux's error, and the routes added before answer
// as the mux did, path values included.
func TestARefusalServeMuxFindsWithdrawsWhatWasAdded(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("POST /{v}/db", says("theirs"))
	mux.Handle("/{v}/x", says("other"))
	beforeGet, _ := get(t, mux, http.MethodGet, "/readyz/db")
	err := muxmount.Mount(mux, []muxmount.Route{
		{Pattern: "/readyz/{v}", Path: "/readyz/", Subtree: true, Handler: says("check")},
		{Pattern: "/{a}/x", Path: "/q/x", Handler: says("refused")},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "withdrawn")
	code, body := get(t, mux, http.MethodPost, "/readyz/db")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "theirs readyz", body, "the withdrawn route hands the request to the mux's pattern before, path value and all")
	code, _ = get(t, mux, http.MethodGet, "/readyz/db")
	assert.Equal(t, beforeGet, code, "a method the mux refused before is refused as before")
}
