package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// Every request costs at most linear time and bounded memory in its own
// size. These tests measure work, not speed: CPU time of the serving
// thread (not wall time, which a loaded machine stretches) and bytes
// allocated, each the least of several tries, and they compare a request
// with one ten times its size instead of holding either to a number.

// requestRig is a registry of on-request checks (nothing runs in the
// background, so allocation counts are the request's own) on a mux.
func requestRig(t testing.TB) *rig {
	t.Helper()
	rg := newRig(t)
	rg.register(t, health.Readiness, "db", passing)
	rg.register(t, health.Readiness, "cache", health.CheckFunc(func(context.Context) error { return errors.New("cache down") }),
		health.CheckOptions{NonCritical: true})
	rg.register(t, health.Liveness, "loop", passing)
	return rg
}

// workOf returns the least CPU time and the least bytes allocated, over
// several tries, of serving req on h (the response is discarded).
func workOf(h http.Handler, req *http.Request) (cpu time.Duration, bytes uint64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu, bytes = math.MaxInt64, math.MaxUint64
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := threadCPU()
		h.ServeHTTP(httptest.NewRecorder(), req)
		cpu = min(cpu, threadCPU()-start)
		runtime.ReadMemStats(&after)
		bytes = min(bytes, after.TotalAlloc-before.TotalAlloc)
	}
	return cpu, bytes
}

// assertLinear serves small ten times and big (about ten times small's
// size) once, and fails unless big costs at most a few times as much CPU
// as the ten small ones together (quadratic work costs ten times as much)
// and allocates at most a small multiple of its own size.
func assertLinear(t *testing.T, h http.Handler, small, big *http.Request, size func(*http.Request) int) {
	t.Helper()
	var smallCPU time.Duration
	for range 10 {
		c, _ := workOf(h, small)
		smallCPU += c
	}
	bigCPU, bigBytes := workOf(h, big)
	t.Logf("10 × %d-byte request: %v CPU; 1 × %d-byte request: %v CPU, %d KiB allocated",
		size(small), smallCPU, size(big), bigCPU, bigBytes>>10)
	const factor, floor = 3, 5 * time.Millisecond
	if bigCPU > factor*smallCPU+floor {
		t.Errorf("a %d-byte request costs %v of CPU, more than %d× the %v of ten requests a tenth its size: the work is not linear in the request's size",
			size(big), bigCPU, factor, smallCPU)
	}
	if limit := uint64(32*size(big)) + 1<<20; bigBytes > limit {
		t.Errorf("a %d-byte request allocates %d KiB, more than %d KiB (32 bytes per request byte + 1 MiB)", size(big), bigBytes>>10, limit>>10)
	}
}

func querySize(r *http.Request) int  { return len(r.URL.RawQuery) }
func acceptSize(r *http.Request) int { return len(r.Header.Get("Accept")) }

func queryRequest(query string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	req.URL.RawQuery = query
	return req
}

func distinctExcludes(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("exclude=n%06d", i)
	}
	return strings.Join(parts, "&")
}

// TestExcludeListCostIsLinear: "One GET /readyz?exclude=0&exclude=1&… of
// 10,000 distinct names (128 KB, well under net/http's limit) costs over
// half a second of CPU just to be refused with 400: quadratic work before
// the limit is enforced."
func TestExcludeListCostIsLinear(t *testing.T) {
	rg := requestRig(t)
	small, big := queryRequest(distinctExcludes(1000)), queryRequest(distinctExcludes(10000))
	for _, r := range []*http.Request{small, big} {
		if a := serve(t, rg.mux, r, answerBound+slack); a.ok {
			checkAnswer(t, r, a)
			if a.code != http.StatusBadRequest {
				t.Errorf("%d excludes answered %d, want 400", strings.Count(r.URL.RawQuery, "&")+1, a.code)
			}
		}
	}
	assertLinear(t, rg.mux, small, big, querySize)
}

