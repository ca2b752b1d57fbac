package routers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/probekit/probekit/health"
)

// Echo serves the health endpoints on an echo (v5) server, from
// reg.Routes.
//
// Traps:
//   - A parameter at the end of an echo route takes the rest of the path,
//     slashes included: "/readyz/:check" matches "/readyz/x/db" and
//     "/readyz/../ready", whose last segments name real entries. The
//     per-check routes therefore answer 404 when the parameter holds a
//     "/" (see perCheckEcho).
//   - echo routes HEAD only where HEAD is registered (unless its router's
//     AutoHandleHEAD is set). Any takes every method, even ones echo does
//     not know, so HEAD and the others reach the health handler (405 with
//     Allow).
//   - echo's own 404 and 405 bodies are JSON ({"message":"Not Found"}):
//     the RouteNotFound route serves net/http's 404 instead, as the other
//     routers do. No echo 405 can happen on a health path, since Any
//     takes every method.
//   - Do not wrap reg.Handler(g) in a ":check" route: it answers for the
//     whole group whatever the path. Use the per-check Route (its handler
//     reads the entry's name from the URL path).
//   - Leave out echo's AddTrailingSlash and RemoveTrailingSlash
//     middleware: with a RedirectCode they redirect; without one they
//     rewrite the path, so that "/ready/" answers as "/ready" (Remove) or
//     "/ready" becomes "/ready/", a 404 (Add).
func Echo(reg *health.Registry, opts ...health.MountOptions) (http.Handler, error) {
	routes, err := reg.Routes(opts...)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.RouteNotFound("/*", echo.WrapHandler(http.NotFoundHandler()))
	for _, rt := range routes {
		h := echo.WrapHandler(rt.Handler)
		if rt.PerCheck {
			h = perCheckEcho(h)
		}
		e.Any(routePath(rt, ":check"), h)
	}
	e.GET("/hello", echo.WrapHandler(http.HandlerFunc(hello)))
	e.HEAD("/hello", echo.WrapHandler(http.HandlerFunc(hello)))
	return e, nil
}

// perCheckEcho confines a per-check route to one path segment, which echo
// does not: its last parameter takes the rest of the path. Anything longer
// gets the 404 a path no route matches gets.
func perCheckEcho(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if strings.Contains(c.Param("check"), "/") {
			http.NotFound(c.Response(), c.Request())
			return nil
		}
		return h(c)
	}
}
