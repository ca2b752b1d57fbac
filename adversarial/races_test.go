package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// Racing API calls keep their documented order. Each test repeats a race
// a bounded number of times and counts the trials that end in a stale or
// contradictory answer; one is a failure.

// trials is how often each race is run.
const trials = 300

// readiness returns readiness as Check and as the HTTP handler (cached
// fast path included) see it.
func readiness(t testing.TB, reg *health.Registry) (health.Status, int) {
	t.Helper()
	var rep health.Report
	mustReturn(t, "Check", answerBound, func() { rep, _ = reg.Check(context.Background(), health.Readiness) })
	req := newRequest(t, http.MethodGet, "/readyz")
	a := serve(t, reg.Handler(health.Readiness), req, answerBound)
	return rep.Status, a.code
}

// probedRegistry returns a registry whose readiness handler is probed in
// a loop until the test ends, and that handler.
func probedRegistry(t *testing.T) (*health.Registry, http.Handler) {
	t.Helper()
	reg := health.New()
	h := reg.Handler(health.Readiness)
	stop := hammer(func() { h.ServeHTTP(discard{}, newRequest(t, http.MethodGet, "/readyz")) })
	t.Cleanup(func() {
		stop()
		if err := reg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return reg, h
}

// hammer calls fn in a loop on its own goroutine until the returned stop
// is called; stop waits for it.
func hammer(fn func()) (stop func()) {
	var quit atomic.Bool
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		close(started)
		for !quit.Load() {
			fn()
		}
	}()
	<-started
	return func() { quit.Store(true); wg.Wait() }
}

// TestDrainWinsOverMarkReady: "after Drain returns, nothing puts readiness
// back", not even MarkReady racing it on another goroutine.
func TestDrainWinsOverMarkReady(t *testing.T) {
	bad := 0
	for range trials {
		reg := health.New()
		reg.MarkNotReady("warming up")
		stop := hammer(reg.MarkReady)
		if err := reg.Drain(context.Background(), 0); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		stop()
		if st, code := readiness(t, reg); st != health.StatusFail || code != http.StatusServiceUnavailable {
			bad++
		}
		if err := reg.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if bad > 0 {
		t.Errorf("in %d of %d trials readiness passed after Drain returned, put back by a racing MarkReady", bad, trials)
	}
}

// TestSwitchRacingProbes: once MarkReady or MarkNotReady has returned,
// every probe that starts afterwards sees the switch as set, cached
// renderings included.
func TestSwitchRacingProbes(t *testing.T) {
	reg, _ := probedRegistry(t)
	set := func(on bool) {
		if on {
			reg.MarkReady()
		} else {
			reg.MarkNotReady("flipped")
		}
	}
	bad := 0
	for i := range trials {
		on := i%2 == 0
		stopFlips := hammer(func() { set(!on) })
		stopFlips()
		set(on)
		want := http.StatusServiceUnavailable
		if on {
			want = http.StatusOK
		}
		if _, code := readiness(t, reg); code != want {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("in %d of %d trials a probe after the switch was set did not see it", bad, trials)
	}
}

// TestCloseRacingProbes: after Close returns, checks that run on request
// report ErrClosed, even for probes that were in flight while it ran.
func TestCloseRacingProbes(t *testing.T) {
	bad := 0
	for range trials {
		reg := health.New()
		if err := reg.Register(health.Readiness, "db", passing); err != nil {
			t.Fatal(err)
		}
		stop := hammer(func() { _, _ = reg.Check(context.Background(), health.Readiness) })
		if err := reg.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		stop()
		rep, _ := reg.Check(context.Background(), health.Readiness)
		for _, c := range rep.Checks {
			if c.Name == "db" && !safeIs(c.Err, health.ErrClosed) {
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("in %d of %d trials an on-request check did not report ErrClosed after Close returned", bad, trials)
	}
}

// TestCloseRacingRegister: Register racing Close either registers (and the
// check shows, and stops with the registry) or gives ErrClosed; after
// Close, Register gives ErrClosed; a background check never runs once
// Close has returned. goleak checks that nothing outlives the registry.
func TestCloseRacingRegister(t *testing.T) {
	for range trials {
		reg := health.New()
		var runs atomic.Int32
		done := make(chan error, 1)
		go func() {
			done <- reg.Register(health.Readiness, "bg", health.CheckFunc(func(context.Context) error { runs.Add(1); return nil }),
				health.CheckOptions{Every: time.Millisecond})
		}()
		if err := reg.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		err := <-done
		if err != nil && !errors.Is(err, health.ErrClosed) {
			t.Fatalf("Register racing Close: %v, want nil or ErrClosed", err)
		}
		// Close may have returned before Register got in: close again, which
		// must then wait for the check it let in.
		if err := reg.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		n := runs.Load()
		time.Sleep(3 * time.Millisecond) // three intervals in which it must not run
		if m := runs.Load(); m != n {
			t.Fatalf("a background check ran %d more times after Close returned", m-n)
		}
		if err := reg.Register(health.Readiness, "late", passing); !errors.Is(err, health.ErrClosed) {
			t.Fatalf("Register after Close: %v, want ErrClosed", err)
		}
	}
}

// TestRegisterVisibleToNextProbe: a failing check registered while probes
// hammer the cached fast path fails the first probe after Register
// returns.
func TestRegisterVisibleToNextProbe(t *testing.T) {
	reg, h := probedRegistry(t)
	bad := 0
	for i := range trials {
		name := "c" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		failing := errors.New("down")
		if err := reg.Register(health.Readiness, name, healthtest.Fixed(failing), health.CheckOptions{Every: time.Hour}); err != nil {
			t.Fatal(err)
		}
		if a := serve(t, h, newRequest(t, http.MethodGet, "/readyz"), answerBound); a.code != http.StatusServiceUnavailable {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("in %d of %d trials the probe right after Register did not see the new failing check", bad, trials)
	}
}

// TestEventsAgreeWithReport: however changes and probes interleave, once
// things are quiet the last event an observer heard for an entry is the
// entry's status.
func TestEventsAgreeWithReport(t *testing.T) {
	rg := newRig(t)
	var failing atomic.Bool
	// Reasons of a couple of KiB, as real errors with a query in them are:
	// a consumer's queue fills by bytes as well as by count.
	reason := strings.Repeat("connection refused; ", 100)
	bulky := errors.New(reason)
	flap := func(context.Context) error {
		if failing.Load() {
			return bulky
		}
		return nil
	}
	rg.register(t, health.Readiness, "flapper", health.CheckFunc(flap))
	rg.register(t, health.Readiness, "bg", health.CheckFunc(flap), health.CheckOptions{Every: time.Millisecond})
	for round := range 40 {
		stopFlips := hammer(func() { failing.Store(!failing.Load()) })
		stopProbes := hammer(func() { _, _ = rg.reg.Check(context.Background(), health.Readiness) })
		stopSwitch := hammer(func() {
			if failing.Load() {
				rg.reg.MarkNotReady(reason)
			} else {
				rg.reg.MarkReady()
			}
		})
		time.Sleep(10 * time.Millisecond)
		stopFlips()
		stopProbes()
		stopSwitch()
		final := round%2 == 0
		failing.Store(final)
		if final {
			rg.reg.MarkNotReady(reason)
		} else {
			rg.reg.MarkReady()
		}
		want := health.StatusPass
		if final {
			want = health.StatusFail
		}
		var disagree string
		agree := eventually(settle, func() bool {
			rep, _ := rg.reg.Check(context.Background(), health.Readiness)
			last := map[string]health.Status{}
			for _, ev := range rg.events.snapshot() {
				if ev.breaker == nil && ev.group == health.Readiness {
					last[ev.check] = ev.to
				}
			}
			disagree = ""
			for _, c := range rep.Checks {
				// The gates are not announced as entries of their own.
				if c.Name != "liveness" && c.Name != "startup" && last[c.Name] != c.Status {
					disagree += fmt.Sprintf(" %s is %v, its last event says %v;", c.Name, c.Status, last[c.Name])
				}
			}
			if rep.Status != want || last[""] != rep.Status {
				disagree += fmt.Sprintf(" the group is %v (want %v), its last event says %v", rep.Status, want, last[""])
			}
			return disagree == ""
		})
		if !agree {
			dropped := "no log line says events were dropped"
			if rg.logs.await("dropped") {
				dropped = "the log says items were dropped: dropping the newest events leaves an observer with a stale view for good"
			}
			t.Fatalf("round %d: once quiet, the observer's last events disagree with the report:%s (%s)", round, disagree, dropped)
		}
	}
}

// TestTrafficOpenedBreakerFailsNextProbe: "a breaker opened by application
// traffic fails readiness now": once the call that opened it has
// returned, the next probe fails, cached renderings included.
func TestTrafficOpenedBreakerFailsNextProbe(t *testing.T) {
	const failures = 3 // the default
	bad := 0
	for range trials / 3 {
		reg := health.New()
		if err := reg.Register(health.Readiness, "db", health.DependencyFunc(passing),
			health.CheckOptions{Every: time.Hour, Breaker: health.BreakerSettings{Open: time.Hour}}); err != nil {
			t.Fatal(err)
		}
		healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
		b, err := reg.Breaker("db")
		if err != nil {
			t.Fatal(err)
		}
		h := reg.Handler(health.Readiness)
		stop := hammer(func() { h.ServeHTTP(discard{}, newRequest(t, http.MethodGet, "/readyz")) })
		var wg sync.WaitGroup
		for range failures {
			wg.Add(1)
			go func() { defer wg.Done(); _ = b.Execute(func() error { return errCheckFailed }) }()
		}
		wg.Wait()
		stop()
		if st := breakerState(t, reg, "db"); st != "open" {
			t.Fatalf("after %d failed calls the breaker is %s", failures, st)
		}
		if a := serve(t, h, newRequest(t, http.MethodGet, "/readyz"), answerBound); a.code != http.StatusServiceUnavailable {
			bad++
		}
		if err := reg.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if bad > 0 {
		t.Errorf("in %d of %d trials the probe after traffic opened the breaker still passed", bad, trials/3)
	}
}

// breakerState returns the state of the breaker of dependency name, as
// Latest reports it.
func breakerState(t testing.TB, reg *health.Registry, name string) string {
	t.Helper()
	res, ok := find(t, reg.Latest(health.Readiness), name)
	if !ok || res.Breaker == nil {
		t.Fatalf("no breaker status for %s", name)
	}
	return res.Breaker.State.String()
}

// discard is a ResponseWriter that keeps nothing, for hammering handlers.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
