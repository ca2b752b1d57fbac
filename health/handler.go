package health

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// A probe's path runs through three files. Here, ServeHTTP parses the
// request; evaluate (check.go) runs the checks that are due and waits for
// their verdicts; render (render.go) reads the entries back and encodes
// the answer, which ServeHTTP writes.

// Handler returns the handler of group g. It answers GET and HEAD (405
// with Allow otherwise) with 200 when the group passes or warns and 503 when
// it fails, never a redirect, with Cache-Control: no-store and a body under
// 10 KiB (what the kubelet reads).
//
// The body is JSON (application/health+json, after the IETF health-check
// draft) unless the request has ?verbose or accepts text/plain without JSON,
// which get the Kubernetes text form ("[+]name ok" lines). ?exclude=name
// (repeatable, at most 64 distinct names) leaves entries out; names that
// match nothing are noted in the body, not treated as errors. As with
// Kubernetes' /readyz, any entry can be excluded, the switches and gates
// included: ?exclude=ready answers as if the readiness switch were on, so
// point probes at plain paths. A query string that does not parse gets 400.
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
	name  string // entryFixed: the entry's name
	dir   string // entryFromPath: the path segment before the name ("readyz")
}

// maxExcludes bounds the work a hostile query string can ask for.
const maxExcludes = 64

var (
	headerNoStore = []string{"no-store"}[:1:1]
	headerNoSniff = []string{"nosniff"}[:1:1]
	headerAllow   = []string{"GET, HEAD"}[:1:1]
)

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
	r, g := h.r, h.g
	v := pickVariant(req, r.showDetails(req))
	snap := r.view()
	if len(snap.entries[Startup]) == 0 && g != Liveness {
		r.completeEmptyStartup()
	}
	if h.entry == entryAll && req.URL.RawQuery == "" && len(snap.due[g]) == 0 {
		// The fast path: nothing to run, so the answer depends only on
		// state whose every change bumps the version.
		version := r.version.Load()
		s := r.cache[g][v].Load()
		if s == nil || s.version != version {
			s = r.render(snap, g, &selection{}, v).freeze(version)
			r.cache[g][v].Store(s)
		}
		s.write(w, req)
		return
	}

	sel, verbose, err := parseQuery(req.URL.RawQuery)
	if err != "" {
		writePlain(w, http.StatusBadRequest, "health: "+err+"\n")
		return
	}
	if verbose {
		v = v&variantDetails | variantVerbose
	}
	if h.entry != entryAll {
		name := h.name
		if h.entry == entryFromPath {
			name = h.nameFromPath(req.URL)
		}
		if !r.hasEntry(g, name) {
			writePlain(w, http.StatusNotFound, "health: "+g.String()+" has no check "+strconv.Quote(clipName(name))+"\n")
			return
		}
		sel.only = name
	}
	r.evaluate(req.Context(), snap, g, &sel)
	b := r.render(snap, g, &sel, v)
	b.write(w, req)
	b.release()
}

// nameFromPath returns the entry name in the last segment of u's path, or
// "" if the segment before it is not the route's own (a router that let
// the name's parameter match several segments). It reads the escaped path,
// so that an escaped "/" stays part of the name: /readyz/a%2Fdb names
// "a/db" (no such entry), never db.
func (h *groupHandler) nameFromPath(u *url.URL) string {
	p := u.EscapedPath()
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	dir := p[:i]
	if dir[strings.LastIndexByte(dir, '/')+1:] != h.dir {
		return ""
	}
	name, err := url.PathUnescape(p[i+1:])
	if err != nil {
		return ""
	}
	return name
}

// showDetails asks the ShowDetails function, if any, about req. It is user
// code: a panic, a runtime.Goexit or a hang means no details, and a call
// hung for good is not repeated until it returns.
func (r *Registry) showDetails(req *http.Request) bool {
	if r.details == nil {
		return false
	}
	return boundedCall(&r.detailsGuard, ShowDetailsWait, "ShowDetails", false, func() bool { return r.details(req) }, nil)
}

