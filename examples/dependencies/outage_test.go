package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/probekit/probekit/examples/internal/privdb"
)

// Small settings, so that an outage plays out in about a second. The
// bounds below are the arithmetic of docs/fleet.md plus slack for a loaded
// two-core machine running the race detector.
const (
	testInterval = 100 * time.Millisecond
	testTimeout  = 200 * time.Millisecond
	testOpen     = 500 * time.Millisecond
	slack        = 3 * time.Second
)

var testArgs = []string{
	"-interval", testInterval.String(), "-timeout", testTimeout.String(),
	"-breaker-open", testOpen.String(), "-drain", "300ms",
}

// checkRun is the longest one background check cycle takes: the wait,
// CheckOptions.Every ± 10 %, plus a run that hits its timeout.
var checkRun = scale(testInterval, 1.1) + testTimeout

// Readiness fails at the first failed check, the breaker opens at the
// defaultBreakerFailures-th.
var (
	failBound = checkRun + slack
	openBound = defaultBreakerFailures*checkRun + slack
	// A recovered dependency is called at the breaker's next trial, which
	// the background check makes as soon as it is due: at most the
	// jittered open period after a trial that failed just as the
	// dependency came back. The two check runs are that failed trial and
	// the one that passes.
	recoverBound = scale(testOpen, 1+breakerJitter) + 2*checkRun + slack
)

func TestRedisOutageAndRecovery(t *testing.T) {
	rs := privdb.StartRedis(t)
	svc := startService(t, append([]string{"-redis", rs.Addr()}, testArgs...)...)
	after := exerciseOutage(t, svc, outage{
		check: "redis", endpoint: "/counter", method: http.MethodPost,
		kill: rs.Kill, restart: rs.Restart,
		// go-redis's words for a server that is gone.
		reasons: []string{"connection refused", "EOF", "connection reset"},
	})
	// The counter was 1 before the outage; Redis restarted empty.
	if after != "1" {
		t.Errorf("POST /counter after recovery = %q, want \"1\" from the restarted, empty Redis", after)
	}
}

func TestPostgresOutageAndRecovery(t *testing.T) {
	pg := privdb.StartPostgres(t)
	svc := startService(t, append([]string{"-postgres", pg.DSN()}, testArgs...)...)
	exerciseOutage(t, svc, outage{
		check: "postgres", endpoint: "/now", method: http.MethodGet,
		kill: pg.Stop, restart: pg.Start,
		reasons: []string{"connection refused", "EOF", "terminating connection", "closed", "reset"},
	})
}

type outage struct {
	check            string // the dependency check's name
	endpoint, method string // an application endpoint that calls the dependency
	kill, restart    func()
	reasons          []string // one of them appears in the logged failure reason
}

