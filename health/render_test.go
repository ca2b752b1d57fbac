package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestJSONShape(t *testing.T) {
	r := openRegistry(t)
	dep := newDependency(t)
	var depRuns atomic.Int64
	mustRegister(t, r, health.Liveness, "loop", passing)
	mustRegister(t, r, health.Readiness, "db", dep.check(&depRuns))
	mustRegister(t, r, health.Readiness, "queue", passing)
	mustRegister(t, r, health.Readiness, "lag", passing)
	mustRegister(t, r, health.Readiness, "cert", health.CheckFunc(func(context.Context) error {
		return health.Warn(errors.New("expires in 5 days"))
	}))
	mustRegister(t, r, health.Readiness, "search", failing)
	mustRegister(t, r, health.Readiness, "cache", failing)
	p := serveProbes(t, r)

	before := time.Now().Add(-time.Second)
	resp := p.get("/readyz?exclude=cache")
	assert.Equal(t, http.StatusServiceUnavailable, resp.code)
	body := decodeHealth(t, resp)
	assert.Equal(t, "fail", body.Status)
	var got []string
	for name := range body.Checks {
		got = append(got, name)
	}
	assert.ElementsMatch(t, []string{"db", "queue", "lag", "cert", "search", "ready", "liveness", "startup"}, got)
	assert.Equal(t, []string{"excluded: cache"}, body.Notes)

	for _, name := range []string{"db", "queue", "lag", "cert", "search"} {
		e := body.only(t, name)
		require.NotEmpty(t, e.Time, name)
		at, err := time.Parse(time.RFC3339, e.Time)
		require.NoError(t, err)
		assert.True(t, at.After(before) && at.Before(time.Now().Add(time.Second)), "%s: time %s", name, e.Time)
		assert.True(t, strings.HasSuffix(e.Time, "Z"), "UTC: %s", e.Time)
		assert.NotEmpty(t, e.Duration, name)
	}
	db := body.only(t, "db")
	assert.Equal(t, "pass", db.Status)
	assert.Equal(t, "closed", db.Breaker)
	assert.NotEmpty(t, db.LastSuccess)
	assert.NotEmpty(t, db.SinceLastSuccess)
	assert.Empty(t, db.Output, "a pass has no output")
	assert.Equal(t, "warn", body.only(t, "cert").Status)
	assert.Equal(t, "reason withheld", body.only(t, "cert").Output)
	assert.Equal(t, "fail", body.only(t, "search").Status)
	assert.Equal(t, "reason withheld", body.only(t, "search").Output)
	for _, name := range []string{"queue", "search", "ready", "liveness", "startup"} {
		assert.Empty(t, body.only(t, name).Breaker, "only dependencies have a breaker")
	}

	// A pass with nothing to say is still an object with a status.
	live := decodeHealth(t, p.get("/livez"))
	assert.Equal(t, "pass", live.Status)
	assert.Equal(t, "pass", live.only(t, "alive").Status)
	assert.Empty(t, live.Notes)
}

