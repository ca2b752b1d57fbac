package adversarial_test

// Issue 20, class 5: Mount is all or nothing, and a probe never gets a
// 3xx from the registry's handlers. (healthprobe checking every argument
// before it probes is the third item of this class: fixed and tested in
// cmd/healthprobe, TestRunRefusesBadArguments and FuzzHeaderFlag.)
// Also the issue's small item: a check's context costs no goroutine when
// the check derives contexts from it.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// probePaths are the paths Mount serves by default, and some under /health.
var probePaths = []string{"/", "/ready", "/livez", "/readyz", "/startupz", "/livez/alive", "/readyz/ready", "/startupz/x",
	"/health", "/health/", "/health/ready", "/health/livez", "/health/readyz", "/health/startupz", "/health/readyz/ready", "/a/x", "/livez/x", "/readyz/x"}

// snapshotMux records how mux answers GET of each of probePaths: code,
// content type and body.
func snapshotMux(mux *http.ServeMux) map[string]string {
	got := map[string]string{}
	for _, p := range probePaths {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		got[p] = fmt.Sprintf("%d %s %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	return got
}

// mountConflicts are the patterns a mux may already serve when Mount is
// called (with or without a prefix), after the sweep made on 4001f29.
var mountConflicts = []struct {
	patterns []string
	prefix   string
}{
	{[]string{"/{a}/x"}, ""},
	{[]string{"GET /{a}/x"}, ""},
	{[]string{"HEAD /{a}/x"}, ""},
	{[]string{"/{a}/ready"}, ""},
	{[]string{"/{a}/alive"}, ""},
	{[]string{"/{a}/{b}/x"}, ""},
	{[]string{"/readyz/{a}/x"}, ""},
	{[]string{"/{a}/{$}"}, ""},
	{[]string{"/{a}"}, ""},
	{[]string{"/"}, ""},
	{[]string{"GET /{$}"}, ""},
	{[]string{"/readyz/"}, ""},
	{[]string{"/health/{a}/x"}, "/health"},
	{[]string{"/{a}", "/{a}/x"}, ""},
	{[]string{"/{a}/livez/{b}"}, "/health"},
	{[]string{"/{a}/ready"}, "/health"},
	{[]string{"/{a}/{$}"}, "/health"},
}

// TestIssue20MountAllOrNothing: for each pattern a mux may already serve,
// Mount either succeeds, or returns an error and the mux answers every
// probe path exactly as before Mount (code, content type and body).
//
// On 4001f29 every refused Mount left routes mounted: with "/{a}/x" on the
// mux, Mount returned ServeMux's conflict error for "/livez/{check}", and
// /, /ready, /livez, /readyz and /startupz answered 200 with the
// registry's JSON; likewise under MountPrefix("/health") with
// "/health/{a}/x".
//
// Two rows were found by this suite on the v1.0 engine and fixed in
// c20870f: its withdrawn routes, answering 404, still changed the mux.
// With a catch-all "/{a}" of the application beside "/{a}/x", GET /ready
// (/livez, /readyz, /startupz) reached the application before Mount and
// got a 404 after it; under the prefix "/health" (with "/health/{a}/x"),
// GET /health answered 404 before Mount and 307 to /health/ after it.
func TestIssue20MountAllOrNothing(t *testing.T) {
	if refused := mountSweep(t); refused == 0 {
		t.Error("no Mount was refused: the sweep tests nothing")
	}
}

// mountSweep runs the rows of mountConflicts and returns how many Mounts
// were refused.
func mountSweep(t *testing.T) (refused int) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	for _, c := range mountConflicts {
		mux := http.NewServeMux()
		for _, p := range c.patterns {
			mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
		}
		before := snapshotMux(mux)
		err := reg.Mount(mux, health.MountOptions{Prefix: c.prefix})
		if err == nil {
			continue
		}
		refused++
		after := snapshotMux(mux)
		for _, p := range probePaths {
			if before[p] != after[p] {
				t.Errorf("%v (prefix %q): Mount refused (%.80s…) but GET %s answers %s, not %s as before", c.patterns, c.prefix, err, p, after[p], before[p])
			}
		}
	}
	return refused
}

// TestIssue20HandlersNeverRedirect: every handler of Routes, called
// directly with an unclean path, answers without a 3xx; and the doc
// sentence of Handler holds: an http.ServeMux in front of the handlers
// redirects "//ready" (307 to "/ready") before any handler runs, so the
// probe never reaches the registry (it is not counted as a probe).
//
// On 4001f29 the README promised "never a 3xx" of the mux Mount filled,
// and GET //ready answered 307 Location "/ready" (34 such spellings, GET
// and HEAD).
func TestIssue20HandlersNeverRedirect(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "db", passing); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "/health"} {
		routes, err := reg.Routes(health.MountOptions{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range routes {
			for _, p := range []string{"//", "/./", "/../", "/x/../", "//" + rt.Path, rt.Path + "/.", rt.Path + "//", rt.Path + "/./ready", rt.Path + "/../ready", rt.Path + "//ready"} {
				for _, method := range []string{http.MethodGet, http.MethodHead} {
					req := httptest.NewRequest(method, "http://pod/", nil)
					req.URL.Path, req.RequestURI = p, p // as sent, unclean
					rec := httptest.NewRecorder()
					rt.Handler.ServeHTTP(rec, req)
					if rec.Code >= 300 && rec.Code < 400 {
						t.Errorf("the handler of %s answered %s %s with %d Location %q", rt.Pattern, method, p, rec.Code, rec.Header().Get("Location"))
					}
				}
			}
		}
	}
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		t.Fatal(err)
	}
	probed := reg.Latest(health.Readiness).LastProbed
	req := httptest.NewRequest(http.MethodGet, "http://pod/", nil)
	req.URL.Path, req.RequestURI = "//ready", "//ready"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/ready" {
		t.Errorf("GET //ready through ServeMux: %d Location %q; Handler's doc says the mux redirects it to /ready", rec.Code, rec.Header().Get("Location"))
	}
	if got := reg.Latest(health.Readiness).LastProbed; !got.Equal(probed) {
		t.Errorf("GET //ready reached the readiness handler (LastProbed %v, was %v); the doc says the mux answers before any handler runs", got, probed)
	}
}

