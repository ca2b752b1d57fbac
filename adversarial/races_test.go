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

	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/health"
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

// TestDrainWinsOverSetReady: "after Drain returns, nothing puts readiness
// back", not even SetReady(true) racing it on another goroutine.
func TestDrainWinsOverSetReady(t *testing.T) {
	bad := 0
	for range trials {
		reg := health.New()
		reg.SetReady(false)
		stop := hammer(func() { reg.SetReady(true) })
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
		t.Errorf("in %d of %d trials readiness passed after Drain returned, put back by a racing SetReady(true)", bad, trials)
	}
}

// TestSwitchRacingProbes: once SetReady has returned, every probe that
// starts afterwards sees the switch as set, cached renderings included.
func TestSwitchRacingProbes(t *testing.T) {
	reg, _ := probedRegistry(t)
	bad := 0
	for i := range trials {
		on := i%2 == 0
		stopFlips := hammer(func() { reg.SetReady(!on) })
		stopFlips()
		reg.SetReady(on)
		want := http.StatusServiceUnavailable
		if on {
			want = http.StatusOK
		}
		if _, code := readiness(t, reg); code != want {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("in %d of %d trials a probe after SetReady returned did not see the switch", bad, trials)
	}
}

// TestContextEndStopsOnRequestPasses: "an on-request check whose registry
// context has ended must not keep reporting its last pass": once the
// WithContext context is cancelled, the registry is as closed, and
// on-request checks report ErrClosed. Both a check that honours its
// context and one that returns nil regardless.
func TestContextEndStopsOnRequestPasses(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   health.CheckFunc
	}{
		{"honours_context", func(ctx context.Context) error { return ctx.Err() }},
		{"ignores_context", func(context.Context) error { return nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := 0
			for range trials / 3 {
				ctx, cancel := context.WithCancel(context.Background())
				reg := health.New(health.WithContext(ctx))
				if err := reg.Register(health.Readiness, "db", c.fn); err != nil {
					t.Fatal(err)
				}
				if st, _ := readiness(t, reg); st != health.StatusPass {
					t.Fatalf("before the context ended, readiness is %v", st)
				}
				cancel()
				if st, code := readiness(t, reg); st == health.StatusPass || code == http.StatusOK {
					bad++
				}
				if err := reg.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			}
			if bad > 0 {
				t.Errorf("in %d of %d trials the on-request check kept passing after the registry's context ended", bad, trials/3)
			}
		})
	}
}

// TestCloseRacingProbes: after Close returns, checks that run on request
// report ErrClosed, even for probes that were in flight while it ran.
func TestCloseRacingProbes(t *testing.T) {
	bad := 0
	for range trials {
		reg := health.New()
		if err := reg.Register(health.Readiness, "db", func(context.Context) error { return nil }); err != nil {
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
			done <- reg.Register(health.Readiness, "bg", func(context.Context) error { runs.Add(1); return nil }, health.Every(time.Millisecond))
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
		time.Sleep(3 * time.Millisecond)
		if m := runs.Load(); m != n {
			t.Fatalf("a background check ran %d more times after Close returned", m-n)
		}
		if err := reg.Register(health.Readiness, "late", func(context.Context) error { return nil }); !errors.Is(err, health.ErrClosed) {
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
		if err := reg.Register(health.Readiness, name, func(context.Context) error { return failing }, health.Every(time.Hour)); err != nil {
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
// things are quiet the last event each hook heard for an entry is the
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
	rg.register(t, health.Readiness, "flapper", flap)
	rg.register(t, health.Readiness, "bg", flap, health.Every(time.Millisecond))
	for round := range 40 {
		stopFlips := hammer(func() { failing.Store(!failing.Load()) })
		stopProbes := hammer(func() { _, _ = rg.reg.Check(context.Background(), health.Readiness) })
		stopSwitch := hammer(func() {
			if failing.Load() {
				rg.reg.MarkNotReady(reason)
			} else {
				rg.reg.SetReady(true)
			}
		})
		time.Sleep(10 * time.Millisecond)
		stopFlips()
		stopProbes()
		stopSwitch()
		final := round%2 == 0
		failing.Store(final)
		rg.reg.SetReady(!final)
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
				if c.Name != health.EntryLiveness && c.Name != health.EntryStartup && last[c.Name] != c.Status {
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
				dropped = "the log says events were dropped: dropping the newest leaves a hook with a stale view for good"
			}
			t.Fatalf("round %d: once quiet, the hooks' last events disagree with the report:%s (%s)", round, disagree, dropped)
		}
	}
}

// TestTrafficOpenedBreakerFailsNextProbe: "a breaker opened by application
// traffic fails readiness now": once the call that opened it has
// returned, the next probe fails, cached renderings included.
func TestTrafficOpenedBreakerFailsNextProbe(t *testing.T) {
	bad := 0
	for range trials / 3 {
		reg := health.New()
		if err := reg.Register(health.Readiness, "db", func(context.Context) error { return nil },
			health.Dependency(), health.Every(time.Hour), health.WithBreaker(gobreaker.Settings{Timeout: time.Hour})); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.WaitFor(context.Background(), health.Readiness, health.StatusPass); err != nil {
			t.Fatal(err)
		}
		b, err := reg.Breaker("db")
		if err != nil {
			t.Fatal(err)
		}
		h := reg.Handler(health.Readiness)
		stop := hammer(func() { h.ServeHTTP(discard{}, newRequest(t, http.MethodGet, "/readyz")) })
		var wg sync.WaitGroup
		for range health.DefaultBreakerFailures {
			wg.Add(1)
			go func() { defer wg.Done(); _ = b.Execute(func() error { return errCheckFailed }) }()
		}
		wg.Wait()
		stop()
		if b.State() != gobreaker.StateOpen {
			t.Fatalf("after %d failed calls the breaker is %v", health.DefaultBreakerFailures, b.State())
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

// discard is a ResponseWriter that keeps nothing, for hammering handlers.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
