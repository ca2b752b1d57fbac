// Package routers mounts probekit's health endpoints on the three routers
// Go services use most: net/http's ServeMux, chi and gorilla/mux. Each
// constructor returns the application's whole handler, with the health
// paths beside an application route:
//
//	/                   liveness (only "/" itself: /anything is still the app's, or a 404)
//	/ready              readiness
//	/livez /readyz /startupz                          the three groups
//	/livez/{check} /readyz/{check} /startupz/{check}  one entry each
//	/hello              the application
//
// Routers other than ServeMux register the handlers of reg.Routes: each
// route gives a literal path and, for per-check routes, the path before the
// check's name; the per-check handlers read the name from the URL path, so
// they do not depend on a router's path values.
package routers

import (
	"io"
	"net/http"
)

// hello stands for the application's own routes.
func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "hello\n")
}