// exerciseOutage kills a dependency of a running service and brings it
// back, asserting over HTTP what the service tells probes and clients. It
// returns the body of the application endpoint's answer after recovery.
func exerciseOutage(t *testing.T, svc *service, o outage) string {
	t.Helper()
	if d := await(t, 10*time.Second, "ready before the outage", func() bool { return readyCode(svc.base) == http.StatusOK }); d > 5*time.Second {
		t.Logf("readiness took %v to pass", d)
	}
	if code, body := do(o.method, svc.base+o.endpoint); code != http.StatusOK {
		t.Fatalf("%s %s before the outage = %d %q, want 200", o.method, o.endpoint, code, body)
	}
	live := watchLiveness(svc.base)

	mark := svc.mark()
	o.kill()
	polledAtKill := live.completed()
	failed := await(t, failBound, "readiness fails after the kill", func() bool { return readyCode(svc.base) == http.StatusServiceUnavailable })
	opened := await(t, openBound, "breaker open after the kill", func() bool { return breakerState(svc.base, o.check) == "open" })
	t.Logf("after the kill: readiness failed within %v, breaker open within %v (bounds %v, %v)", failed, opened, failBound, openBound)
	await(t, slack, "the status page shows the breaker open", func() bool { return pageBreaker(t, svc.base, o.check).State() == "open" })

	// The failure reason reaches the log, not the response.
	// Match the pass -> fail line: log lines are written asynchronously, so
	// the start-up line (pending -> fail, "no result yet") may land after
	// the mark.
	wentDown := statusLog(o.check, "fail")
	fail := svc.waitLog(mark, slack, func(l map[string]any) bool { return wentDown(l) && l["from"] == "pass" })
	if reason, _ := fail["error"].(string); !containsAny(reason, o.reasons) {
		t.Errorf("logged failure reason %q, want one of %q", reason, o.reasons)
	}
	svc.waitLog(mark, slack, breakerLog(o.check, "open"))
	if _, body := get(svc.base + "/ready?verbose"); !strings.Contains(body, "[-]"+o.check+" failed: reason withheld") {
		t.Errorf("/ready?verbose during the outage = %q, want the check failed with its reason withheld", body)
	}
	// Real traffic is refused by the open breaker, fast: while it is open
	// nothing is sent, so nothing can wait for a timeout.
	if breakerState(svc.base, o.check) == "open" {
		start := time.Now()
		code, body := do(o.method, svc.base+o.endpoint)
		if code != http.StatusServiceUnavailable {
			t.Errorf("%s %s during the outage = %d %q, want 503", o.method, o.endpoint, code, body)
		}
		t.Logf("%s %s during the outage: %d %q in %v", o.method, o.endpoint, code, strings.TrimSpace(body), time.Since(start))
	}

	// Liveness is polled while the dependency is down: a poll that began
	// after the kill (the one in flight then is the first to complete)
	// completes before the restart.
	await(t, slack, "a liveness poll during the outage", func() bool { return live.completed() >= polledAtKill+2 })

	mark = svc.mark()
	o.restart()
	back := await(t, recoverBound, "readiness recovers after the restart", func() bool { return readyCode(svc.base) == http.StatusOK })
	t.Logf("after the restart: ready again within %v (bound %v)", back, recoverBound)
	svc.waitLog(mark, slack, breakerLog(o.check, "closed"))
	if got := breakerState(svc.base, o.check); got != "closed" {
		t.Errorf("breaker after recovery = %q, want closed", got)
	}
	assertPageRecordedOutage(t, svc.base, o.check)

	polls, bad := live.stop()
	if len(bad) > 0 {
		t.Errorf("liveness failed %d of %d polls during the outage: %q", len(bad), polls, bad)
	}
	t.Logf("liveness: %d polls during the outage", polls)
	code, body := do(o.method, svc.base+o.endpoint)
	if code != http.StatusOK {
		t.Errorf("%s %s after recovery = %d %q, want 200", o.method, o.endpoint, code, body)
	}
	return strings.TrimSpace(body)
}

func scale(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestShutdownDrains sends SIGTERM to the real binary: readiness must fail
// at once while liveness and the application keep answering for the drain
// period, and the process must then exit cleanly.
func TestShutdownDrains(t *testing.T) {
	rs := privdb.StartRedis(t)
	svc := startService(t, "-redis", rs.Addr(), "-interval", testInterval.String(), "-drain", "2s")
	await(t, 10*time.Second, "ready", func() bool { return readyCode(svc.base) == http.StatusOK })

	mark := svc.mark()
	svc.Signal(syscall.SIGTERM)
	// The registry logs the readiness switch going off.
	svc.waitLog(mark, 5*time.Second, statusLog("ready", "fail"))
	code, body := get(svc.base + "/ready")
	if code != http.StatusServiceUnavailable {
		t.Errorf("/ready while draining = %d %q, want 503", code, body)
	}
	if code, body := get(svc.base + "/"); code != http.StatusOK {
		t.Errorf("/ while draining = %d %q, want 200: a draining pod is not dead", code, body)
	}
	if code, body := do(http.MethodPost, svc.base+"/counter"); code != http.StatusOK {
		t.Errorf("POST /counter while draining = %d %q, want 200: requests still arriving must be served", code, body)
	}
	if err := svc.Wait(10 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want a clean exit", err)
	}
	svc.waitLog(mark, slack, func(l map[string]any) bool { return l["msg"] == "stopped" })
}
