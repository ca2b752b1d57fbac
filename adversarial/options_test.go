package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// "Every value a user can pass is either accepted with a documented
// meaning or refused at Register with ErrInvalidOption: huge durations
// must not overflow into busy loops, odd breaker settings must not panic,
// and a timeout is always reported as ErrTimeout."

// window is how long a test counts the runs of checks with odd options.
const window = 300 * time.Millisecond

// optionCase is one odd option value, with the most runs a check with it
// may make in window (a busy loop makes thousands).
type optionCase struct {
	name       string
	opts       health.CheckOptions
	dependency bool
	maxRuns    int
}

func optionCases() []optionCase {
	const huge, hugest = time.Duration(math.MaxInt64 - 1), time.Duration(math.MaxInt64)
	const every50 = 50 * time.Millisecond
	const at50 = 1 + int(window/(45*time.Millisecond)) + 1 // Every 50ms with its ±10% jitter
	cases := []optionCase{
		{name: "Every_1ms", opts: health.CheckOptions{Every: time.Millisecond}, maxRuns: 2 * int(window/time.Millisecond)},
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"0", 0}, {"minus_1ns", -1}, {"1ns", 1}, {"999us", 999 * time.Microsecond}, {"MinInt64", math.MinInt64},
		{"a_year", 365 * 24 * time.Hour}, {"a_year_and_1ns", 365*24*time.Hour + 1},
		{"2_pow_62", 1 << 62}, {"9e18", 9e18}, {"MaxInt64_minus_1", huge}, {"MaxInt64", hugest},
	} {
		// A huge interval: one run (at once), then none in the window. A
		// jittered wait that overflows int64 comes out negative: a timer that
		// fires at once, every time. Every 0 is a check that runs on request:
		// no run at all without a probe.
		cases = append(cases,
			optionCase{name: "Every_" + d.name, opts: health.CheckOptions{Every: d.d}, maxRuns: 1},
			optionCase{name: "Timeout_" + d.name, opts: health.CheckOptions{Every: every50, Timeout: d.d}, maxRuns: at50},
			// A dependency failing every run, behind a breaker with the odd
			// Open: it may run no more often than its interval either.
			optionCase{name: "Breaker_Open_" + d.name, dependency: true,
				opts: health.CheckOptions{Every: every50, Breaker: health.BreakerSettings{Open: d.d, Failures: 1}}, maxRuns: at50},
		)
	}
	for _, n := range []struct {
		name string
		n    int
	}{{"minus_1", -1}, {"0", 0}, {"1", 1}, {"1000", 1000}, {"1001", 1001}, {"MaxInt", math.MaxInt}, {"MinInt", math.MinInt}} {
		cases = append(cases,
			optionCase{name: "Breaker_Failures_" + n.name, dependency: true,
				opts: health.CheckOptions{Every: every50, Breaker: health.BreakerSettings{Failures: n.n, Open: time.Millisecond}}, maxRuns: at50},
			optionCase{name: "Breaker_Trials_" + n.name, dependency: true,
				opts: health.CheckOptions{Every: every50, Breaker: health.BreakerSettings{Trials: n.n, Failures: 1, Open: time.Millisecond}}, maxRuns: at50},
		)
	}
	return cases
}

// TestOddOptionValues registers ten checks with each odd value: Register
// must accept it or refuse it with ErrInvalidOption (never panic, never
// another error), and accepted checks must not run more often than their
// interval allows: huge values must not overflow into a busy loop. The
// dependencies fail every run, so that their breakers open and trial.
func TestOddOptionValues(t *testing.T) {
	for _, c := range optionCases() {
		t.Run(c.name, func(t *testing.T) {
			reg := health.New()
			var runs atomic.Int64
			fn := func(context.Context) error { runs.Add(1); return errCheckFailed }
			var check health.Checker = health.CheckFunc(func(ctx context.Context) error { _ = fn(ctx); return nil })
			g := health.Liveness
			if c.dependency {
				check, g = health.DependencyFunc(fn), health.Readiness
			}
			accepted := 0
			for i := range 10 {
				var err error
				e := within(answerBound, func() { err = reg.Register(g, fmt.Sprintf("c%d", i), check, c.opts) })
				switch {
				case !e.returned:
					t.Fatalf("Register: %v", e)
				case err == nil:
					accepted++
				case !errors.Is(err, health.ErrInvalidOption):
					t.Fatalf("Register refused the value with %v, want an error matching ErrInvalidOption", err)
				}
			}
			time.Sleep(window) // the window in which runs are counted
			n := runs.Load()
			mustReturn(t, "Close", answerBound, func() { _ = reg.Close() })
			if limit := int64(accepted * c.maxRuns); n > limit {
				t.Errorf("%d checks ran %d times in %v, want at most %d: a busy loop", accepted, n, window, limit)
			}
			t.Logf("accepted by %d of 10 Register calls; %d runs in %v", accepted, n, window)
		})
	}
}

