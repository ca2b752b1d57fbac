package adversarial_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/health"
)

// callbackAttack is a hostile circuit-breaker callback of WithBreaker.
type callbackAttack struct {
	callback string // ReadyToTrip, IsSuccessful, IsExcluded or OnStateChange
	behave   string // once_panics, once_calls_Goexit, once_hangs, always_buggy, benign_control
}

// hostileSettings returns breaker settings whose callback performs do
// while armed (disarming itself first: the attack happens once), or, for
// always_buggy, the bug users really write, forever.
func hostileSettings(a callbackAttack, armed *atomic.Bool, fired, calls *atomic.Int32, do act) gobreaker.Settings {
	st := gobreaker.Settings{Timeout: breakerOpen}
	strike := func() {
		calls.Add(1)
		if armed.CompareAndSwap(true, false) {
			fired.Add(1)
			do()
		}
	}
	always := a.behave == "always_buggy"
	switch a.callback {
	case "ReadyToTrip":
		st.ReadyToTrip = func(c gobreaker.Counts) bool {
			if always {
				calls.Add(1)
				fired.Add(1)
				// A failure ratio, which divides by zero when every
				// request so far has failed.
				return c.TotalFailures*100/(c.Requests-c.TotalFailures) > 50
			}
			strike()
			return c.ConsecutiveFailures >= health.DefaultBreakerFailures
		}
	case "IsSuccessful":
		st.IsSuccessful = func(err error) bool {
			if always {
				calls.Add(1)
				fired.Add(1)
				return err == nil || err.(net.Error).Timeout() // no nil check needed… until err is not a net.Error
			}
			strike()
			return err == nil
		}
	case "IsExcluded":
		st.IsExcluded = func(err error) bool {
			if always {
				calls.Add(1)
				fired.Add(1)
				return err.(net.Error).Timeout() // the common one: panics for nil and for every other error
			}
			strike()
			return false
		}
	case "OnStateChange":
		// Trip at the first failure, so that the callback strikes in the
		// check's first run, whose error the first event carries.
		st.ReadyToTrip = func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }
		st.OnStateChange = func(name string, from, to gobreaker.State) {
			if always {
				calls.Add(1)
				fired.Add(1)
				var gauges map[string]*atomic.Int32
				gauges[name].Store(int32(to)) // a metrics map nobody filled in
			}
			strike()
		}
	}
	return st
}

