package routers

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/probekit/probekit/health"
)

// Chi mounts the health endpoints on a chi router. chi's "/" matches "/"
// alone, its {check} is the same syntax as ServeMux's, and since v5.5 it
// sets r.PathValue, which the group handlers read. Handle (not Get) leaves
// the method check to the health handlers, which answer GET and HEAD and
// give 405 with Allow otherwise.
//
// Do not pass a chi router to reg.Mount: it compiles (chi has the Handle
// method health.Mux asks for), but chi reads Mount's "/{$}" as a path
// parameter, so "/" would answer 404 and "/anything" liveness.
func Chi(reg *health.Registry) http.Handler {
	r := chi.NewRouter()
	for _, rt := range routes {
		r.Handle(rt.path, reg.Handler(rt.group))
	}
	r.Get("/hello", hello)
	return r
}
