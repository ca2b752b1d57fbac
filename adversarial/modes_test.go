package adversarial_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// mode is how the attacked check runs: on request or in the background
// (Every), plain or as a dependency behind its circuit breaker. Every
// containment attack is made in every mode.
type mode struct {
	name       string
	background bool
	dependency bool
	opts       health.CheckOptions
}

// tick is the interval of background checks under attack.
const tick = 10 * time.Millisecond

// breakerOpen is how long the breakers under attack stay open, so that
// trials come quickly.
const breakerOpen = 50 * time.Millisecond

var modes = []mode{
	{name: "on_request", opts: health.CheckOptions{Timeout: checkTimeout}},
	{name: "background", background: true, opts: health.CheckOptions{Timeout: checkTimeout, Every: tick}},
	{name: "dependency", dependency: true,
		opts: health.CheckOptions{Timeout: checkTimeout, Breaker: health.BreakerSettings{Open: breakerOpen}}},
	{name: "dependency_background", background: true, dependency: true,
		opts: health.CheckOptions{Timeout: checkTimeout, Every: tick, Breaker: health.BreakerSettings{Open: breakerOpen}}},
}

// checker makes fn the mode's kind of check.
func (m mode) checker(fn func(context.Context) error) health.Checker {
	if m.dependency {
		return health.DependencyFunc(fn)
	}
	return health.CheckFunc(fn)
}

// expectFail asserts that the next run of the hostile check is a failed
// run whose error judge accepts, and that the hooks hear of it. On request
// the run is the one Check makes; in the background it is announced by an
// event (which also carries its error).
func (rg *rig) expectFail(t *testing.T, m mode, name string, from int, judge errJudge) {
	t.Helper()
	notPending := func(ev seen) bool {
		return statusOf(name, health.StatusFail)(ev) && !safeIs(ev.err, health.ErrPending)
	}
	if !m.background {
		res, ok := rg.result(t, health.Readiness, name)
		if !ok {
			return
		}
		if res.Status != health.StatusFail {
			t.Errorf("the hostile run of %s reported %v (%s), want fail", name, res.Status, shorten(safeText(res.Err)))
		} else if judge != nil {
			if p := judge(res.Err); p != "" {
				t.Errorf("the hostile run of %s: %s", name, p)
			}
		}
		if _, ok := rg.events.await(from, notPending); !ok {
			t.Errorf("no hook heard that %s failed; events: %s", name, rg.events.describe(name))
		}
		return
	}
	ev, ok := rg.events.await(from, func(ev seen) bool {
		return notPending(ev) && (judge == nil || judge(ev.err) == "")
	})
	if !ok {
		t.Errorf("no event announced a failed run of %s with the expected error within %v; events: %s", name, settle, rg.events.describe(name))
		return
	}
	_ = ev
}

// expectPass asserts that the check passes again (polling: a dependency's
// breaker may have to admit a trial first) and that the hooks hear of it.
func (rg *rig) expectPass(t *testing.T, name string, from int) {
	t.Helper()
	var last health.CheckResult
	passed := eventually(settle, func() bool {
		res, ok := rg.result(t, health.Readiness, name)
		last = res
		return !ok || res.Status == health.StatusPass
	})
	if !passed {
		t.Errorf("%s did not pass again within %v after the hostile code stopped: last %v (%s)", name, settle, last.Status, shorten(safeText(last.Err)))
		return
	}
	if _, ok := rg.events.await(from, statusOf(name, health.StatusPass)); !ok {
		t.Errorf("no hook heard that %s passed again; events: %s", name, rg.events.describe(name))
	}
}

