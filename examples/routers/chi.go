package routers

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/probekit/probekit/health"
)

// Chi serves the health endpoints on a chi router, from reg.Routes.
//
// Traps:
//   - Use Route.Path, not Route.Pattern: chi reads ServeMux's "/{$}" as a
//     path parameter called "$", so "/" would answer 404 and "/anything"
//     liveness.
//   - Handle, not Get: Get answers neither HEAD (chi does not route HEAD
//     to GET routes without its GetHead middleware) nor other methods with
//     the health handler's 405. That is why the application route names
//     HEAD as well.
//   - chi routes only the methods it knows: one it does not (PROPFIND)
//     gets chi's own 405, with no Allow and no body, unless the program
//     calls chi.RegisterMethod for it at init (chi's method table is
//     global, so this constructor does not).
//   - Leave out chi's RedirectSlashes (it answers "/ready/" with a 301) and
//     StripSlashes (it answers "/ready/" as "/ready"): "/ready/" must stay
//     a 404.
func Chi(reg *health.Registry, opts ...health.MountOptions) (http.Handler, error) {
	routes, err := reg.Routes(opts...)
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	for _, rt := range routes {
		r.Handle(routePath(rt, "{check}"), rt.Handler)
	}
	r.Get("/hello", hello)
	r.Head("/hello", hello)
	return r, nil
}
