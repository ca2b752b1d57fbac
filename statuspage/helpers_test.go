package statuspage

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func allow(a Access) func(*http.Request) Access {
	return func(*http.Request) Access { return a }
}

// newRegistry returns a registry closed when the test ends.
func newRegistry(t *testing.T, opts ...health.Options) *health.Registry {
	t.Helper()
	reg := health.New(opts...)
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	return reg
}

// newPage returns the page of reg as New makes it, for tests that look
// inside.
func newPage(t *testing.T, reg *health.Registry, opts Options) *page {
	t.Helper()
	if opts.Title == "" {
		opts.Title = "test-pod"
	}
	return New(reg, opts).(*page)
}

// get sends GET target to h and returns the response and its body.
func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	return do(t, h, httptest.NewRequest(http.MethodGet, target, nil))
}

func do(t *testing.T, h http.Handler, req *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

// fetch sends GET url over the network and returns the status and body.
func fetch(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	res, err := client.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// register adds check to reg or fails the test.
func register(t *testing.T, reg *health.Registry, g health.Group, name string, c health.Checker, opts ...health.CheckOptions) {
	t.Helper()
	require.NoError(t, reg.Register(g, name, c, opts...))
}

// rowOf returns the HTML of the table row of entry name in body.
func rowOf(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `<span class="name">`+name+`</span>`)
	require.GreaterOrEqual(t, i, 0, "no row for %q", name)
	end := strings.Index(body[i:], "</tr>")
	require.GreaterOrEqual(t, end, 0)
	return body[i : i+end]
}
