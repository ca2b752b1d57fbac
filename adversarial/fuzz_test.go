package adversarial_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// Fuzz targets for what a remote client controls: the query string, the
// Accept header and the entry named in a per-check path, each sent through
// the public handlers (Mount on a ServeMux). Every response must satisfy
// answerProblem: never a panic, status 200, 503, 400, 404 or 405, a body
// under 10 KiB, valid JSON for application/health+json, one entry per line
// for the text form. Run briefly with, for example:
//
//	go test -run '^$' -fuzz '^FuzzQuery$' -fuzztime 10s ./adversarial
//
// Seed corpora live in testdata/fuzz/<target>/ and run as ordinary tests.

// fuzzRig is a registry with an entry of every kind, failing ones with
// reasons that stress both formats.
func fuzzRig(f *testing.F) *http.ServeMux {
	reg := health.New(health.Options{ShowDetails: func(r *http.Request) bool { return r.Header.Get(detailsHeader) == "1" }})
	f.Cleanup(func() { _ = reg.Close() })
	down := func(msg string) func(context.Context) error {
		err := errors.New(msg)
		return func(context.Context) error { return err }
	}
	for _, c := range []struct {
		g     health.Group
		name  string
		check health.Checker
		opts  health.CheckOptions
	}{
		{health.Liveness, "loop", passing, health.CheckOptions{}},
		{health.Startup, "warm", passing, health.CheckOptions{}},
		{health.Readiness, "db", passing, health.CheckOptions{}},
		{health.Readiness, "cache", health.CheckFunc(down("cache:\n[+]db ok\r\n\"quoted\" \xff")), health.CheckOptions{NonCritical: true}},
		{health.Readiness, "queue", health.CheckFunc(down(strings.Repeat("queue unreachable; ", 40))), health.CheckOptions{}},
		{health.Readiness, "bg", health.CheckFunc(down("background down")), health.CheckOptions{Every: time.Hour}},
		{health.Readiness, "dep", health.DependencyFunc(down("dependency down")), health.CheckOptions{Breaker: health.BreakerSettings{Open: time.Hour}}},
		{health.Readiness, "a.b-c_d", passing, health.CheckOptions{Every: time.Hour}},
	} {
		if err := reg.Register(c.g, c.name, c.check, c.opts); err != nil {
			f.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		f.Fatal(err)
	}
	return mux
}

// fuzzServe sends req, with and without details and as GET and HEAD, and
// fails t on any response that breaks the contract.
func fuzzServe(t *testing.T, mux *http.ServeMux, req *http.Request) {
	t.Helper()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, details := range []string{"", "1"} {
			r := req.Clone(context.Background())
			r.Method = method
			if details != "" {
				r.Header.Set(detailsHeader, details)
			}
			a := serve(t, mux, r, answerBound)
			if !a.ok {
				return
			}
			if p := answerProblem(r, a); p != "" {
				t.Fatalf("%s %q (Accept %q, details %q): %s", method, r.URL.RequestURI(), r.Header.Get("Accept"), details, p)
			}
		}
	}
}

func fuzzRequest(path, rawQuery string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.URL.Path = path
	req.URL.RawQuery = rawQuery
	return req
}

func FuzzQuery(f *testing.F) {
	mux := fuzzRig(f)
	for _, seed := range []string{"", "verbose", "exclude=db", "exclude=ready&exclude=liveness", "exclude=%zz", "a;b", "verbose=0&exclude=",
		"exclude=" + strings.Repeat("x", 100), strings.Repeat("exclude=db&", 70), "exclude=%00%0A%FF"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, path := range []string{"/livez", "/readyz", "/startupz", "/", "/ready", "/readyz/queue", "/livez/alive"} {
			fuzzServe(t, mux, fuzzRequest(path, rawQuery))
		}
	})
}

func FuzzAccept(f *testing.F) {
	mux := fuzzRig(f)
	for _, seed := range []string{"", "*/*", "text/plain", "application/json", "text/plain;q=1, application/health+json;q=0",
		"TEXT/PLAIN", "text/plain\x00json", strings.Repeat("text/plain, ", 100), "application/health+json"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		for _, target := range []string{"/readyz", "/readyz?verbose", "/livez", "/readyz/cache", "/startupz?exclude=warm"} {
			u, err := url.Parse(target)
			if err != nil {
				t.Fatal(err)
			}
			req := fuzzRequest(u.Path, u.RawQuery)
			req.Header["Accept"] = []string{accept} // as sent, not canonicalised
			fuzzServe(t, mux, req)
		}
	})
}

func FuzzCheckName(f *testing.F) {
	mux := fuzzRig(f)
	for _, seed := range []string{"db", "cache", "ready", "alive", "nosuch", strings.Repeat("n", 70), "\x00\n\xff", "%2F", "a b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if name == "." || name == ".." || strings.Contains(name, "/") {
			return // ServeMux redirects or splits these before the handler is reached
		}
		for _, group := range []string{"/livez/", "/readyz/", "/startupz/"} {
			fuzzServe(t, mux, fuzzRequest(group+name, ""))
		}
	})
}