func TestSecretsNeverLeak(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    health.Checker
		opts health.CheckOptions
		code int
	}{
		{"critical on request", health.CheckFunc(func(context.Context) error { return errSecret }), health.CheckOptions{}, 503},
		{"non-critical on request", health.CheckFunc(func(context.Context) error { return errSecret }), health.CheckOptions{NonCritical: true}, 200},
		{"critical background", health.CheckFunc(func(context.Context) error { return errSecret }), health.CheckOptions{Every: time.Hour}, 503},
		{"dependency", health.DependencyFunc(func(context.Context) error { return errSecret }), health.CheckOptions{}, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			rec := observe(r)
			mustRegister(t, r, health.Readiness, "db", tc.c, tc.opts)
			mustRegister(t, r, health.Readiness, "boom", health.CheckFunc(func(context.Context) error { panic(errSecret.Error()) }),
				health.CheckOptions{NonCritical: true})
			p := serveProbes(t, r)
			_ = report(t, r, health.Readiness)
			rec.runsOf(t, "db", 1)
			for _, target := range []string{"/readyz", "/ready", "/readyz?verbose", "/readyz/db", "/readyz/db?verbose",
				"/readyz/boom", "/readyz?exclude=nosuch", "/readyz?exclude=boom&verbose"} {
				for _, accept := range []string{"", "Accept: text/plain", "Accept: application/json"} {
					for range 2 { // fill, then hit, the cache
						resp := p.get(target, accept)
						code := tc.code
						if strings.HasPrefix(target, "/readyz/boom") {
							code = http.StatusOK // a non-critical panic warns
						}
						assert.Equal(t, code, resp.code, "%s %s", target, accept)
						assert.False(t, leaks(resp.body), "%s %s leaks: %s", target, accept, resp.body)
						assert.NotEmpty(t, resp.body)
					}
				}
			}
		})
	}

	t.Run("MarkNotReady and MarkBroken reasons", func(t *testing.T) {
		r := openRegistry(t)
		p := serveProbes(t, r)
		r.MarkNotReady(errSecret.Error())
		r.MarkBroken(errSecret.Error())
		for _, target := range []string{"/", "/livez?verbose", "/readyz", "/readyz?verbose", "/readyz/ready", "/livez/alive"} {
			resp := p.get(target)
			assert.Equal(t, http.StatusServiceUnavailable, resp.code, target)
			assert.False(t, leaks(resp.body), "%s leaks: %s", target, resp.body)
		}
	})
}

// TestHugeReasonsAreCut: a megabyte error and a megabyte panic are shown
// as their first KiB, redacted, valid UTF-8 and marked as cut; the rest is
// not read (redaction reads the first 16 KiB only).
func TestHugeReasonsAreCut(t *testing.T) {
	huge := errSecret.Error() + " " + strings.Repeat("é", 1<<19) // a rune cut at every even offset
	r := openRegistry(t, health.Options{ShowDetails: func(*http.Request) bool { return true }})
	mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return errors.New(huge) }))
	mustRegister(t, r, health.Readiness, "boom", health.CheckFunc(func(context.Context) error { panic(huge) }))
	body := decodeHealth(t, serveProbes(t, r).get("/readyz"))
	for _, name := range []string{"db", "boom"} {
		out := body.only(t, name).Output
		assert.Contains(t, out, "postgres://app:xxxxx@", name)
		assert.NotContains(t, out, "hunter2", name)
		assert.True(t, utf8.ValidString(out), name)
		assert.True(t, strings.HasSuffix(out, "é…"), "%s: cut and marked: %.200s", name, out[max(0, len(out)-200):])
		assert.LessOrEqual(t, len(out), 1<<10+len("…"), name)
	}
}

