package health

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/probekit/probekit/internal/muxmount"
)

type routeSpec struct {
	path     string // as MountOptions.Paths names it
	group    Group
	perCheck bool
}

// routeTable is the one definition of the paths Mount serves, relative to
// MountOptions.Prefix.
var routeTable = [...]routeSpec{
	{"/", Liveness, false},
	{"/ready", Readiness, false},
	{"/livez", Liveness, false},
	{"/readyz", Readiness, false},
	{"/startupz", Startup, false},
	{"/livez/{check}", Liveness, true},
	{"/readyz/{check}", Readiness, true},
	{"/startupz/{check}", Startup, true},
}

// MountOptions configures Mount and Routes. The zero value mounts every
// path at the root. Given several, they are merged in order, each one's
// non-zero fields overriding the earlier ones'.
type MountOptions struct {
	// Prefix mounts every path under it ("/health": liveness at /health/,
	// readiness at /health/ready...). It must be a plain path starting,
	// and not ending, with "/".
	Prefix string
	// Paths mounts only these of Mount's paths ("/ready", "/readyz/{check}"
	// ...), relative to Prefix; nil mounts them all.
	Paths []string
}

func (o MountOptions) merge(later []MountOptions) MountOptions {
	for _, l := range later {
		o.Prefix = cmp.Or(l.Prefix, o.Prefix)
		if l.Paths != nil {
			o.Paths = l.Paths
		}
	}
	return o
}

func (o MountOptions) validate() error {
	p := o.Prefix
	if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") ||
		strings.ContainsAny(p, "{}?#% \t\r\n") || strings.Contains(p, "//")) {
		return fmt.Errorf("%w: Prefix %q: want a plain path such as \"/health\" (leading \"/\", no trailing \"/\")", ErrInvalidOption, p)
	}
	if o.Paths != nil && len(o.Paths) == 0 {
		return fmt.Errorf("%w: Paths is empty: leave it nil to mount every path", ErrInvalidOption)
	}
	for _, path := range o.Paths {
		if !slices.ContainsFunc(routeTable[:], func(rt routeSpec) bool { return rt.path == path }) {
			return fmt.Errorf("%w: Paths: %q is not one of the registry's paths", ErrInvalidOption, path)
		}
	}
	return nil
}

// Route is one path the registry serves, for routers other than
// http.ServeMux: register Handler for GET and HEAD at Path (and, when
// PerCheck is set, at Path followed by one path segment, in your router's
// syntax: chi and gorilla/mux "{check}", gin and echo ":check").
type Route struct {
	// Path is the path of a group route ("/health/ready"), or of a
	// per-check route before the check's name ("/health/readyz/").
	Path string
	// PerCheck is set when the last path segment names an entry; Handler
	// reads it from the URL path, whatever the router does with path values.
	PerCheck bool
	// Pattern is the route in http.ServeMux syntax, as Mount registers it
	// ("/health/{$}", "/health/readyz/{check}").
	Pattern string
	// Group is the group the route answers for; Handler answers GET and
	// HEAD (405 otherwise), never with a redirect.
	Group   Group
	Handler http.Handler
}

// Routes returns the routes Mount would register with the same options,
// for other routers to serve the same set; invalid options give
// ErrInvalidOption.
func (r *Registry) Routes(opts ...MountOptions) ([]Route, error) {
	o := MountOptions{}.merge(opts)
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("health: routes: %w", err)
	}
	var routes []Route
	for _, rt := range routeTable {
		if o.Paths != nil && !slices.Contains(o.Paths, rt.path) {
			continue
		}
		route := Route{Group: rt.group, PerCheck: rt.perCheck, Path: o.Prefix + rt.path, Handler: r.Handler(rt.group)}
		route.Pattern = route.Path
		switch {
		case rt.perCheck:
			route.Path = strings.TrimSuffix(route.Path, "{check}")
			dir := strings.TrimSuffix(rt.path, "/{check}")
			route.Handler = &groupHandler{r: r, g: rt.group, perCheck: dir[1:]}
		case rt.path == "/":
			route.Pattern += "{$}"
		}
		routes = append(routes, route)
	}
	return routes, nil
}

// Mount registers the registry's routes on mux (see Routes), by default:
//
//	/                  liveness  (only "/" itself, not every path)
//	/ready             readiness
//	/livez, /readyz, /startupz                         the three groups
//	/livez/{check}, /readyz/{check}, /startupz/{check} one entry each
//
// Mount is all or nothing. If mux already answers a path it would mount
// with a pattern of that path (a home page at "/", a "/readyz/" subtree),
// it mounts nothing and returns an error naming the pattern. If ServeMux
// refuses a route (a wildcard pattern such as "/{a}/x"), it returns that
// error and the routes already added are withdrawn: they answer as the mux
// did before. For other routers (chi takes "{$}" for a path parameter),
// register the handlers of Routes.
func (r *Registry) Mount(mux *http.ServeMux, opts ...MountOptions) error {
	if mux == nil {
		return fmt.Errorf("health: mount: %w: nil mux", ErrInvalidOption)
	}
	o := MountOptions{}.merge(opts)
	routes, err := r.Routes(o)
	if err != nil {
		return fmt.Errorf("health: mount: %w", err)
	}
	// ServeMux would redirect a bare prefix to liveness at "/health/": it
	// gets a 404 of ours, first, and then the per-check routes, which
	// ServeMux may refuse: a refusal then finds the least added.
	var order []muxmount.Route
	if o.Prefix != "" && slices.ContainsFunc(routes, func(rt Route) bool { return rt.Path == o.Prefix+"/" }) {
		if p := muxmount.Serves(mux, o.Prefix); p == "" || p == o.Prefix+"/" {
			order = append(order, muxmount.Route{Pattern: o.Prefix, Path: o.Prefix, Handler: http.HandlerFunc(notFound)})
		}
	}
	for _, perCheck := range []bool{true, false} {
		for _, rt := range routes {
			if rt.PerCheck == perCheck {
				order = append(order, muxmount.Route{Pattern: rt.Pattern, Path: rt.Path, Subtree: rt.PerCheck, Handler: rt.Handler})
			}
		}
	}
	if err := muxmount.Mount(mux, order); err != nil {
		return fmt.Errorf("health: mount: %w: mount under another Prefix, or leave the path out (Paths)", err)
	}
	r.mu.Lock()
	for _, rt := range routes {
		if rt.Group.valid() {
			r.mounted = append(r.mounted, rt)
		}
	}
	r.mu.Unlock()
	return nil
}

func notFound(w http.ResponseWriter, req *http.Request) {
	w.Header()["Cache-Control"] = headerNoStore
	http.NotFound(w, req)
}