// TestQueryCostIsLinear: other query strings the handler parses (repeated
// verbose, duplicate excludes, unrelated parameters, bad escapes) are
// linear too.
func TestQueryCostIsLinear(t *testing.T) {
	rg := requestRig(t)
	for _, q := range []struct {
		name string
		make func(n int) string
	}{
		{"repeated_verbose", func(n int) string { return strings.Repeat("verbose&", n) }},
		{"duplicate_excludes", func(n int) string { return strings.Repeat("exclude=db&", n) }},
		{"unrelated_params", func(n int) string { return strings.Repeat("a=b&", n) }},
		{"long_exclude_value", func(n int) string { return "exclude=" + strings.Repeat("x", 12*n) }},
		{"bad_escapes", func(n int) string { return strings.Repeat("exclude=%zz&", n) }},
		{"long_verbose_value", func(n int) string { return "verbose=" + strings.Repeat("%41", 4*n) }},
	} {
		t.Run(q.name, func(t *testing.T) {
			small, big := queryRequest(q.make(900)), queryRequest(q.make(9000))
			for _, r := range []*http.Request{small, big} {
				if a := serve(t, rg.mux, r, answerBound+slack); a.ok {
					checkAnswer(t, r, a)
				}
			}
			assertLinear(t, rg.mux, small, big, querySize)
		})
	}
}

// TestAcceptHeaderCostIsLinear: huge and odd Accept headers are linear and
// always get a valid body in one of the two formats.
func TestAcceptHeaderCostIsLinear(t *testing.T) {
	rg := requestRig(t)
	accept := func(v string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		req.Header.Set("Accept", v)
		return req
	}
	for _, v := range []string{"text/plain;q=0.1, ", "application/json;q=0, ", "*/*;q=0,", "text/plain\x00json ", "TEXT/PLAIN,"} {
		t.Run(strings.Trim(fmt.Sprintf("%q", v), `"`), func(t *testing.T) {
			small, big := accept(strings.Repeat(v, 5000)), accept(strings.Repeat(v, 50000))
			for _, r := range []*http.Request{small, big} {
				if a := serve(t, rg.mux, r, answerBound); a.ok {
					checkAnswer(t, r, a)
				}
			}
			assertLinear(t, rg.mux, small, big, acceptSize)
		})
	}
}

// TestPathNameNotEchoedInFull: a per-check path naming no check gets a
// 404 whose body stays short and on one line, whatever the name.
func TestPathNameNotEchoedInFull(t *testing.T) {
	rg := requestRig(t)
	for _, name := range []string{
		strings.Repeat("a", 20<<10),
		strings.Repeat("%00%0A%0D%FF%22", 4<<10),
		strings.Repeat("%E2%80%A8", 4<<10),
		"x%0A[+]db%20ok%0Areadiness%20check%20passed",
	} {
		for _, group := range []string{"livez", "readyz", "startupz"} {
			req := httptest.NewRequest(http.MethodGet, "/"+group+"/"+name, nil)
			if a := serve(t, rg.mux, req, answerBound); a.ok {
				checkAnswer(t, req, a)
				if a.code != http.StatusNotFound {
					t.Errorf("GET /%s/%.40s… answered %d, want 404", group, name, a.code)
				}
			}
		}
	}
}

// TestEncodedSlashNamesNoOtherEntry: /readyz/nosuch%2Fdb names the entry
// "nosuch/db", which does not exist (names cannot contain "/"); it must
// not report the entry "db".
func TestEncodedSlashNamesNoOtherEntry(t *testing.T) {
	rg := requestRig(t)
	for _, target := range []string{"/readyz/nosuch%2Fdb", "/readyz/..%2Fcache", "/livez/x%2Falive", "/readyz/%2Fready"} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if a := serve(t, rg.mux, req, answerBound); a.ok {
			checkAnswer(t, req, a)
			if a.code != http.StatusNotFound {
				t.Errorf("GET %s answered %d %.120q, want 404: an encoded slash must not select another entry", target, a.code, a.body)
			}
		}
	}
}