// probeAll sends the probes a kubelet, an operator and a dashboard would
// send, and asserts each is answered with code (any of codes).
func (rg *rig) probeAll(t *testing.T, name string, codes ...int) {
	t.Helper()
	for _, p := range []struct {
		target  string
		headers []string
	}{
		// Details first: a dependency's breaker may open after a few
		// failed runs, and then the hostile error is no longer shown.
		{target: "/readyz", headers: []string{detailsHeader + ": 1"}},
		{target: "/readyz?verbose", headers: []string{detailsHeader + ": 1"}},
		{target: "/readyz/" + name, headers: []string{detailsHeader + ": 1"}},
		{target: "/readyz?exclude=bystander", headers: []string{detailsHeader + ": 1"}},
		{target: "/readyz"},
		{target: "/ready"},
		{target: "/readyz?verbose"},
		{target: "/readyz", headers: []string{"Accept: text/plain"}},
	} {
		a := rg.get(t, p.target, p.headers...)
		if a.ok && !containsInt(codes, a.code) {
			t.Errorf("GET %s %v answered %d, want %v", p.target, p.headers, a.code, codes)
		}
		if t.Failed() {
			return // the first unanswered probe says it; the rest would wait as long
		}
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// describe lists the events of check name, for failure messages.
func (l *eventLog) describe(name string) string {
	var b strings.Builder
	for _, ev := range l.snapshot() {
		if ev.check != name {
			continue
		}
		if ev.breaker != nil {
			fmt.Fprintf(&b, "[breaker %v] ", ev.breaker.State)
			continue
		}
		fmt.Fprintf(&b, "[%v %T] ", ev.to, ev.err)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// attack is one hostile behaviour of user code, made by a check.
type attack struct {
	name string
	// run is the hostile run; it may use the rig (to hang on its release).
	run func(rg *rig) func(context.Context) error
	// judge, if set, must accept the error of the hostile run.
	judge errJudge
	// hangs: the run hangs until released, so the check can only pass
	// again once the test has released it.
	hangs bool
	// logs are substrings one log line must contain after the hostile run.
	logs []string
	// degraded: the check asked for warn (Warn), so warn or fail are both
	// acceptable verdicts and 200 or 503 both acceptable answers.
	degraded bool
}

// attackCheck makes the attack on a readiness check called "victim" next to
// a passing "bystander", twice (once for a hanging attack): the hostile run
// must fail (as judged), every probe must be answered, the registry must
// stay responsive, and once the check behaves again it must pass and the
// hooks must hear of both changes.
func attackCheck(t *testing.T, m mode, a attack) {
	rg := newRig(t)
	var hostile atomic.Bool
	hostile.Store(true)
	evil := a.run(rg)
	rg.register(t, health.Readiness, "bystander", passing)
	baseline := runtime.NumGoroutine()
	from := rg.events.mark()
	rg.register(t, health.Readiness, "victim", m.checker(func(ctx context.Context) error {
		if hostile.Load() {
			return evil(ctx)
		}
		return nil
	}), m.opts)
	failCodes := []int{http.StatusServiceUnavailable}
	if a.degraded {
		failCodes = append(failCodes, http.StatusOK)
	}
	rounds := 2
	if a.hangs {
		rounds = 1
	}
	for round := 1; round <= rounds; round++ {
		if round > 1 {
			from = rg.events.mark()
			hostile.Store(true)
		}
		if a.degraded {
			if !m.background {
				if res, ok := rg.result(t, health.Readiness, "victim"); ok && res.Status == health.StatusPass {
					t.Errorf("the hostile run of victim passed, want warn or fail")
				}
			} else if _, ok := rg.events.await(from, func(ev seen) bool {
				return ev.check == "victim" && ev.breaker == nil && ev.to != health.StatusPass && !safeIs(ev.err, health.ErrPending)
			}); !ok {
				t.Errorf("no event announced the hostile run of victim as warn or fail; events: %s", rg.events.describe("victim"))
			}
		} else {
			rg.expectFail(t, m, "victim", from, a.judge)
		}
		if t.Failed() {
			return // one wrong step says enough; the rest would only wait
		}
		rg.probeAll(t, "victim", failCodes...)
		rg.responsive(t, "bystander")
		if t.Failed() {
			return
		}
		if round == 1 && len(a.logs) > 0 && !rg.logs.await(a.logs...) {
			t.Errorf("no log line mentions %q; the log:\n%s", a.logs, tailString(rg.logs.String()))
		}
		if a.hangs {
			for range 20 {
				rg.get(t, "/readyz")
			}
			if n := runtime.NumGoroutine(); n > baseline+6 {
				t.Errorf("%d goroutines while one check hangs, %d before it was registered: a hang must cost at most one goroutine per check", n, baseline)
			}
			rg.unblock()
		}
		from = rg.events.mark() // before the change: a background run may pass at once
		hostile.Store(false)
		rg.expectPass(t, "victim", from)
		rg.probeAll(t, "victim", http.StatusOK)
		if t.Failed() {
			return
		}
	}
}

// tailString keeps the last lines of a log, each cut short, for failure
// messages.
func tailString(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) > 40 {
		lines = append([]string{"…"}, lines[len(lines)-40:]...)
	}
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = l[:300] + "…"
		}
	}
	return strings.Join(lines, "\n")
}