// parseQuery reads ?verbose and ?exclude= in one pass, in time linear in
// the query's length, refusing more than maxExcludes distinct names as soon
// as it meets the next one. Other parameters are ignored. The error is a
// message for a 400, "" if none.
func parseQuery(raw string) (sel selection, verbose bool, err string) {
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
		key, kerr := unescape(key)
		value, verr := unescape(value)
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

func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// variant is a rendering of a report: a format, with or without details.
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
	if a := req.Header.Get("Accept"); a != "" && strings.Contains(a, "text/plain") && !strings.Contains(a, "json") {
		v = variantText
	}
	if details {
		v |= variantDetails
	}
	return v
}

var (
	contentTypeJSON = []string{"application/health+json"}[:1:1]
	contentTypeText = []string{"text/plain; charset=utf-8"}[:1:1]
)

// rendered is a finished response kept for the fast path. It is immutable
// once published, so one rendering serves any number of concurrent
// requests.
type rendered struct {
	version       uint64
	code          int
	body          []byte
	contentType   []string
	contentLength []string
}

func (s *rendered) write(w http.ResponseWriter, req *http.Request) {
	writeResponse(w, req, s.code, s.contentType, s.contentLength, s.body)
}

func writeResponse(w http.ResponseWriter, req *http.Request, code int, contentType, contentLength []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentType
	h["Cache-Control"] = headerNoStore
	h["X-Content-Type-Options"] = headerNoSniff
	h["Content-Length"] = contentLength
	w.WriteHeader(code)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func writePlain(w http.ResponseWriter, code int, msg string) {
	writeResponse(w, &http.Request{Method: http.MethodGet}, code, contentTypeText, []string{strconv.Itoa(len(msg))}, []byte(msg))
}

// body is a response being rendered, from a pool: a probe of checks that
// run on request renders a fresh body every time, and should not allocate
// one every time.
type body struct {
	code    int
	json    bool
	out     []byte // the response body
	frags   []byte // the entries' renderings, back to back
	spans   []span
	notes   []string // remarks on the request
	excl    []string // entries left out by ?exclude=
	scratch []byte   // for measuring notes
	render  renderState
	// The last second appendTime formatted: a report's times mostly fall
	// in the same second.
	sec    int64
	secBuf [20]byte
}

type span struct {
	end    int
	status Status
}

var bodies = sync.Pool{New: func() any { return new(body) }}

// maxPooledBody is the largest body whose buffers go back to the pool, so
// that one probe of 10,000 checks does not pin its buffers for ever.
const maxPooledBody = 64 << 10

func (b *body) release() {
	if cap(b.out)+cap(b.frags) <= maxPooledBody {
		bodies.Put(b)
	}
}

func (b *body) write(w http.ResponseWriter, req *http.Request) {
	ct := contentTypeText
	if b.json {
		ct = contentTypeJSON
	}
	writeResponse(w, req, b.code, ct, contentLength(len(b.out)), b.out)
}

// contentLengths holds the Content-Length values of the lengths bodies
// have had, made once each: a probe that renders a fresh body every time
// need not allocate its header value every time.
var contentLengths [maxBody + 1]atomic.Pointer[[]string]

func contentLength(n int) []string {
	if n < 0 || n > maxBody {
		return []string{strconv.Itoa(n)}
	}
	if v := contentLengths[n].Load(); v != nil {
		return *v
	}
	v := []string{strconv.Itoa(n)}[:1:1]
	contentLengths[n].Store(&v)
	return v
}

// freeze copies b into a rendered for the cache and releases b.
func (b *body) freeze(version uint64) *rendered {
	s := &rendered{version: version, code: b.code, body: append([]byte(nil), b.out...), contentType: contentTypeText}
	if b.json {
		s.contentType = contentTypeJSON
	}
	s.contentLength = contentLength(len(s.body))
	b.release()
	return s
}

// selection narrows a report to one entry (per-check paths) or leaves some
// out (?exclude=), or asks for the latest results without running anything.
type selection struct {
	only    string
	exclude []string // at most maxExcludes, distinct
	latest  bool
}

func (s *selection) wants(name string) bool {
	if s.only != "" {
		return name == s.only
	}
	return !slices.Contains(s.exclude, name)
}

// whole reports whether the selection is a plain probe of the group, which
// concurrent probes may share.
func (s *selection) whole() bool { return s.only == "" && len(s.exclude) == 0 && !s.latest }
