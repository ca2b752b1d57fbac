package routers

import (
	"net/http"

	"github.com/probekit/probekit/health"
)

// ServeMux serves the health endpoints on a Go 1.22 http.ServeMux with
// reg.Mount, which registers the patterns of reg.Routes without a method,
// so every method reaches the health handlers (405 with Allow for all but
// GET and HEAD). Its "/{$}" matches "/" alone, so the mux's other routes
// and its 404 for unknown paths are untouched. Mount refuses, with an
// error, to shadow a route the mux already has.
//
// Traps:
//   - A "GET /hello" pattern answers HEAD too: ServeMux's rule, not the
//     other routers'.
//   - ServeMux itself redirects a path that is not clean ("//ready",
//     "/readyz/../ready") to the clean one, before any handler runs.
//   - Under MountOptions{Prefix: "/health"}, ServeMux would redirect
//     "/health" to "/health/" (liveness), a pattern "/health/{$}" existing
//     and "/health" having none; Mount registers "/health" as a 404 to
//     prevent it (TestRouterRedirects).
func ServeMux(reg *health.Registry, opts ...health.MountOptions) (http.Handler, error) {
	mux := http.NewServeMux()
	if err := reg.Mount(mux, opts...); err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /hello", hello)
	return mux, nil
}
