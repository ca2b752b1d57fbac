package statuspage

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/probekit/probekit/health"
)

// Access is what a request may see of the page.
type Access uint8

const (
	// AccessNone refuses the request: 403 Forbidden, with nothing of the
	// registry in the body.
	AccessNone Access = iota
	// AccessStatus shows every group and entry with its status, times,
	// durations, history and breaker, but no failure reason.
	AccessStatus
	// AccessDetails shows failure reasons too, redacted as the registry
	// redacts what it logs and serves (credentials in URLs, DSNs and
	// key=value pairs are masked) and cut at 160 bytes.
	AccessDetails
)

// Options configures the page; pass it to New. The zero value refuses
// every request.
type Options struct {
	// Authorize says what a request may see. It is called once for each
	// request (once for a whole stream of live updates), before anything
	// else; any value other than AccessStatus and AccessDetails refuses
	// the request with 403. It must be safe for concurrent use. Nil
	// refuses every request: the page shows how the service fails, so it
	// must be opened on purpose.
	Authorize func(*http.Request) Access
	// Title heads the page and the JSON; empty means the host name (in
	// Kubernetes, the pod's name).
	Title string
}

// refreshEvery is how often the page reloads itself without JavaScript.
const refreshEvery = 10 * time.Second

// csp lets the page load its own stylesheet and script and open its own
// event stream, and nothing else: no inline script or style, no other
// origin, no frame around it, no form.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

var templates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// page is the handler New returns.
type page struct {
	reg       *health.Registry
	rec       *recorder
	authorize func(*http.Request) Access
	title     string
	now       func() time.Time
	streams   atomic.Int32 // event streams open
}

// New returns the status page of reg: an http.Handler that shows every
// group and entry of reg with its status, since when, its latest run, a
// timeline of its last hour and its circuit breaker, updated live, and
// serves the same history as JSON. It reads reg.Latest and what it
// recorded; it never runs a check, and reading it is no probe (it leaves
// Report.LastProbed alone).
//
// New adds an observer to reg (see AddObserver), from which it records
// each entry's history: create the page once, when the registry is
// created and before checks are registered, to have their whole history.
// Entries that changed before are shown from the page's creation on.
//
// The handler answers GET and HEAD (405 otherwise), after Options.Authorize
// allows the request (403 otherwise). It serves, by the last element of
// the request's path, whatever comes before it:
//
//	.../                    the page (HTML)
//	.../events              its live updates (Server-Sent Events)
//	.../history.json        the same, as JSON (see the package doc)
//	.../static/page.css     its stylesheet, and page.js and icon.svg
//
// and 404 for any other path. Every URL in the page is relative, so mount
// it under a path ending in "/", with or without http.StripPrefix, behind
// any proxy:
//
//	mux.Handle("/statusz/", http.StripPrefix("/statusz", page))
//
// Every response has Cache-Control: no-store, X-Content-Type-Options:
// nosniff and a Content-Security-Policy that allows the page's own files
// and nothing else. A nil reg gives a handler that answers 500.
func New(reg *health.Registry, opts Options) http.Handler {
	p := &page{reg: reg, authorize: opts.Authorize, title: opts.Title, now: time.Now}
	if p.title == "" {
		p.title, _ = os.Hostname()
	}
	if p.title == "" {
		p.title = "this service"
	}
	p.rec = newRecorder(p.now())
	if reg != nil {
		reg.AddObserver(p.rec)
	}
	return p
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	if p.reg == nil {
		plain(w, http.StatusInternalServerError, "statuspage: no registry\n")
		return
	}
	access := AccessNone
	if p.authorize != nil {
		access = p.authorize(r)
	}
	if access != AccessStatus && access != AccessDetails {
		plain(w, http.StatusForbidden, "forbidden\n")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "method not allowed\n")
		return
	}
	details := access == AccessDetails
	dir, file := path.Split(r.URL.Path)
	if r.Method == http.MethodHead {
		w = headWriter{w}
	}
	switch {
	case file == "":
		p.servePage(w, details)
	case file == "events":
		p.serveEvents(w, r, details)
	case file == "history.json":
		p.serveJSON(w, details)
	case strings.HasSuffix(dir, "/static/") && (file == "page.css" || file == "page.js" || file == "icon.svg"):
		serveStatic(w, file)
	default:
		plain(w, http.StatusNotFound, "not found\n")
	}
}

// headWriter answers HEAD as GET without the body, which net/http drops
// anyway but other ResponseWriters may not.
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(b []byte) (int, error) { return len(b), nil }

// Unwrap lets http.ResponseController reach the connection.
func (h headWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (p *page) servePage(w http.ResponseWriter, details bool) {
	body, err := p.render("page", details)
	if err != nil {
		plain(w, http.StatusInternalServerError, "statuspage: "+err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(body)
}

// render executes the template name on the registry's state now.
func (p *page) render(name string, details bool) ([]byte, error) {
	now := p.now()
	var b bytes.Buffer
	err := templates.ExecuteTemplate(&b, name, p.buildView(p.collect(now), now, details))
	return b.Bytes(), err
}

func serveStatic(w http.ResponseWriter, file string) {
	body, err := staticFiles.ReadFile("static/" + file)
	if err != nil {
		plain(w, http.StatusNotFound, "not found\n")
		return
	}
	ctype := "text/css; charset=utf-8"
	switch path.Ext(file) {
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	w.Header().Set("Content-Type", ctype)
	_, _ = w.Write(body)
}

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}
