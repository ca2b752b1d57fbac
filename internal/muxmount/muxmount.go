// Package muxmount registers a set of routes on an http.ServeMux all or
// nothing. ServeMux has no way to ask whether a pattern would be taken, nor
// to remove one: Mount first looks for patterns of the mux that already
// answer the routes' paths, refusing to shadow them, and if ServeMux still
// refuses a route (a conflict with a wildcard pattern no look at a path can
// foresee), the routes already added are withdrawn: from then on they hand
// their requests to what the mux routed those paths to before.
package muxmount

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// A Route is a pattern to register with its handler. Path is the path it
// answers, or for a Subtree route (a pattern ending in a wildcard
// segment) the path before that segment, ending in "/".
type Route struct {
	Pattern string
	Path    string
	Subtree bool
	Handler http.Handler
}

// Mount registers routes on mux in their order (put those ServeMux may
// refuse, the wildcards, first). It returns an error and registers nothing
// if mux already answers a route's path, for GET or HEAD, with a pattern
// of that very path or (for a Subtree route) inside its subtree; a less
// specific pattern (a catch-all "/" for "/ready") is no conflict: the
// route takes precedence, as its user expects. If ServeMux refuses a
// route, Mount returns its error and withdraws the routes already added.
func Mount(mux *http.ServeMux, routes []Route) (err error) {
	for _, rt := range routes {
		if err := conflict(mux, rt); err != nil {
			return err
		}
	}
	withdrawn := new(atomic.Bool)
	defer func() {
		if v := recover(); v != nil { // a conflict ServeMux found that the look could not
			withdrawn.Store(true)
			err = fmt.Errorf("%v: the routes already added are withdrawn", v)
		}
	}()
	for _, rt := range routes {
		h, before := rt.Handler, previously(mux, rt)
		mux.Handle(rt.Pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if withdrawn.Load() {
				before.ServeHTTP(w, req) // as the mux answered before
				return
			}
			h.ServeHTTP(w, req)
		}))
	}
	return nil
}

// Serves returns the pattern mux routes a GET of path to, "" if none.
func Serves(mux *http.ServeMux, path string) string {
	_, p := mux.Handler(request(http.MethodGet, path))
	return p
}

// previously returns a mux of the patterns that mux routes rt's path to
// now, for the common methods: what answers a withdrawn route's requests,
// path values included.
func previously(mux *http.ServeMux, rt Route) *http.ServeMux {
	before, seen := http.NewServeMux(), map[string]bool{"": true}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if h, p := mux.Handler(request(m, probe(rt))); !seen[p] {
			seen[p] = true
			before.Handle(p, h)
		}
	}
	return before
}

func conflict(mux *http.ServeMux, rt Route) error {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		_, pattern := mux.Handler(request(method, probe(rt)))
		theirs := pattern
		if i := strings.IndexByte(theirs, ' '); i >= 0 { // no method
			theirs = strings.TrimLeft(theirs[i+1:], " \t")
		}
		if i := strings.IndexByte(theirs, '/'); i > 0 { // no host
			theirs = theirs[i:]
		}
		clash := pattern != "" && strings.TrimSuffix(theirs, "{$}") == rt.Path
		if rt.Subtree {
			clash = strings.HasPrefix(theirs, rt.Path)
		}
		if clash {
			return fmt.Errorf("%s %s is already served by pattern %q on this mux", method, probe(rt), pattern)
		}
	}
	return nil
}

// probe is a path rt answers.
func probe(rt Route) string {
	if rt.Subtree {
		return rt.Path + "probekit-route-probe"
	}
	return rt.Path
}

func request(method, path string) *http.Request {
	return &http.Request{Method: method, URL: &url.URL{Path: path}, Host: "localhost"}
}
