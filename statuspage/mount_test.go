package statuspage

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

var linked = regexp.MustCompile(`\s(?:href|src)="([^"#]+)"`)

// assertWorksAt loads the page at base (a URL ending in "/"), follows every
// URL in it, and opens its event stream the way its script does: all
// relative to the page's URL.
func assertWorksAt(t *testing.T, reg *health.Registry, base string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	code, body := fetch(t, client, base)
	require.Equal(t, http.StatusOK, code, base)
	require.Contains(t, body, "<h1>test-pod ")
	pageURL, err := url.Parse(base)
	require.NoError(t, err)
	links := linked.FindAllStringSubmatch(body, -1)
	require.GreaterOrEqual(t, len(links), 3)
	for _, m := range links {
		ref, err := url.Parse(m[1])
		require.NoError(t, err)
		u := pageURL.ResolveReference(ref).String()
		code, _ := fetch(t, client, u)
		assert.Equal(t, http.StatusOK, code, "%s (from %q at %s)", u, m[1], base)
	}
	events := pageURL.ResolveReference(&url.URL{Path: "events"}).String()
	s := openStream(t, &http.Client{}, events)
	assert.Equal(t, "text/event-stream; charset=utf-8", s.res.Header.Get("Content-Type"))
	s.waitFor(t, "Readiness switch on", 5*time.Second)
	reg.MarkNotReady("maintenance")
	s.waitFor(t, "Readiness switch off", 5*time.Second)
	reg.MarkReady()
	s.waitFor(t, "Readiness switch on", 5*time.Second)
	s.close()
}

func TestMountedUnderAPrefix(t *testing.T) {
	reg := newRegistry(t)
	mux := http.NewServeMux()
	require.NoError(t, reg.Mount(mux))
	mux.Handle("/statusz/", http.StripPrefix("/statusz", newPage(t, reg, Options{Authorize: allow(AccessStatus)})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	assertWorksAt(t, reg, srv.URL+"/statusz/")

	// The probes are the registry's, the page is not among them.
	code, body := fetch(t, srv.Client(), srv.URL+"/ready")
	assert.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body, "<html")
	routes, err := reg.Routes()
	require.NoError(t, err)
	for _, rt := range routes {
		assert.NotContains(t, rt.Path, "status", "health's routes include the page")
	}
}

func TestMountedWithoutStripPrefix(t *testing.T) {
	reg := newRegistry(t)
	mux := http.NewServeMux()
	mux.Handle("/ops/statusz/", newPage(t, reg, Options{Authorize: allow(AccessStatus)}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	assertWorksAt(t, reg, srv.URL+"/ops/statusz/")
}

// TestBehindAReverseProxy: the service mounts the page at /statusz/; a
// proxy serves it at /internal/pod-7/health/, a prefix the service knows
// nothing of.
func TestBehindAReverseProxy(t *testing.T) {
	reg := newRegistry(t)
	mux := http.NewServeMux()
	mux.Handle("/statusz/", http.StripPrefix("/statusz", newPage(t, reg, Options{Authorize: allow(AccessStatus)})))
	backend := httptest.NewServer(mux)
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	require.NoError(t, err)
	const prefix = "/internal/pod-7/health"
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.URL.Path = "/statusz" + strings.TrimPrefix(r.In.URL.Path, prefix)
		r.Out.URL.RawPath = ""
	}}
	front := http.NewServeMux()
	front.Handle(prefix+"/", proxy)
	srv := httptest.NewServer(front)
	defer srv.Close()
	assertWorksAt(t, reg, srv.URL+prefix+"/")
}
