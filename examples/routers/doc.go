// Package routers serves probekit's health endpoints on the five routers Go
// services use most, net/http's ServeMux, chi, gorilla/mux, gin and echo,
// with the same answers on each. Every constructor returns the
// application's whole handler, the health routes of reg.Routes beside an
// application route:
//
//	/                   liveness (only "/" itself: /anything is still the app's, or a 404)
//	/ready              readiness
//	/livez /readyz /startupz                          the three groups
//	/livez/{check} /readyz/{check} /startupz/{check}  one entry each
//	/hello              the application (GET and HEAD)
//
// Mount options (health.MountOptions: Prefix, Paths) move or thin out the
// health routes the same way on every router.
//
// ServeMux takes the routes from reg.Mount. The other routers register the
// handlers of reg.Routes: each Route gives a literal Path and, for
// per-check routes, the path before the check's name. The per-check
// handlers read the name from the URL path itself, so they do not depend
// on a router's path values (gin and echo never set r.PathValue), and the
// group handlers answer for the whole group wherever they are mounted.
//
// What makes the routers answer alike is in each constructor's comment: no
// router may redirect (the health paths promise never a 3xx), every router
// must hand HEAD and the other methods of a health path to the health
// handler (which answers 405 with Allow: GET, HEAD), a per-check route
// must match one path segment only, and a path no route matches must get
// net/http's own 404. What no option changes is pinned by the tests: chi
// and gin answer a method outside the standard nine (PROPFIND) themselves,
// and ServeMux and gorilla/mux redirect paths that are not clean
// ("//ready").
package routers

import (
	"io"
	"net/http"

	"github.com/probekit/probekit/health"
)

// hello stands for the application's own routes.
func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "hello\n")
}

// routePath is rt's path in a router whose path parameters are written
// wildcard ("{check}" for chi and gorilla/mux, ":check" for gin and echo).
// The name only labels the segment: the handler never reads it.
func routePath(rt health.Route, wildcard string) string {
	if rt.PerCheck {
		return rt.Path + wildcard
	}
	return rt.Path
}
