package health

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/probekit/probekit/internal/bound"
)

// Handler returns the handler of group g, whatever the route it is
// mounted on (the per-check routes of Mount and Routes answer for one
// entry). It answers GET and HEAD (405 with Allow otherwise) with 200 when
// the group passes or warns and 503 when it fails, Cache-Control: no-store
// and a body under 10 KiB (what the kubelet reads), and never redirects;
// but an http.ServeMux in front of it redirects unclean paths ("//ready")
// to their clean form before any handler runs, so probes must use clean
// paths, as the kubelet does. An invalid g gives a handler that answers
// 500.
//
// The body is JSON (application/health+json, after the IETF health-check
// draft) unless the request has ?verbose or accepts text/plain without
// JSON, which get the Kubernetes text form ("[+]name ok" lines).
// ?exclude=name (repeatable, at most 64 distinct names) leaves entries
// out, as Kubernetes' /readyz does, the switches included: point probes at
// plain paths. Names that match nothing are noted in the body; a query
// that does not parse gets 400. Failure reasons are withheld unless
// Options.ShowDetails allows them.
func (r *Registry) Handler(g Group) http.Handler { return &groupHandler{r: r, g: g} }

type groupHandler struct {
	r        *Registry
	g        Group
	perCheck string // for a per-check route: the path segment before the name ("readyz")
}

// maxExcludes bounds the work a hostile query string can ask for;
// callbackWait bounds ShowDetails (and the formatting of a panic value).
const (
	maxExcludes  = 64
	callbackWait = 100 * time.Millisecond
)

var (
	headerNoStore   = []string{"no-store"}
	headerNoSniff   = []string{"nosniff"}
	headerAllow     = []string{"GET, HEAD"}
	contentTypeJSON = []string{"application/health+json"}
	contentTypeText = []string{"text/plain; charset=utf-8"}
)

func (h *groupHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header()["Allow"] = headerAllow
		writePlain(w, http.StatusMethodNotAllowed, "health: method not allowed: use GET or HEAD\n")
		return
	}
	r, g := h.r, h.g
	if !g.valid() {
		writePlain(w, http.StatusInternalServerError, "health: handler for an invalid group\n")
		return
	}
	v := pickVariant(req, r.details(req))
	version := r.version.Load() // before the snapshot: a rendering is never newer than its version
	snap := r.view()
	if h.perCheck == "" && req.URL.RawQuery == "" && len(snap.due[g]) == 0 {
		// The fast path: nothing to run, so the answer depends only on
		// state whose every change bumps the version.
		r.probed(g)
		s := r.cache[g][v].Load()
		if s == nil || s.version != version {
			s = &rendered{version: version}
			s.code, s.body = render(r.report(snap, g, &selection{}, nil), v)
			r.cache[g][v].Store(s)
		}
		writeBody(w, s.code, v, s.body)
		return
	}
	sel, verbose, problem := parseQuery(req.URL.RawQuery)
	if problem != "" {
		writePlain(w, http.StatusBadRequest, "health: "+problem+"\n")
		return
	}
	if verbose {
		v = v&variantDetails | variantVerbose
	}
	if h.perCheck != "" {
		name := nameFromPath(req.URL, h.perCheck)
		if !r.hasEntry(g, name) {
			writePlain(w, http.StatusNotFound, "health: "+g.String()+" has no check "+strconv.Quote(clipName(name))+"\n")
			return
		}
		sel.only = []string{name}
	}
	// Not the request's context: the evaluation may be shared, and the
	// checks' timeouts bound the wait.
	r.probe(context.Background(), snap, g, &sel)
	var buf [16]CheckResult
	code, body := render(r.report(snap, g, &sel, buf[:0]), v)
	writeBody(w, code, v, body)
}

func (r *Registry) details(req *http.Request) bool {
	if r.showDetails == nil {
		return false
	}
	show, err := bound.Do(&r.detailsBound, callbackWait, func() bool { return r.showDetails(req) })
	if p, ok := err.(*bound.Panic); ok {
		err = panicFailure("ShowDetails", p.Value)
	}
	if err != nil && !errors.Is(err, bound.ErrRefused) {
		r.logf(slog.LevelError, "health: ShowDetails failed; the request gets no details", slog.String("error", err.Error()))
	}
	return show
}

// nameFromPath returns the entry name in the last segment of u's escaped
// path (so that /readyz/a%2Fdb names "a/db", never db), or "" if the
// segment before it is not dir (a router matched several segments).
func nameFromPath(u *url.URL, dir string) string {
	p := u.EscapedPath()
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	parent := p[:i]
	if parent[strings.LastIndexByte(parent, '/')+1:] != dir {
		return ""
	}
	name, err := url.PathUnescape(p[i+1:])
	if err != nil {
		return ""
	}
	return name
}

// parseQuery reads ?verbose and ?exclude= in time linear in the query's
// length, refusing more than maxExcludes distinct names as soon as it
// meets the next one. problem is the message of a 400, "" if none.
func parseQuery(raw string) (sel selection, verbose bool, problem string) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.IndexByte(pair, ';') >= 0 {
			return sel, false, "invalid query string: semicolons are not separators"
		}
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, kerr := url.QueryUnescape(key)
		value, verr := url.QueryUnescape(value)
		if kerr != nil || verr != nil {
			return sel, false, "invalid query string: bad percent-encoding"
		}
		switch key {
		case "verbose":
			verbose = true
		case "exclude":
			if value == "" || slices.Contains(sel.exclude, value) {
				continue
			}
			if len(sel.exclude) == maxExcludes {
				return sel, false, "too many exclude parameters (at most " + strconv.Itoa(maxExcludes) + " distinct names)"
			}
			sel.exclude = append(sel.exclude, value)
		}
	}
	return sel, verbose, ""
}

type variant uint8

const (
	variantJSON    variant = 0 // application/health+json
	variantText    variant = 1 // "ok", or the verbose form when not passing
	variantVerbose variant = 2 // the Kubernetes verbose text form
	variantDetails variant = 4 // reasons shown
	numVariants            = 8
)

func pickVariant(req *http.Request, details bool) variant {
	v := variantJSON
	if a := req.Header.Get("Accept"); strings.Contains(a, "text/plain") && !strings.Contains(a, "json") {
		v = variantText
	}
	if details {
		v |= variantDetails
	}
	return v
}

// rendered is a response kept for the fast path, immutable once published.
type rendered struct {
	version uint64
	code    int
	body    []byte
}

func writeBody(w http.ResponseWriter, code int, v variant, body []byte) {
	ct := contentTypeJSON
	if v&(variantText|variantVerbose) != 0 {
		ct = contentTypeText
	}
	h := w.Header()
	h["Content-Type"] = ct
	h["Cache-Control"] = headerNoStore
	h["X-Content-Type-Options"] = headerNoSniff
	w.WriteHeader(code)
	_, _ = w.Write(body) // for HEAD, net/http sends its length but not the body
}

func writePlain(w http.ResponseWriter, code int, msg string) {
	writeBody(w, code, variantText, []byte(msg))
}
