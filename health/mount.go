package health

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The paths Mount serves, relative to its prefix (MountPrefix). The table
// is the one definition of the registry's routes: Mount, Routes and the
// docs all follow it.
var routeTable = [...]struct {
	path     string // as MountPaths names it
	group    Group
	perCheck bool
}{
	{"/", Liveness, false},
	{"/ready", Readiness, false},
	{"/livez", Liveness, false},
	{"/readyz", Readiness, false},
	{"/startupz", Startup, false},
	{"/livez/{check}", Liveness, true},
	{"/readyz/{check}", Readiness, true},
	{"/startupz/{check}", Startup, true},
}

// A MountOption configures Mount and Routes. The zero MountOption is
// refused with ErrInvalidOption.
type MountOption struct{ apply func(*mountConfig) error }

type mountConfig struct {
	prefix  string
	paths   []string // nil: all
	replace bool
}

// MountPrefix mounts every path under prefix: with "/health", liveness is
// at /health/ and readiness at /health/ready, /health/readyz/{check} and so
// on. prefix must start with "/", must not end with "/", and must be a
// plain path (no pattern wildcards, no query).
func MountPrefix(prefix string) MountOption {
	return MountOption{func(c *mountConfig) error {
		if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") ||
			strings.ContainsAny(prefix, "{}?#% \t\r\n") || strings.Contains(prefix, "//") {
			return fmt.Errorf("%w: MountPrefix %q: want a plain path such as \"/health\" (leading \"/\", no trailing \"/\")", ErrInvalidOption, prefix)
		}
		c.prefix = prefix
		return nil
	}}
}

// MountPaths mounts only the given paths, named as in Mount's table ("/",
// "/ready", "/livez", "/readyz", "/startupz", "/livez/{check}",
// "/readyz/{check}", "/startupz/{check}"), relative to any MountPrefix. A
// path not in the table, or none at all, is refused with ErrInvalidOption.
func MountPaths(paths ...string) MountOption {
	return MountOption{func(c *mountConfig) error {
		if len(paths) == 0 {
			return fmt.Errorf("%w: MountPaths needs at least one path", ErrInvalidOption)
		}
		for _, p := range paths {
			if !slices.ContainsFunc(routeTable[:], func(rt struct {
				path     string
				group    Group
				perCheck bool
			}) bool {
				return rt.path == p
			}) {
				return fmt.Errorf("%w: MountPaths: %q is not one of the registry's paths", ErrInvalidOption, p)
			}
		}
		c.paths = append(c.paths, paths...)
		return nil
	}}
}

// MountReplacing lets Mount take over paths that mux already serves with a
// less specific pattern, such as a home page at "/" (the default is to
// refuse, naming the conflict). It cannot take over a path whose existing
// pattern is as specific as the registry's or more (such as "GET /{$}" for
// "/"): ServeMux would still route requests there, so Mount refuses those
// in any case.
func MountReplacing() MountOption {
	return MountOption{func(c *mountConfig) error {
		c.replace = true
		return nil
	}}
}

// Route is one path the registry serves, for routers other than
// http.ServeMux: register Handler for GET and HEAD at Path (and, when
// PerCheck is set, at Path followed by one path segment, in your router's
// syntax: chi and gorilla/mux "{check}", gin and echo ":check").
type Route struct {
	// Path is the literal path of a group route ("/health/ready"), or, for
	// a per-check route, the path before the check's name, ending in "/"
	// ("/health/readyz/").
	Path string
	// PerCheck is set for routes whose last path segment names one entry
	// of the group; their Handler reads the name from the request's URL
	// path itself, so it works whatever the router does with path values.
	PerCheck bool
	// Pattern is the route in http.ServeMux syntax, as Mount registers it
	// ("/health/{$}", "/health/readyz/{check}").
	Pattern string
	// Group is the group the route answers for.
	Group Group
	// Handler answers GET and HEAD (405 otherwise), never with a redirect.
	Handler http.Handler
}

