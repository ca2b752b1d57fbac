package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestJSONShape(t *testing.T) {
	r := openRegistry(t)
	dep := newDependency(t)
	var depRuns atomic.Int64
	mustRegister(t, r, health.Liveness, "loop", passing)
	mustRegister(t, r, health.Readiness, "db", dep.check(&depRuns), health.Dependency())
	mustRegister(t, r, health.Readiness, "queue", func(ctx context.Context) error {
		health.Observe(ctx, 42, "messages")
		return nil
	})
	mustRegister(t, r, health.Readiness, "lag", func(ctx context.Context) error {
		health.Observe(ctx, map[string]float64{"p99": 1.5}, "s")
		return nil
	})
	mustRegister(t, r, health.Readiness, "cert", func(context.Context) error {
		return health.Warn(errors.New("expires in 5 days"))
	})
	mustRegister(t, r, health.Readiness, "search", failing)
	mustRegister(t, r, health.Readiness, "cache", failing)
	p := serveProbes(t, r)

	before := time.Now().Add(-time.Second)
	resp := p.get("/readyz?exclude=cache")
	assert.Equal(t, http.StatusServiceUnavailable, resp.code)
	body := decodeHealth(t, resp)
	assert.Equal(t, "fail", body.Status)
	var names []string
	for name := range body.Checks {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{"db", "queue", "lag", "cert", "search", "ready", "liveness", "startup"}, names)
	assert.Equal(t, []string{"excluded: cache"}, body.Notes)

	for _, name := range []string{"db", "queue", "lag", "cert", "search"} {
		e := body.only(t, name)
		require.NotEmpty(t, e.Time, name)
		at, err := time.Parse(time.RFC3339, e.Time)
		require.NoError(t, err)
		assert.True(t, at.After(before) && at.Before(time.Now().Add(time.Second)), "%s: time %s", name, e.Time)
		assert.NotEmpty(t, e.Duration, name)
	}
	db := body.only(t, "db")
	assert.Equal(t, "pass", db.Status)
	assert.Equal(t, "closed", db.Breaker)
	require.NotEmpty(t, db.LastSuccess)
	assert.Empty(t, db.Output)
	assert.JSONEq(t, "42", string(body.only(t, "queue").ObservedValue))
	assert.Equal(t, "messages", body.only(t, "queue").ObservedUnit)
	assert.JSONEq(t, `{"p99":1.5}`, string(body.only(t, "lag").ObservedValue))
	assert.Equal(t, "s", body.only(t, "lag").ObservedUnit)
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
		opts []health.CheckOption
		code int
	}{
		{"critical on request", nil, http.StatusServiceUnavailable},
		{"non-critical on request", []health.CheckOption{health.NonCritical()}, http.StatusOK},
		{"critical background", []health.CheckOption{health.Every(time.Hour)}, http.StatusServiceUnavailable},
		{"dependency", []health.CheckOption{health.Dependency()}, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			mustRegister(t, r, health.Readiness, "db", func(context.Context) error { return errSecret }, tc.opts...)
			mustRegister(t, r, health.Readiness, "boom", func(context.Context) error { panic(errSecret.Error()) },
				health.NonCritical())
			p := serveProbes(t, r)
			waitResult(t, r, health.Readiness, "db", func(c health.CheckResult) bool { return errors.Is(c.Err, errSecret) })
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

func hasEvent(evs []health.Event, check string, ok func(health.Event) bool) bool {
	for _, ev := range evs {
		if ev.Check == check && ev.Breaker == nil && ok(ev) {
			return true
		}
	}
	return false
}

func TestShowDetails(t *testing.T) {
	t.Run("always", func(t *testing.T) {
		r := openRegistry(t, health.ShowDetails(func(*http.Request) bool { return true }))
		mustRegister(t, r, health.Readiness, "db", func(context.Context) error { return errSecret })
		mustRegister(t, r, health.Readiness, "cache", func(context.Context) error { return errSecret }, health.NonCritical())
		p := serveProbes(t, r)
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		body := decodeHealth(t, resp)
		assert.Equal(t, shownSecret, body.only(t, "db").Output)
		assert.Equal(t, shownSecret, body.only(t, "cache").Output)
		assert.Contains(t, p.get("/readyz?verbose").body, "[-]db failed: "+shownSecret+"\n")
		assert.Contains(t, p.get("/readyz?verbose").body, "[+]cache warn: "+shownSecret+"\n")
		assert.Contains(t, p.get("/readyz/db", "Accept: text/plain").body, shownSecret)
	})

	t.Run("by header", func(t *testing.T) {
		r := openRegistry(t, health.ShowDetails(func(req *http.Request) bool {
			return req.Header.Get("X-Health-Details") == "yes"
		}))
		mustRegister(t, r, health.Readiness, "db", func(context.Context) error { return errSecret }, health.Every(time.Hour))
		p := serveProbes(t, r)
		waitResult(t, r, health.Readiness, "db", func(c health.CheckResult) bool { return errors.Is(c.Err, errSecret) })
		// Interleaved, so that a cached rendering for one audience is never
		// served to the other.
		for range 3 {
			for _, target := range []string{"/readyz", "/readyz?verbose", "/readyz/db"} {
				plain := p.get(target)
				assert.False(t, leaks(plain.body), "%s leaks: %s", target, plain.body)
				shown := p.get(target, "X-Health-Details: yes")
				assert.Contains(t, shown.body, "db.internal", target)
				assert.NotContains(t, shown.body, "hunter2", "%s: details are redacted", target)
				assert.Equal(t, plain.code, shown.code, target)
				assert.False(t, leaks(p.get(target, "X-Health-Details: no").body), target)
			}
		}
	})

	t.Run("long reasons are cut", func(t *testing.T) {
		r := openRegistry(t, health.ShowDetails(func(*http.Request) bool { return true }))
		mustRegister(t, r, health.Readiness, "db", func(context.Context) error {
			return errors.New("first line\n" + strings.Repeat("é", 1000))
		})
		p := serveProbes(t, r)
		out := decodeHealth(t, p.get("/readyz")).only(t, "db").Output
		assert.LessOrEqual(t, len(out), 256+len("…"))
		assert.True(t, strings.HasPrefix(out, "first line é"), out)
		assert.NotContains(t, p.get("/readyz?verbose").body, "first line\n")
	})
}

func TestReasonReachesLogger(t *testing.T) {
	var logs lockedBuffer
	events := newEventLog()
	r := openRegistry(t,
		health.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		health.OnStatusChange(events.hook))
	var down atomic.Bool
	mustRegister(t, r, health.Readiness, "db", func(context.Context) error {
		if down.Load() {
			return errSecret
		}
		return nil
	})
	p := serveProbes(t, r)
	assert.Equal(t, http.StatusOK, p.get("/readyz").code)
	down.Store(true)
	resp := p.get("/readyz?verbose")
	assert.Equal(t, http.StatusServiceUnavailable, resp.code)
	assert.False(t, leaks(resp.body))

	events.waitUntil(t, "db to fail with its reason", func(evs []health.Event) bool {
		return hasEvent(evs, "db", func(ev health.Event) bool {
			return ev.To == health.StatusFail && errors.Is(ev.Err, errSecret)
		})
	})
	waitLogged(t, &logs, "db", shownSecret)
}

// waitLogged waits (at most waitLimit) for loggedFailure. The logger and
// each hook are served by goroutines of their own (a stuck one must not
// hold up the others), so a log line may follow the hook's event by a
// moment.
func waitLogged(t *testing.T, logs *lockedBuffer, check, reason string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !loggedFailure(t, logs.String(), check, reason) {
		require.True(t, time.Now().Before(deadline), "no log line for %s's failure in:\n%s", check, logs.String())
		time.Sleep(time.Millisecond)
	}
}

// loggedFailure reports whether the JSON log lines in logs record check
// failing with reason.
func loggedFailure(t *testing.T, logs, check, reason string) bool {
	t.Helper()
	for line := range strings.Lines(logs) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["check"] == check && rec["to"] == "fail" && rec["error"] == reason {
			assert.Equal(t, "WARN", rec["level"])
			return true
		}
	}
	return false
}

// TestFirstFailureReasonIsLogged: a readiness check with no result yet
// counts as failing (ErrPending); when its first run fails too, the status
// does not change, but the reason must still reach the logger and hooks: a
// service whose database is down at boot must log why it is not ready.
func TestFirstFailureReasonIsLogged(t *testing.T) {
	for _, opts := range [][]health.CheckOption{nil, {health.Every(time.Hour)}} {
		var logs lockedBuffer
		events := newEventLog()
		r := openRegistry(t,
			health.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
			health.OnStatusChange(events.hook))
		mustRegister(t, r, health.Readiness, "db", func(context.Context) error { return errSecret }, opts...)
		p := serveProbes(t, r)
		waitResult(t, r, health.Readiness, "db", func(c health.CheckResult) bool { return errors.Is(c.Err, errSecret) })
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz").code)
		events.waitUntil(t, "db to fail with its reason", func(evs []health.Event) bool {
			return hasEvent(evs, "db", func(ev health.Event) bool { return errors.Is(ev.Err, errSecret) })
		})
		waitLogged(t, &logs, "db", shownSecret)
	}
}

// TestBodyStaysUnder10KiB: the kubelet reads 10 KiB of a probe response;
// the verdict must fit whatever the number of checks.
func TestBodyStaysUnder10KiB(t *testing.T) {
	const n = 300
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
			r := openRegistry(t, health.ShowDetails(func(req *http.Request) bool { return req.Header.Get("X-D") != "" }))
			var lastFailing string
			for i := range n {
				name := fmt.Sprintf("%s-%03d", strings.Repeat("c", 59), i)
				fn := passing
				if tc.failing(i) {
					lastFailing = name
					fn = func(context.Context) error { return errors.New(strings.Repeat("long reason ", 50)) }
				}
				mustRegister(t, r, health.Readiness, name, fn)
			}
			p := serveProbes(t, r)
			for _, target := range []string{"/readyz", "/readyz?verbose", "/ready?exclude=nosuch"} {
				for _, hdr := range []string{"", "Accept: text/plain", "X-D: 1"} {
					resp := p.get(target, hdr)
					assert.Equal(t, tc.code, resp.code, "%s %s", target, hdr)
					assert.Less(t, len(resp.body), 10240, "%s %s", target, hdr)
					if resp.header.Get("Content-Type") == "application/health+json" {
						want := "pass"
						if tc.code != http.StatusOK {
							want = "fail"
						}
						assert.Equal(t, want, decodeHealth(t, resp).Status, "%s %s", target, hdr)
					}
				}
			}
			if tc.name == "one fails" {
				// Passing entries make way for the one that explains the 503.
				assert.Contains(t, p.get("/readyz?verbose").body, "[-]"+lastFailing+" failed")
				assert.Contains(t, decodeHealth(t, p.get("/readyz")).Checks, lastFailing)
			}
			if tc.code != http.StatusOK {
				// Even when the failing entries alone are too many, as
				// many as fit are shown, with a note of how many are not.
				body := p.get("/readyz?verbose", "X-D: 1").body
				assert.Contains(t, body, " failed: long reason")
				assert.Contains(t, body, "entries omitted")
			}
		})
	}
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
	} {
		var logs lockedBuffer
		r := openRegistry(t, health.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
			health.ShowDetails(func(*http.Request) bool { return true }))
		mustRegister(t, r, health.Readiness, "db", func(context.Context) error { return errors.New("dial " + dsn + ": refused") })
		mustRegister(t, r, health.Readiness, "boom", func(context.Context) error { panic("connect " + dsn) })
		p := serveProbes(t, r)
		for _, target := range []string{"/readyz", "/readyz?verbose", "/readyz/db", "/readyz/boom"} {
			body := p.get(target).body
			assert.NotContains(t, body, "SECRET", "%s %s", dsn, target)
			assert.Contains(t, body, "xxxxx", "%s %s: the reason is shown, redacted", dsn, target)
		}
		deadline := time.Now().Add(waitLimit)
		for !strings.Contains(logs.String(), `"check":"db","from":"fail","to":"fail","error":"dial `) {
			require.True(t, time.Now().Before(deadline), "db's failure was not logged:\n%s", logs.String())
			time.Sleep(time.Millisecond)
		}
		assert.NotContains(t, logs.String(), "SECRET", dsn)
		assert.Contains(t, logs.String(), "xxxxx", dsn)
	}
}