func TestShowDetails(t *testing.T) {
	t.Run("always", func(t *testing.T) {
		r := openRegistry(t, health.Options{ShowDetails: func(*http.Request) bool { return true }})
		mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return errSecret }))
		mustRegister(t, r, health.Readiness, "cache", health.CheckFunc(func(context.Context) error { return errSecret }),
			health.CheckOptions{NonCritical: true})
		p := serveProbes(t, r)
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		body := decodeHealth(t, resp)
		assert.Equal(t, shownSecret, body.only(t, "db").Output)
		assert.Equal(t, shownSecret, body.only(t, "cache").Output)
		assert.Contains(t, p.get("/readyz?verbose").body, "[-]db failed: "+shownSecret+"\n")
		assert.Contains(t, p.get("/readyz?verbose").body, "[+]cache warn: "+shownSecret+"\n")
		assert.Contains(t, p.get("/readyz/db", "Accept: text/plain").body, shownSecret)
		assert.NotContains(t, resp.body, "hunter2", "details are redacted")
	})

	t.Run("by header", func(t *testing.T) {
		r := openRegistry(t, health.Options{ShowDetails: func(req *http.Request) bool {
			return req.Header.Get("X-Health-Details") == "yes"
		}})
		rec := observe(r)
		mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return errSecret }),
			health.CheckOptions{Every: time.Hour})
		rec.runsOf(t, "db", 1)
		p := serveProbes(t, r)
		// Interleaved, so that a cached rendering for one audience is never
		// served to the other.
		for range 3 {
			for _, target := range []string{"/readyz", "/readyz?verbose", "/readyz/db"} {
				for _, accept := range []string{"", "Accept: text/plain"} {
					plain := p.get(target, accept)
					assert.False(t, leaks(plain.body), "%s leaks: %s", target, plain.body)
					shown := p.get(target, accept, "X-Health-Details: yes")
					assert.Contains(t, shown.body, "db.internal", target)
					assert.NotContains(t, shown.body, "hunter2", "%s: details are redacted", target)
					assert.Equal(t, plain.code, shown.code, target)
					assert.False(t, leaks(p.get(target, accept, "X-Health-Details: no").body), target)
				}
			}
		}
	})

	t.Run("long reasons are cut", func(t *testing.T) {
		r := openRegistry(t, health.Options{ShowDetails: func(*http.Request) bool { return true }})
		mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error {
			return errors.New("first line\n" + strings.Repeat("é", 1000))
		}))
		p := serveProbes(t, r)
		out := decodeHealth(t, p.get("/readyz")).only(t, "db").Output
		assert.LessOrEqual(t, len(out), 256+len("…"))
		assert.True(t, strings.HasPrefix(out, "first line é"), out)
		assert.NotContains(t, p.get("/readyz?verbose").body, "first line\n", "one line per entry")
	})
}

// The kubelet reads 10 KiB of a probe response: the verdict fits whatever
// the number of checks, and the failing entries that fit are kept.
func TestBodyStaysUnder10KiB(t *testing.T) {
	const n = 1000
	for _, tc := range []struct {
		name    string
		failing func(i int) bool
		code    int
	}{
		{"all pass", func(int) bool { return false }, http.StatusOK},
		{"all fail", func(int) bool { return true }, http.StatusServiceUnavailable},
		{"one fails", func(i int) bool { return i == n-1 }, http.StatusServiceUnavailable},
		{"half fail", func(i int) bool { return i%2 == 0 }, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t, health.Options{ShowDetails: func(req *http.Request) bool { return req.Header.Get("X-D") != "" }})
			var lastFailing string
			reason := errors.New(strings.Repeat(`long "reason" `, 50))
			for i := range n {
				name := fmt.Sprintf("%s-%04d", strings.Repeat("c", 58), i)
				c := passing
				if tc.failing(i) {
					lastFailing = name
					c = health.CheckFunc(func(context.Context) error { return reason })
				}
				mustRegister(t, r, health.Readiness, name, c)
			}
			p := serveProbes(t, r)
			for _, target := range []string{"/readyz", "/readyz?verbose", "/ready?exclude=nosuch", "/readyz?exclude=ready"} {
				for _, hdr := range []string{"", "Accept: text/plain", "X-D: 1"} {
					resp := p.get(target, hdr)
					label := target[:min(len(target), 30)] + " " + hdr
					assert.Equal(t, tc.code, resp.code, label)
					assert.Less(t, len(resp.body), 10240, label)
					if resp.header.Get("Content-Type") == "application/health+json" {
						want := "pass"
						if tc.code != http.StatusOK {
							want = "fail"
						}
						assert.Equal(t, want, decodeHealth(t, resp).Status, label)
					}
				}
			}
			if tc.name == "one fails" {
				// Passing entries make way for the one that explains the 503.
				assert.Contains(t, p.get("/readyz?verbose").body, "[-]"+lastFailing+" failed")
				assert.Contains(t, decodeHealth(t, p.get("/readyz")).Checks, lastFailing)
			}
			if tc.code != http.StatusOK {
				// Even when the failing entries alone are too many, as many
				// as fit are shown, with a note of how many are not.
				body := p.get("/readyz?verbose", "X-D: 1").body
				assert.Contains(t, body, ` failed: long "reason"`)
				assert.Contains(t, body, "entries omitted")
			}
		})
	}
}