// Routes returns the routes Mount would register with the same options,
// in the table's order, so that another router can serve exactly the same
// set. Invalid options give an error matching ErrInvalidOption.
func (r *Registry) Routes(opts ...MountOption) ([]Route, error) {
	var cfg mountConfig
	for i, o := range opts {
		if o.apply == nil {
			return nil, fmt.Errorf("health: routes: %w: option %d is the zero MountOption", ErrInvalidOption, i)
		}
		if err := o.apply(&cfg); err != nil {
			return nil, fmt.Errorf("health: routes: %w", err)
		}
	}
	var routes []Route
	for _, rt := range routeTable {
		if cfg.paths != nil && !slices.Contains(cfg.paths, rt.path) {
			continue
		}
		route := Route{Group: rt.group, PerCheck: rt.perCheck}
		switch {
		case rt.perCheck:
			route.Path = cfg.prefix + strings.TrimSuffix(rt.path, "{check}")
			route.Pattern = route.Path + "{check}"
			dir := strings.TrimSuffix(rt.path, "/{check}")
			route.Handler = &groupHandler{r: r, g: rt.group, entry: entryFromPath, dir: dir[1:]}
		case rt.path == "/":
			route.Path = cfg.prefix + "/"
			route.Pattern = route.Path + "{$}"
			route.Handler = r.Handler(rt.group)
		default:
			route.Path = cfg.prefix + rt.path
			route.Pattern = route.Path
			route.Handler = r.Handler(rt.group)
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
// MountPrefix, MountPaths and MountReplacing change that. Mount refuses to
// shadow what mux already serves: if a path it would mount is already
// answered by a pattern of the same path (a home page at "/", a
// "GET /{$}" route, a "/readyz/" subtree), it returns an error naming the
// conflicting pattern and mounts nothing (MountReplacing allows taking
// over a less specific pattern). It takes an *http.ServeMux because other
// routers read these patterns differently (chi takes "{$}" for a path
// parameter); on those, register the handlers of Routes.
func (r *Registry) Mount(mux *http.ServeMux, opts ...MountOption) (err error) {
	if mux == nil {
		return fmt.Errorf("health: mount: nil mux")
	}
	routes, err := r.Routes(opts...)
	if err != nil {
		return fmt.Errorf("health: mount: %w", err)
	}
	var cfg mountConfig
	for _, o := range opts {
		_ = o.apply(&cfg) // Routes has validated them
	}
	for _, rt := range routes {
		if err := conflict(mux, rt, cfg.replace); err != nil {
			return err
		}
	}
	// Under a prefix, liveness is at "/health/", and ServeMux would answer
	// "/health" with a redirect there: a probe must never get a 3xx, so the
	// bare prefix gets a 404 of ours, unless the mux serves it already.
	guard := cfg.prefix != "" && slices.ContainsFunc(routes, func(rt Route) bool { return rt.Path == cfg.prefix+"/" })
	if guard {
		_, pattern := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: cfg.prefix}, Host: "localhost"})
		guard = pattern == "" || pattern == cfg.prefix+"/"
	}
	defer func() {
		if v := recover(); v != nil { // a conflict ServeMux found that we did not
			err = fmt.Errorf("health: mount: %v", v)
		}
	}()
	for _, rt := range routes {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	if guard {
		mux.HandleFunc(cfg.prefix, notFound)
	}
	return nil
}

// notFound answers the bare prefix as the mux would answer any path it
// does not serve.
func notFound(w http.ResponseWriter, req *http.Request) {
	w.Header()["Cache-Control"] = headerNoStore
	http.NotFound(w, req)
}

// conflict reports an existing pattern of mux that already answers rt's
// path for GET or HEAD: for a group route, a pattern of that very path (a
// "/" home page for liveness at "/"); for a per-check route, any pattern
// inside its subtree ("/readyz/", "/readyz/{name}"). Less specific
// patterns that merely contain the path (a catch-all "/" for "/ready") are
// not conflicts: ServeMux gives the more specific route precedence, as the
// user of a catch-all expects. With replace, a plain subtree pattern of the
// same path may be shadowed; anything as specific as ours cannot be.
func conflict(mux *http.ServeMux, rt Route, replace bool) error {
	path := rt.Path
	if rt.PerCheck {
		path += "probekit-route-probe"
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req := &http.Request{Method: method, URL: &url.URL{Path: path}, Host: "localhost"}
		_, pattern := mux.Handler(req)
		theirs := patternPath(pattern)
		subtree := strings.HasSuffix(theirs, "/") && !strings.Contains(theirs, "{")
		var clash bool
		if rt.PerCheck {
			clash = strings.HasPrefix(theirs, rt.Path)
		} else {
			clash = pattern != "" && strings.TrimSuffix(theirs, "{$}") == rt.Path
		}
		if !clash || replace && subtree && theirs == rt.Path && pattern == theirs {
			continue
		}
		hint := "mount under another prefix (MountPrefix) or leave the path out (MountPaths)"
		if subtree && pattern == theirs {
			hint += ", or take it over (MountReplacing)"
		}
		return fmt.Errorf("health: mount: %s %s is already served by pattern %q on this mux: %s", method, path, pattern, hint)
	}
	return nil
}

// patternPath strips the method and host from a ServeMux pattern.
func patternPath(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = strings.TrimLeft(pattern[i+1:], " \t")
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	return pattern
}
