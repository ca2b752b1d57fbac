package routers

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/probekit/probekit/health"
)

// Chi mounts the health endpoints on a chi router, from reg.Routes. chi's
// "/" matches "/" alone and its {check} is the same syntax as ServeMux's.
// Handle (not Get) leaves the method check to the health handlers, which
// answer GET and HEAD and give 405 with Allow otherwise.
//
// Do not pass a chi router's ServeMux-style patterns from Route.Pattern:
// chi reads "/{$}" as a path parameter, so "/" would answer 404 and
// "/anything" liveness. Use Route.Path.
func Chi(reg *health.Registry) (http.Handler, error) {
	routes, err := reg.Routes()
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	for _, rt := range routes {
		path := rt.Path
		if rt.PerCheck {
			path += "{check}"
		}
		r.Handle(path, rt.Handler)
	}
	r.Get("/hello", hello)
	return r, nil
}
