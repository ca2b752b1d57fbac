package health

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxExcludes bounds the work a hostile query string can ask for.
const maxExcludes = 64

var (
	headerNoStore = []string{"no-store"}[:1:1]
	headerNoSniff = []string{"nosniff"}[:1:1]
	headerAllow   = []string{"GET, HEAD"}[:1:1]
)

// Handler returns the handler of group g. It answers GET and HEAD (405
// with Allow otherwise) with 200 when the group passes or warns and 503 when
// it fails, never a redirect, with Cache-Control: no-store and a body under
// 10 KiB (what the kubelet reads).
//
// The body is JSON (application/health+json, after the IETF health-check
// draft) unless the request has ?verbose or accepts text/plain without JSON,
// which get the Kubernetes text form ("[+]name ok" lines). ?exclude=name
// (repeatable) leaves entries out; names that match nothing are noted in the
// body, not treated as errors. As with Kubernetes' /readyz, any entry can be
// excluded, the switches and gates included: ?exclude=ready answers as if
// the readiness switch were on, so point probes at plain paths. A query string that does not parse gets 400.
// Failure reasons are withheld unless ShowDetails allows them.
//
// The handler answers for the whole group whatever the route (it reads no
// path values); for one entry use CheckHandler, or the per-check routes of
// Mount and Routes. An invalid g gives a handler that answers 500.
func (r *Registry) Handler(g Group) http.Handler {
	return &groupHandler{r: r, g: g}
}

// CheckHandler returns the handler of the entry called name of group g: a
// registered check or one of the registry's own entries (see CheckEntry).
// It answers as Handler does, for that entry alone, and 404 while g has no
// entry of that name (a check registered later is served from then on). An
// invalid g gives a handler that answers 500.
func (r *Registry) CheckHandler(g Group, name string) http.Handler {
	return &groupHandler{r: r, g: g, entry: entryFixed, name: name}
}

// entryMode says which entries a groupHandler reports.
type entryMode uint8

const (
	entryAll      entryMode = iota // the whole group
	entryFixed                     // the entry called name
	entryFromPath                  // the entry named by the last segment of the URL path
)

type groupHandler struct {
	r     *Registry
	g     Group
	entry entryMode
	name  string
}

// entryName returns the entry the request asks for, "" for the group.
func (h *groupHandler) entryName(req *http.Request) string {
	switch h.entry {
	case entryFixed:
		return h.name
	case entryFromPath:
		p := req.URL.Path
		return p[strings.LastIndexByte(p, '/')+1:]
	}
	return ""
}

func (h *groupHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header()["Allow"] = headerAllow
		writePlain(w, http.StatusMethodNotAllowed, "health: method not allowed: use GET or HEAD\n")
		return
	}
	if !h.g.valid() {
		writePlain(w, http.StatusInternalServerError, "health: handler for an invalid group\n")
		return
	}
	r := h.r
	details := r.details != nil && r.details(req)
	name := h.entryName(req)
	view := &r.views[h.g]
	if h.entry == entryAll && req.URL.RawQuery == "" {
		// The fast path: a default probe served from cached results.
		v := pickVariant(req, false, details)
		if s := view.cache[v].Load(); s != nil && s.version == view.version.Load() {
			s.write(w, req)
			return
		}
	}

	sel, verbose, err := parseQuery(req.URL.RawQuery)
	if err != nil {
		writePlain(w, http.StatusBadRequest, "health: "+err.Error()+"\n")
		return
	}
	if h.entry != entryAll {
		if !r.hasEntry(h.g, name) {
			if len(name) > maxNameLen {
				name = name[:maxNameLen] + "…"
			}
			writePlain(w, http.StatusNotFound, fmt.Sprintf("health: %s has no check %q\n", h.g, name))
			return
		}
		sel.only = name
	}
	version := view.version.Load()
	rep, cacheable := r.evaluate(req.Context(), h.g, sel)
	v := pickVariant(req, verbose, details)
	s := render(rep, v)
	if cacheable && sel.only == "" && len(sel.exclude) == 0 {
		s.version = version
		view.cache[v].Store(s)
	}
	s.write(w, req)
}

// hasEntry reports whether group g's report has an entry called name.
func (r *Registry) hasEntry(g Group, name string) bool {
	switch {
	case g == Liveness && name == EntryAlive,
		g == Readiness && (name == EntryReady || name == EntryLiveness || name == EntryStartup):
		return true
	}
	return slices.ContainsFunc(r.checkLists()[g], func(c *check) bool { return c.name == name })
}

func parseQuery(raw string) (sel selection, verbose bool, err error) {
	if raw == "" {
		return sel, false, nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return sel, false, fmt.Errorf("invalid query string: %v", err)
	}
	_, verbose = q["verbose"]
	for _, name := range q["exclude"] {
		if name != "" && !slices.Contains(sel.exclude, name) {
			sel.exclude = append(sel.exclude, name)
		}
	}
	if len(sel.exclude) > maxExcludes {
		return sel, false, fmt.Errorf("too many exclude parameters (%d, at most %d)", len(sel.exclude), maxExcludes)
	}
	return sel, verbose, nil
}

func writePlain(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h["Cache-Control"] = headerNoStore
	h["X-Content-Type-Options"] = headerNoSniff
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}
