package routers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/probekit/probekit/health"
)

// Gin serves the health endpoints on a gin engine, from reg.Routes.
//
// Traps:
//   - gin.New, not gin.Default, so that no logger middleware writes to
//     stdout for every probe; add your own middleware as usual. Set
//     GIN_MODE=release (or gin.SetMode) in production: in its default
//     debug mode gin prints every route and a warning at start.
//   - RedirectTrailingSlash is on by default and answers "/ready/" with a
//     301 to "/ready" (307 for other methods): it is turned off, and so is
//     RedirectFixedPath (off by default, a redirect too when on).
//   - gin keeps one tree per method and routes HEAD only where HEAD is
//     registered. Any registers the nine standard methods, so HEAD and
//     the others reach the health handler (405 with Allow); a method
//     outside those nine (PROPFIND) gets gin's 404, as on any gin route.
//   - gin sets no r.PathValue and its ":check" is only in c.Param; the
//     per-check handlers read the URL path, so they need neither.
//   - Do not wrap reg.Handler(g) in a ":check" route: it answers for the
//     whole group whatever the path. Use the per-check Route (its handler
//     reads the entry's name from the URL path).
//   - gin's own 404 body is "404 page not found" without a newline and
//     with Content-Type "text/plain": NoRoute serves net/http's 404
//     instead, as the other routers do.
func Gin(reg *health.Registry, opts ...health.MountOptions) (http.Handler, error) {
	routes, err := reg.Routes(opts...)
	if err != nil {
		return nil, err
	}
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.NoRoute(gin.WrapF(http.NotFound))
	for _, rt := range routes {
		e.Any(routePath(rt, ":check"), gin.WrapH(rt.Handler))
	}
	e.GET("/hello", gin.WrapF(hello))
	e.HEAD("/hello", gin.WrapF(hello))
	return e, nil
}
