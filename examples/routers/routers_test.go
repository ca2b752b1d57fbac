package routers

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no route listing on stdout
	goleak.VerifyTestMain(m)
}

// constructors are the five routers; the first is the reference the
// others must answer like.
var constructors = []struct {
	name string
	new  func(*health.Registry, ...health.MountOptions) (http.Handler, error)
}{
	{"ServeMux", ServeMux},
	{"chi", Chi},
	{"gorilla", Gorilla},
	{"gin", Gin},
	{"echo", Echo},
}

// groupEntries are the entries of each group in the test's registry: its
// own switches and views, and the checks newRegistry registers.
var groupEntries = map[health.Group][]string{
	health.Liveness:  {"alive", "goroutines"},
	health.Readiness: {"ready", "liveness", "startup", "cache", "db"},
	health.Startup:   {"warmup"},
}

// failing is the one failing check: readiness fails with it.
const failing = "db"

func newRegistry(t *testing.T) *health.Registry {
	reg := health.New()
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	require.NoError(t, reg.Register(health.Readiness, "db", healthtest.Fixed(errors.New("connection refused"))))
	require.NoError(t, reg.Register(health.Readiness, "cache", healthtest.Fixed(nil)))
	require.NoError(t, reg.Register(health.Liveness, "goroutines", healthtest.Fixed(nil)))
	require.NoError(t, reg.Register(health.Startup, "warmup", healthtest.Fixed(nil)))
	return reg
}

// The bodies of the answers that are not reports.
const (
	routerNotFound   = "404 page not found\n" // net/http's, which every router is set up to give
	methodNotAllowed = "health: method not allowed: use GET or HEAD\n"
)

// request is one request of the set every router gets, and what it must
// answer on all of them.
type request struct {
	method, target string
	want           int
	body           string   // the exact body when not a report ("" for HEAD or unchecked)
	entries        []string // a report's entry names (nil: unchecked)
	// quirks holds the routers that cannot answer like the others, with
	// the status they give instead (see their constructors' comments).
	quirks map[string]int
}

// requestSet is the set for routes mounted under prefix: GET and HEAD on
// every route, and, when routes are all the registry's, queries, trailing
// slashes, deeper paths and other methods.
func requestSet(t *testing.T, routes []health.Route, prefix string, all bool) []request {
	groupCode := func(g health.Group) int {
		if g == health.Readiness {
			return http.StatusServiceUnavailable // failing fails the group
		}
		return http.StatusOK
	}
	var set []request
	both := func(r request) {
		set = append(set, r)
		r.method, r.body = http.MethodHead, ""
		set = append(set, r)
	}
	for _, rt := range routes {
		if !rt.PerCheck {
			both(request{method: http.MethodGet, target: rt.Path, want: groupCode(rt.Group), entries: groupEntries[rt.Group]})
			continue
		}
		for _, name := range groupEntries[rt.Group] {
			code := http.StatusOK
			if name == failing {
				code = http.StatusServiceUnavailable
			}
			both(request{method: http.MethodGet, target: rt.Path + name, want: code, entries: []string{name}})
		}
		// Unknown checks, and checks of another group, are the health
		// handler's 404 on every router.
		other := map[health.Group]string{health.Liveness: "db", health.Readiness: "goroutines", health.Startup: "cache"}[rt.Group]
		for _, name := range []string{"nope", other} {
			both(request{method: http.MethodGet, target: rt.Path + name, want: http.StatusNotFound,
				body: fmt.Sprintf("health: %s has no check %q\n", rt.Group, name)})
		}
	}
	require.NotEmpty(t, set)
	if !all {
		return set
	}

	p := prefix
	add := func(method, target string, want int, body string) {
		set = append(set, request{method: method, target: target, want: want, body: body})
	}
	// Queries and the text form, on group and per-check paths.
	add(http.MethodGet, p+"/ready?exclude="+failing, http.StatusOK, "")
	add(http.MethodGet, p+"/ready?verbose", http.StatusServiceUnavailable, "")
	add(http.MethodGet, p+"/readyz/db?verbose", http.StatusServiceUnavailable, "")
	add(http.MethodGet, p+"/readyz/cache?verbose", http.StatusOK, "")
	add(http.MethodGet, p+"/ready?exclude=%zz", http.StatusBadRequest, "")
	// An escaped "/" stays in the name: "a/db" is no entry, never db.
	set = append(set, request{method: http.MethodGet, target: p + "/readyz/a%2Fdb", want: http.StatusNotFound,
		body: "health: readiness has no check \"a/db\"\n", quirks: map[string]int{"gorilla": http.StatusNotFound, "gin": http.StatusNotFound}})
	// Trailing slashes and deeper paths: a 404, never a redirect, and
	// never an answer for the last segment ("/readyz/x/db" is not db).
	for _, path := range []string{"/ready/", "/livez/", "/readyz/", "/readyz/db/", "/ready/more", "/readyz/db/more", "/readyz/x/db", "/readyz/readyz/db", "/anything", "/READY"} {
		add(http.MethodGet, p+path, http.StatusNotFound, routerNotFound)
		add(http.MethodHead, p+path, http.StatusNotFound, "")
	}
	// Other methods: the health handler's 405, where the router lets the
	// method through.
	for _, path := range []string{"/", "/ready", "/readyz", "/readyz/db", "/readyz/nope"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace} {
			add(method, p+path, http.StatusMethodNotAllowed, methodNotAllowed)
		}
	}
	// A method outside the standard ones: chi answers with its own 405
	// (no Allow, no body) and gin with a 404, before any handler runs.
	for _, path := range []string{"/ready", "/readyz/db"} {
		set = append(set, request{method: "PROPFIND", target: p + path, want: http.StatusMethodNotAllowed, body: methodNotAllowed,
			quirks: map[string]int{"chi": http.StatusMethodNotAllowed, "gin": http.StatusNotFound}})
	}
	// The application's route.
	add(http.MethodGet, "/hello", http.StatusOK, "hello\n")
	add(http.MethodHead, "/hello", http.StatusOK, "")
	add(http.MethodGet, "/hello/", http.StatusNotFound, routerNotFound)
	return set
}

