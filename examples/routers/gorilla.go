package routers

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/probekit/probekit/health"
)

// Gorilla serves the health endpoints on a gorilla/mux router, from
// reg.Routes. A gorilla route without PathPrefix matches its whole path,
// so "/" does not swallow other paths, and a route without Methods takes
// every method, so the health handlers give their own 405.
//
// Traps:
//   - Keep StrictSlash off (the default): on, it answers "/ready/" with a
//     301 to "/ready".
//   - Methods(GET) alone answers HEAD with a 405: name HEAD too.
//   - Like ServeMux, gorilla/mux redirects (301) a path that is not clean
//     ("//ready") unless SkipClean is set.
func Gorilla(reg *health.Registry, opts ...health.MountOptions) (http.Handler, error) {
	routes, err := reg.Routes(opts...)
	if err != nil {
		return nil, err
	}
	r := mux.NewRouter()
	for _, rt := range routes {
		r.Handle(routePath(rt, "{check}"), rt.Handler)
	}
	r.HandleFunc("/hello", hello).Methods(http.MethodGet, http.MethodHead)
	return r, nil
}