// A shortened body keeps the request's notes (exclusions that matched
// nothing), and still stays under 10 KiB however the names it quotes
// escape in JSON.
func TestBodyWithNotesStaysUnder10KiB(t *testing.T) {
	r := openRegistry(t, health.Options{ShowDetails: func(req *http.Request) bool { return req.Header.Get("X-D") != "" }})
	for i := range 1000 {
		mustRegister(t, r, health.Readiness, fmt.Sprintf("%s-%04d", strings.Repeat("c", 58), i), failing)
	}
	hostile := url.Values{}
	for i := range 20 {
		hostile.Add("exclude", strings.Repeat(`"\\`, 40)+fmt.Sprint(i)) // unknown names, quoted in a note
	}
	h := r.Handler(health.Readiness)
	tooLong := ""
	for _, target := range []string{"/readyz?" + hostile.Encode(), "/readyz?verbose&" + hostile.Encode()} {
		for _, hdr := range []string{"", "Accept: text/plain", "X-D: 1"} {
			w := serve(h, http.MethodGet, target, hdr)
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			assert.Contains(t, w.Body.String(), "cannot be excluded", "the note is kept")
			assert.Contains(t, w.Body.String(), "entries omitted")
			if w.Body.Len() >= 10240 {
				tooLong += fmt.Sprintf("\n%d bytes: %s %s", w.Body.Len(), target[:min(len(target), 16)], hdr)
				continue
			}
			if w.Header().Get("Content-Type") == "application/health+json" {
				assert.Equal(t, "fail", decodeBody(t, w.Body.String()).Status)
			}
		}
	}
	failIf(t, tooLong != "", "a shortened JSON body with a note quoting escaped names reaches 10 KiB:%s", tooLong)
}

// Whoever made a check's error, the text the registry logs and (with
// ShowDetails) serves has its credentials redacted, in every form the
// URL and DSN parsers accept.
func TestReasonsAreRedacted(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:p@SECRET@db/app",
		"app:p@SECRET@tcp(db:3306)/app",
		"host=db user=app password='p@ SECRET' dbname=app",
		"redis://:p%40SECRET@cache:6379/0",
		"https://api.example/v1?token=SECRET",
	} {
		logs, logger := newLog()
		r := openRegistry(t, health.Options{Logger: logger, ShowDetails: func(*http.Request) bool { return true }})
		mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return errors.New("dial " + dsn + ": refused") }))
		mustRegister(t, r, health.Readiness, "boom", health.CheckFunc(func(context.Context) error { panic("connect " + dsn) }))
		r.MarkNotReady("waiting for " + dsn)
		p := serveProbes(t, r)
		for _, target := range []string{"/readyz", "/readyz?verbose", "/readyz/db", "/readyz/boom", "/readyz/ready"} {
			body := p.get(target).body
			assert.NotContains(t, body, "SECRET", "%s %s", dsn, target)
			assert.Contains(t, body, "xxxxx", "%s %s: the reason is shown, redacted", dsn, target)
		}
		for _, check := range []string{"db", "ready"} {
			logs.wait(t, check+"'s failure", func(rec map[string]any) bool {
				msg, _ := rec["error"].(string)
				return rec["check"] == check && rec["to"] == "fail" && strings.Contains(msg, "xxxxx")
			})
		}
		logs.wait(t, "the panic", func(rec map[string]any) bool { return rec["check"] == "boom" && rec["panic"] != nil })
		assert.NotContains(t, logs.String(), "SECRET", dsn)
	}
}