func TestRoutersAnswerAlike(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []health.MountOptions
		routes int    // how many routes reg.Routes gives
		prefix string // the one in opts
		extra  []request
	}{
		{name: "default", routes: 8},
		{name: "prefix", opts: []health.MountOptions{{Prefix: "/health"}}, routes: 8, prefix: "/health", extra: []request{
			// Without the prefix, nothing of the registry's is served.
			{method: http.MethodGet, target: "/", want: http.StatusNotFound, body: routerNotFound},
			{method: http.MethodGet, target: "/ready", want: http.StatusNotFound, body: routerNotFound},
			{method: http.MethodGet, target: "/readyz/db", want: http.StatusNotFound, body: routerNotFound},
		}},
		{name: "paths", opts: []health.MountOptions{{Paths: []string{"/", "/readyz/{check}"}}}, routes: 2, extra: []request{
			// Only the paths asked for are served.
			{method: http.MethodGet, target: "/ready", want: http.StatusNotFound, body: routerNotFound},
			{method: http.MethodGet, target: "/readyz", want: http.StatusNotFound, body: routerNotFound},
			{method: http.MethodGet, target: "/livez/goroutines", want: http.StatusNotFound, body: routerNotFound},
			{method: http.MethodGet, target: "/hello", want: http.StatusOK, body: "hello\n"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry(t)
			routes, err := reg.Routes(tc.opts...)
			require.NoError(t, err)
			require.Len(t, routes, tc.routes)
			servers := startAll(t, reg, tc.opts...)

			for _, r := range append(requestSet(t, routes, tc.prefix, tc.routes == 8), tc.extra...) {
				what := r.method + " " + r.target
				ref := do(t, servers[0], r.method, r.target)
				// The reference answers as the table says...
				assert.Equal(t, r.want, ref.code, "%s on %s: %s", what, constructors[0].name, ref.body)
				if r.body != "" {
					assert.Equal(t, r.body, ref.body, "%s on %s", what, constructors[0].name)
				}
				if r.entries != nil && r.method == http.MethodGet {
					assert.ElementsMatch(t, r.entries, ref.entries, "%s on %s: %s", what, constructors[0].name, ref.body)
				}
				if r.want == http.StatusMethodNotAllowed {
					assert.Equal(t, "GET, HEAD", ref.header.Get("Allow"), what)
				}
				assert.False(t, ref.code >= 300 && ref.code < 400, "%s on %s: a redirect", what, constructors[0].name)
				// ...and every other router answers byte for byte alike.
				for i, c := range constructors[1:] {
					got := do(t, servers[i+1], r.method, r.target)
					if code, ok := r.quirks[c.name]; ok {
						assert.Equal(t, code, got.code, "%s on %s (a documented quirk)", what, c.name)
						continue
					}
					assert.Equal(t, ref, got, "%s on %s differs from %s", what, c.name, constructors[0].name)
				}
			}
		})
	}
}

// startAll starts each router on its own loopback server, all serving reg
// with the same options, in the order of constructors.
func startAll(t *testing.T, reg *health.Registry, opts ...health.MountOptions) []*httptest.Server {
	t.Helper()
	servers := make([]*httptest.Server, len(constructors))
	for i, c := range constructors {
		h, err := c.new(reg, opts...)
		require.NoError(t, err, c.name)
		servers[i] = httptest.NewServer(h)
		t.Cleanup(servers[i].Close)
	}
	return servers
}

// TestRouterRedirects pins the redirects that happen before any health
// handler runs, which no option of this package's constructors turns off:
// ServeMux and gorilla/mux redirect a path that is not clean to the clean
// one. Every other router answers these with a 404, never with the report of
// another path (echo, unguarded, would answer "/readyz/../ready" for the
// "ready" entry).
func TestRouterRedirects(t *testing.T) {
	for _, tc := range []struct {
		target, location string
		redirects        map[string]int // router → status; the others answer 404
	}{
		{"//ready", "/ready", map[string]int{"ServeMux": http.StatusTemporaryRedirect, "gorilla": http.StatusMovedPermanently}},
		{"/readyz/../ready", "/ready", map[string]int{"ServeMux": http.StatusTemporaryRedirect, "gorilla": http.StatusMovedPermanently}},
		{"/health/readyz/../ready", "/health/ready", map[string]int{"ServeMux": http.StatusTemporaryRedirect, "gorilla": http.StatusMovedPermanently}},
		{"/health", "", nil}, // Mount guards the bare prefix: no redirect
	} {
		reg := newRegistry(t)
		var opts []health.MountOptions
		if strings.HasPrefix(tc.target, "/health") {
			opts = append(opts, health.MountOptions{Prefix: "/health"})
		}
		for i, srv := range startAll(t, reg, opts...) {
			name := constructors[i].name
			a := do(t, srv, http.MethodGet, tc.target)
			if code, ok := tc.redirects[name]; ok {
				assert.Equal(t, code, a.code, "GET %s on %s", tc.target, name)
				assert.Equal(t, tc.location, a.header.Get("Location"), "GET %s on %s", tc.target, name)
				continue
			}
			assert.Equal(t, http.StatusNotFound, a.code, "GET %s on %s: %s", tc.target, name, a.body)
			assert.Equal(t, routerNotFound, a.body, "GET %s on %s", tc.target, name)
		}
	}
}
