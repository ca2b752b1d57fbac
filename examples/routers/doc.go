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
// The group handlers read the check name with r.PathValue("check"). The
// ServeMux and chi (v5.5 and later) set path values; gorilla/mux does not,
// so its file copies mux.Vars into the request first.
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

// route is a health path and the group it serves.
type route struct {
	path  string
	group health.Group
}

// routes are the paths health.Registry.Mount uses, for routers that mount
// handlers one by one.
var routes = []route{
	{"/", health.Liveness},
	{"/ready", health.Readiness},
	{"/livez", health.Liveness},
	{"/readyz", health.Readiness},
	{"/startupz", health.Startup},
	{"/livez/{check}", health.Liveness},
	{"/readyz/{check}", health.Readiness},
	{"/startupz/{check}", health.Startup},
}