// propagateGoroutines counts the goroutines context.propagateCancel starts
// to watch a parent it cannot register with.
func propagateGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "created by context.(*cancelCtx).propagateCancel")
}

// derivedCost derives from ctx what client code does (a WithTimeout, an
// AfterFunc) and returns how many goroutines that started.
func derivedCost(ctx context.Context) int {
	before := propagateGoroutines()
	child, cancel := context.WithTimeout(ctx, time.Hour)
	stop := context.AfterFunc(ctx, func() {})
	grand, cancelGrand := context.WithCancel(child)
	extra := propagateGoroutines() - before
	cancelGrand()
	_ = grand
	stop()
	cancel()
	return extra
}

// TestIssue20CheckContextCostsNoGoroutine: a check that derives
// context.WithTimeout (and an AfterFunc) from its context starts no
// goroutine, as with a context of package context, on request and in the
// background.
//
// On 4001f29 the run's context was a type of the registry's own without
// an AfterFunc method: context.WithTimeout of it started one goroutine in
// propagateCancel for each run.
func TestIssue20CheckContextCostsNoGoroutine(t *testing.T) {
	std, cancel := context.WithCancel(context.Background())
	defer cancel()
	want := derivedCost(std)
	for _, every := range []time.Duration{0, time.Hour} {
		reg := health.New()
		got := make(chan int, 1)
		if err := reg.Register(health.Liveness, "local", health.CheckFunc(func(ctx context.Context) error {
			select {
			case got <- derivedCost(ctx):
			default:
			}
			return nil
		}), health.CheckOptions{Every: every}); err != nil {
			t.Fatal(err)
		}
		if every == 0 {
			if _, err := reg.Check(context.Background(), health.Liveness); err != nil {
				t.Fatal(err)
			}
		}
		if n := <-got; n != want {
			t.Errorf("every %v: deriving from a check's context started %d goroutines, %d from a standard one", every, n, want)
		}
		_ = reg.Close()
	}
}