// TestOddMethods: every method but GET and HEAD gets a short 405 with
// Allow, whatever it is.
func TestOddMethods(t *testing.T) {
	rg := requestRig(t)
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "get", "head", "GETS", "", strings.Repeat("M", 10<<10)} {
		for _, target := range []string{"/readyz", "/readyz/db", "/livez", "/"} {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Method = m
			a := serve(t, rg.mux, req, answerBound)
			if !a.ok {
				continue
			}
			checkAnswer(t, req, a)
			if a.code != http.StatusMethodNotAllowed || a.header.Get("Allow") == "" {
				t.Errorf("%.20q %s answered %d (Allow %q), want 405 with Allow", m, target, a.code, a.header.Get("Allow"))
			}
		}
	}
	req := httptest.NewRequest(http.MethodHead, "/readyz", nil)
	if a := serve(t, rg.mux, req, answerBound); a.ok {
		checkAnswer(t, req, a)
	}
}

// TestEveryResponseUnder10KiB: "every response (404 bodies included)
// stays under 10 KiB", with 150 failing checks of the longest
// names, long reasons full of newlines, 64 unmatched excludes, and
// every format.
func TestEveryResponseUnder10KiB(t *testing.T) {
	everyResponseUnder10KiB(t, func(i int) string { return fmt.Sprintf("%s%02d", strings.Repeat("z", 61), i) })
}

// TestExcludeNoteEscaping: the same with 64 unmatched excludes made of the
// bytes that quoting and JSON escape (NUL, 0xFF, '"'): the note naming
// them grows about fourfold on its way into the JSON body. Found by this
// suite on the v1.0 engine and fixed in c20870f: the truncation budget
// counted the note's raw length, so such a note took the JSON body of
// /readyz?exclude=... to 10,969 bytes (11,019 with details).
func TestExcludeNoteEscaping(t *testing.T) {
	everyResponseUnder10KiB(t, func(i int) string { return fmt.Sprintf("%%00%%FF%s%02d", strings.Repeat("%22", 58), i) })
}

func everyResponseUnder10KiB(t *testing.T, exclude func(i int) string) {
	rg := newRigWith(t, rigConfig{noLogger: true})
	huge := strings.Repeat("line\n[-]fake failed\r\n\xff", 200)
	for i := range 150 {
		name := fmt.Sprintf("%s%05d", strings.Repeat("n", 58), i)
		// In the background, so that each probe renders without running
		// 150 checks.
		opts := health.CheckOptions{Every: time.Hour, NonCritical: i%3 == 0}
		rg.register(t, health.Readiness, name, health.CheckFunc(func(ctx context.Context) error {
			return errors.New(huge)
		}), opts)
	}
	rg.reg.MarkNotReady(huge)
	if !eventually(settle, func() bool {
		rep, _ := rg.reg.Check(context.Background(), health.Readiness)
		for _, c := range rep.Checks {
			if safeIs(c.Err, health.ErrPending) {
				return false
			}
		}
		return true
	}) {
		t.Fatal("the background checks never produced their first results")
	}
	var excludes []string
	for i := range 64 {
		excludes = append(excludes, "exclude="+exclude(i))
	}
	query := strings.Join(excludes, "&")
	for _, target := range []string{"/readyz", "/readyz?verbose", "/readyz?" + query, "/readyz?verbose&" + query, "/ready", "/readyz/ready", "/readyz/" + strings.Repeat("n", 58) + "00001"} {
		for _, headers := range [][]string{nil, {"Accept: text/plain"}, {detailsHeader + ": 1"}, {detailsHeader + ": 1", "Accept: text/plain"}} {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				req := newRequest(t, method, target, headers...)
				if a := serve(t, rg.mux, req, answerBound+slack); a.ok {
					checkAnswer(t, req, a)
				}
			}
		}
	}
}
