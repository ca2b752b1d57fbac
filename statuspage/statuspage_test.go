package statuspage

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

var paths = []string{"/", "/events", "/history.json", "/static/page.css", "/static/page.js", "/nope"}

// TestRefusedUnlessAuthorized: nil Authorize, AccessNone and any value
// that is not a level refuse every path with 403, and say nothing of the
// registry.
func TestRefusedUnlessAuthorized(t *testing.T) {
	reg := newRegistry(t)
	reg.MarkNotReady("secret maintenance")
	for name, auth := range map[string]func(*http.Request) Access{
		"nil":        nil,
		"AccessNone": allow(AccessNone),
		"Access(7)":  allow(Access(7)),
	} {
		h := New(reg, Options{Authorize: auth, Title: "pod"})
		for _, p := range paths {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				res, body := do(t, h, httptest.NewRequest(method, p, nil))
				assert.Equal(t, http.StatusForbidden, res.StatusCode, "%s: %s %s", name, method, p)
				assert.Equal(t, "forbidden\n", body, "%s: %s %s", name, method, p)
				assertHeaders(t, res, name+" "+p)
			}
		}
	}
}

// assertHeaders checks what every response of the page carries.
func assertHeaders(t *testing.T, res *http.Response, what string) {
	t.Helper()
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), what)
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), what)
	assert.Equal(t, csp, res.Header.Get("Content-Security-Policy"), what)
	assert.NotContains(t, csp, "unsafe-inline")
	assert.NotContains(t, csp, "http")
}

func TestAuthorizeSeesTheRequest(t *testing.T) {
	reg := newRegistry(t)
	h := New(reg, Options{Title: "pod", Authorize: func(r *http.Request) Access {
		if r.Header.Get("X-On-Call") == "yes" {
			return AccessStatus
		}
		return AccessNone
	}})
	res, _ := get(t, h, "/")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-On-Call", "yes")
	res, _ = do(t, h, req)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestRoutes(t *testing.T) {
	reg := newRegistry(t)
	h := New(reg, Options{Authorize: allow(AccessStatus), Title: "pod"})
	for _, tc := range []struct {
		path, ctype string
		code        int
	}{
		{"/", "text/html; charset=utf-8", 200},
		{"/history.json", "application/json", 200},
		{"/static/page.css", "text/css; charset=utf-8", 200},
		{"/static/page.js", "text/javascript; charset=utf-8", 200},
		{"/static/icon.svg", "image/svg+xml", 200},
		{"/static/other.js", "text/plain; charset=utf-8", 404},
		{"/page.css", "text/plain; charset=utf-8", 404},
		{"/index.html", "text/plain; charset=utf-8", 404},
		{"/ready", "text/plain; charset=utf-8", 404},
	} {
		res, _ := get(t, h, tc.path)
		assert.Equal(t, tc.code, res.StatusCode, tc.path)
		assert.Equal(t, tc.ctype, res.Header.Get("Content-Type"), tc.path)
		assertHeaders(t, res, tc.path)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		res, _ := do(t, h, httptest.NewRequest(method, "/", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, method)
		assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"), method)
	}
	res, body := do(t, h, httptest.NewRequest(http.MethodHead, "/", nil))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Empty(t, body)
}

func TestNilRegistry(t *testing.T) {
	h := New(nil, Options{Authorize: allow(AccessDetails)})
	res, _ := get(t, h, "/")
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assertHeaders(t, res, "nil registry")
}

// TestTitleDefaultsToHostName: an empty Title is the host name.
func TestTitleDefaultsToHostName(t *testing.T) {
	reg := newRegistry(t)
	p := New(reg, Options{Authorize: allow(AccessStatus)}).(*page)
	assert.NotEmpty(t, p.title)
	_, body := get(t, p, "/")
	assert.Contains(t, body, "<h1>"+p.title+" ")
}

var urlAttr = regexp.MustCompile(`(?i)\s(?:href|src|action|content)="([^"]*)"`)

// TestEveryURLIsRelative: no URL of the page, its script or its
// stylesheet starts with "/" or names a scheme, so the page works under
// any prefix.
func TestEveryURLIsRelative(t *testing.T) {
	reg := newRegistry(t)
	register(t, reg, health.Readiness, "db", health.DependencyFunc(healthtest.Fixed(errors.New("down"))))
	_, err := reg.Check(context.Background(), health.Readiness)
	require.NoError(t, err)
	h := New(reg, Options{Authorize: allow(AccessDetails), Title: "pod"})
	_, body := get(t, h, "/")
	found := urlAttr.FindAllStringSubmatch(body, -1)
	require.NotEmpty(t, found)
	for _, m := range found {
		u := m[1]
		assert.False(t, strings.HasPrefix(u, "/") || strings.Contains(u, "://") || strings.HasPrefix(u, "//"), "absolute URL %q", u)
	}
	assert.Contains(t, body, `href="static/page.css"`)
	assert.Contains(t, body, `src="static/page.js"`)
	assert.Contains(t, body, `href="history.json"`)
	_, js := get(t, h, "/static/page.js")
	assert.Contains(t, js, `new EventSource("events")`)
	assert.NotRegexp(t, `["'](/|https?:)`, js)
	_, css := get(t, h, "/static/page.css")
	assert.NotContains(t, css, "url(")
	assert.NotContains(t, css, "@import")
}

// TestNoInlineScriptOrStyle: the CSP allows neither, so the page has none.
func TestNoInlineScriptOrStyle(t *testing.T) {
	reg := newRegistry(t)
	h := New(reg, Options{Authorize: allow(AccessDetails), Title: "pod"})
	_, body := get(t, h, "/")
	assert.Equal(t, 1, strings.Count(body, "<script"), "one script element, the page's own file")
	assert.NotRegexp(t, `<script>|<script [^>]*>[^<]`, body)
	assert.NotContains(t, body, "<style")
	assert.NotRegexp(t, `\sstyle=`, body)
	assert.NotRegexp(t, `\son[a-z]+=`, body)
	assert.Contains(t, body, `<noscript><meta http-equiv="refresh" content="10"></noscript>`)
	assert.Equal(t, refreshEvery.Seconds(), 10.0)
}

// TestAccessibleTable: every group is a real table with column and row
// headers, and statuses are words, not only colours.
func TestAccessibleTable(t *testing.T) {
	reg := newRegistry(t)
	register(t, reg, health.Liveness, "disk", healthtest.Fixed(health.Warn(errors.New("80% full"))))
	_, _ = reg.Check(context.Background(), health.Liveness)
	h := New(reg, Options{Authorize: allow(AccessStatus), Title: "pod"})
	_, body := get(t, h, "/")
	assert.Equal(t, 3, strings.Count(body, "<table>"))
	assert.Equal(t, 3*8, strings.Count(body, `<th scope="col">`))
	assert.Contains(t, body, `<th scope="row"><span class="name">disk</span></th>`)
	row := rowOf(t, body, "disk")
	assert.Contains(t, row, `<span class="badge warn"><span class="glyph" aria-hidden="true">!</span> warn</span>`)
	assert.Contains(t, body, `<html lang="en">`)
	assert.Contains(t, body, `role="img" aria-label="Last hour: `)
}