// attackBreaker registers a dependency check ("victim", failing while
// failing is set) whose breaker has the hostile callback, makes runs until
// the callback has struck, and asserts that the run failed as it should,
// that probes were answered, and (for a one-off attack) that the breaker
// still opens on failures and closes again through a trial.
func attackBreaker(t *testing.T, m mode, a callbackAttack) {
	rg := newRig(t)
	var armed atomic.Bool
	var fired, calls atomic.Int32
	var failing atomic.Bool
	var do act
	var judge errJudge
	switch a.behave {
	case "once_panics", "always_buggy":
		do, judge = panics(marker(a.callback)), matches(health.ErrPanic)
	case "once_calls_Goexit":
		do, judge = goexits(), mentions("goexit")
	case "once_hangs":
		do = hangs(rg)
	case "benign_control":
		do = noAct()
	}
	armed.Store(true)
	// Every callback strikes in the first run, which fails.
	failing.Store(true)
	if a.callback == "OnStateChange" {
		// It runs like an OnStatusChange hook, after the change and outside
		// the run (see WithBreaker): its misbehaviour fails no run, and is
		// judged as a hook's is, by what happens next.
		judge = nil
	}
	st := hostileSettings(a, &armed, &fired, &calls, do)
	rg.register(t, health.Readiness, "bystander", func(context.Context) error { return nil })
	opts := []health.CheckOption{health.Dependency(), health.WithBreaker(st), health.Timeout(checkTimeout)}
	if m.background {
		opts = append(opts, health.Every(tick))
	}
	from := rg.events.mark()
	rg.register(t, health.Readiness, "victim", func(context.Context) error {
		if failing.Load() {
			return errCheckFailed
		}
		return nil
	}, opts...)

	// Runs until the callback has struck.
	struck := eventually(settle, func() bool {
		if !m.background {
			rg.result(t, health.Readiness, "victim")
		}
		return fired.Load() > 0 || t.Failed()
	})
	if t.Failed() {
		return
	}
	if !struck {
		t.Fatalf("the hostile %s was never called", a.callback)
	}
	if judge != nil {
		if _, ok := rg.events.await(from, func(ev seen) bool {
			return statusOf("victim", health.StatusFail)(ev) && judge(ev.err) == ""
		}); !ok {
			if m.background {
				t.Errorf("no event announced a run failed by the hostile %s; events: %s", a.callback, rg.events.describe("victim"))
			} else if res, ok := rg.result(t, health.Readiness, "victim"); ok && res.Status != health.StatusFail {
				t.Errorf("after the hostile %s the check reports %v, want fail", a.callback, res.Status)
			} else {
				t.Errorf("no run failed as the hostile %s should make it; events: %s", a.callback, rg.events.describe("victim"))
			}
		}
	}
	rg.probeAll(t, "victim", http.StatusServiceUnavailable, http.StatusOK)
	rg.responsive(t, "bystander")
	if t.Failed() {
		return
	}
	if a.behave == "always_buggy" {
		// The bug stays: every run keeps failing, nothing else breaks, and
		// the callback is still called (at the breaker's next trial).
		for range 5 {
			rg.probeAll(t, "victim", http.StatusServiceUnavailable)
		}
		rg.responsive(t, "bystander")
		before := calls.Load()
		if !eventually(settle, func() bool {
			if !m.background {
				rg.result(t, health.Readiness, "victim")
			}
			return calls.Load() > before || t.Failed()
		}) {
			t.Errorf("the buggy %s is no longer called: the breaker stopped trying", a.callback)
		}
		return
	}
	rg.unblock()
	before := calls.Load()
	defer func() {
		if !t.Failed() && calls.Load() == before {
			t.Errorf("after misbehaving once, the hostile %s was not called again while the breaker opened and closed", a.callback)
		}
	}()

	// The breaker still works: it closes once the dependency is back...
	from = rg.events.mark()
	failing.Store(false)
	rg.expectPass(t, "victim", from)
	// ...failures open it again...
	from = rg.events.mark()
	failing.Store(true)
	opened := eventually(settle, func() bool {
		if !m.background {
			rg.result(t, health.Readiness, "victim")
		}
		for _, ev := range rg.events.snapshot()[from:] {
			if ev.check == "victim" && ev.breaker != nil && ev.breaker.To == gobreaker.StateOpen {
				return true
			}
		}
		return t.Failed()
	})
	if !opened {
		t.Errorf("after the hostile %s, failures no longer open the breaker; events: %s", a.callback, rg.events.describe("victim"))
	}
	// ...and a trial closes it once the dependency is back.
	from = rg.events.mark()
	failing.Store(false)
	rg.expectPass(t, "victim", from)
	if _, ok := rg.events.await(from, func(ev seen) bool {
		return ev.check == "victim" && ev.breaker != nil && ev.breaker.To == gobreaker.StateClosed
	}); !ok {
		t.Errorf("no hook heard the breaker close after its trial; events: %s", rg.events.describe("victim"))
	}
}

// TestHostileBreakerCallback: a WithBreaker callback that panics, calls
// Goexit, hangs, or carries the usual bug (err.(net.Error).Timeout()
// without a nil check) fails the run it struck in, never the process; the
// breaker and its later trials keep working.
func TestHostileBreakerCallback(t *testing.T) {
	for _, cb := range []string{"ReadyToTrip", "IsSuccessful", "IsExcluded", "OnStateChange"} {
		for _, behave := range []string{"benign_control", "once_panics", "once_calls_Goexit", "once_hangs", "always_buggy"} {
			a := callbackAttack{callback: cb, behave: behave}
			t.Run(cb+"_"+behave, func(t *testing.T) {
				for _, m := range []mode{modes[2], modes[3]} {
					t.Run(m.name, func(t *testing.T) {
						knownBrokenRow(t)
						inChild(t, func(t *testing.T) { attackBreaker(t, m, a) })
					})
				}
			})
		}
	}
}