// TestZeroOptions: the zero Options and CheckOptions are the documented
// defaults (a 500 ms timeout, on request; a 3-failure breaker), not
// refusals.
func TestZeroOptions(t *testing.T) {
	var reg *health.Registry
	mustReturn(t, "New(zero Options)", answerBound, func() { reg = health.New(health.Options{}) })
	if reg == nil {
		return
	}
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "db", passing, health.CheckOptions{}); err != nil {
		t.Fatalf("Register with the zero CheckOptions: %v", err)
	}
	if err := reg.Register(health.Readiness, "dep", health.DependencyFunc(passing), health.CheckOptions{}, health.CheckOptions{}); err != nil {
		t.Fatalf("Register of a dependency with zero CheckOptions: %v", err)
	}
	for _, c := range reg.Contract().Checks {
		if time.Duration(c.Timeout) != 500*time.Millisecond || c.Every != 0 {
			t.Errorf("check %s: timeout %v, every %v; want the defaults 500ms and on request", c.Name, time.Duration(c.Timeout), time.Duration(c.Every))
		}
	}
}

// TestOddArguments: invalid groups, statuses, names and nil checks give
// errors (or documented answers), never panics or hangs.
func TestOddArguments(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "db", passing); err != nil {
		t.Fatal(err)
	}
	for _, g := range []health.Group{0, 4, 255} {
		if err := reg.Register(g, "x", passing); !errors.Is(err, health.ErrInvalidOption) {
			t.Errorf("Register(Group(%d)): %v, want ErrInvalidOption", g, err)
		}
		if _, err := reg.Check(context.Background(), g); !errors.Is(err, health.ErrInvalidOption) {
			t.Errorf("Check(Group(%d)): %v, want ErrInvalidOption", g, err)
		}
		if rep := reg.Latest(g); rep.Status != health.StatusUnknown {
			t.Errorf("Latest(Group(%d)) is %v, want the documented StatusUnknown", g, rep.Status)
		}
		req := newRequest(t, http.MethodGet, "/")
		if a := serve(t, reg.Handler(g), req, answerBound); a.ok && a.code != http.StatusInternalServerError {
			t.Errorf("Handler(Group(%d)) answered %d, want the documented 500", g, a.code)
		}
	}
	for _, s := range []health.Status{health.StatusUnknown, 4, 255} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		mustReturn(t, fmt.Sprintf("healthtest.Wait(Status(%d))", s), answerBound, func() { _, err = healthtest.Wait(ctx, reg, health.Readiness, s) })
		cancel()
		if err == nil {
			t.Errorf("healthtest.Wait(Status(%d)) returned no error: a group is never %v", s, s)
		}
	}
	for _, name := range []string{"", strings.Repeat("a", 64), "-a", "a-", "a/b", "a b", "ä", "ready", "alive", "liveness", "startup", "a\x00", "db"} {
		if err := reg.Register(health.Readiness, name, passing); !errors.Is(err, health.ErrInvalidName) {
			t.Errorf("Register(%q): %v, want ErrInvalidName", name, err)
		}
	}
	var nilFunc health.CheckFunc
	var nilDep health.DependencyFunc
	for i, c := range []health.Checker{nil, nilFunc, nilDep} {
		if err := reg.Register(health.Readiness, fmt.Sprintf("nil%d", i), c); !errors.Is(err, health.ErrInvalidOption) {
			t.Errorf("Register(nil check %T): %v, want ErrInvalidOption", c, err)
		}
	}
	for _, g := range []health.Group{health.Liveness, health.Startup} {
		if err := reg.Register(g, "dep", health.DependencyFunc(passing)); !errors.Is(err, health.ErrDependencyGroup) {
			t.Errorf("Register(%v, dependency): %v, want ErrDependencyGroup", g, err)
		}
	}
	if err := reg.Register(health.Readiness, "plain", passing, health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1}}); !errors.Is(err, health.ErrInvalidOption) {
		t.Errorf("Register(a plain check with a Breaker): %v, want ErrInvalidOption", err)
	}
	for _, o := range []health.MountOptions{{Prefix: "health"}, {Prefix: "/health/"}, {Prefix: "/{x}"}, {Prefix: "/a?b"}, {Prefix: "//"},
		{Paths: []string{}}, {Paths: []string{"/nosuch"}}} {
		if err := reg.Mount(http.NewServeMux(), o); !errors.Is(err, health.ErrInvalidOption) {
			t.Errorf("Mount(%+v): %v, want ErrInvalidOption", o, err)
		}
	}
	if err := reg.Mount(nil); !errors.Is(err, health.ErrInvalidOption) {
		t.Errorf("Mount(nil): %v, want ErrInvalidOption", err)
	}
	if _, err := reg.Breaker("db"); !errors.Is(err, health.ErrUnknownCheck) {
		t.Errorf("Breaker of a plain check: %v, want ErrUnknownCheck", err)
	}
	if _, err := reg.Check(context.Background(), health.Readiness, "nosuch"); !errors.Is(err, health.ErrUnknownCheck) {
		t.Errorf("Check(Readiness, nosuch): %v, want ErrUnknownCheck", err)
	}
}

// TestNilContext: a nil context is a caller's bug, but Check and Drain must
// treat it as Background, not panic in the caller's goroutine.
func TestNilContext(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "db", passing); err != nil {
		t.Fatal(err)
	}
	var nilCtx context.Context
	mustReturn(t, "Check(nil context)", answerBound, func() { _, _ = reg.Check(nilCtx, health.Readiness) })
	mustReturn(t, "Drain(nil context)", answerBound, func() { _ = reg.Drain(nilCtx, time.Millisecond) })
}
