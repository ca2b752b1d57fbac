package adversarial_test

// Issue 20, class 3: the breaker counts what the dependency says, once per
// call. A refusal that makes no call (the previous run still hung) counts
// nothing; only a run cut short by the registry closing is excluded; a
// dependency's own context.Canceled and a timeout count as failures; a run
// that warns counts as a success.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// depResult probes readiness once and returns the dependency's entry.
func depResult(t *testing.T, reg *health.Registry, name string) health.CheckResult {
	t.Helper()
	res, _ := entryOf(t, reg, health.Readiness, name)
	return res
}

func stateOf(res health.CheckResult) string {
	if res.Breaker == nil {
		return "(no breaker)"
	}
	return res.Breaker.State.String()
}

// TestIssue20OneSlowAnswerIsOneFailure: a dependency answers once only
// when its 50 ms timeout ends its context, and takes 10 ms more to return
// (a driver closing its connection); three probes come back to back
// meanwhile. One slow answer is one failure: with a breaker of 2
// failures, the dependency, fast again, passes the next probe with its
// breaker closed, after two calls in all.
//
// On 4001f29 (3 failures by default) the probes that came while the slow
// run finished were refused with ErrStillRunning, each refusal counted as
// a failure, and the breaker opened: "timed out" (closed), "previous run
// has not returned" (closed), the same (open), "circuit breaker open": 1
// call made, readiness failing for 30 s or more.
func TestIssue20OneSlowAnswerIsOneFailure(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	var calls atomic.Int32
	returned := make(chan struct{})
	if err := reg.Register(health.Readiness, "db", health.DependencyFunc(func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			defer close(returned)
			<-ctx.Done()
			time.Sleep(10 * time.Millisecond) // finishing: closing the connection
			return ctx.Err()
		}
		return nil
	}), health.CheckOptions{Timeout: 50 * time.Millisecond, Breaker: health.BreakerSettings{Failures: 2, Open: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for range 3 { // back to back
		res := depResult(t, reg, "db")
		seen = append(seen, fmt.Sprintf("%v %s (breaker %s)", res.Status, safeText(res.Err), stateOf(res)))
	}
	<-returned
	var res health.CheckResult
	passed := eventually(settle, func() bool {
		res = depResult(t, reg, "db")
		return res.Status == health.StatusPass || stateOf(res) != "closed"
	})
	if !passed || res.Status != health.StatusPass || stateOf(res) != "closed" || calls.Load() != 2 {
		t.Errorf("one slow answer, then a fast dependency: %v, breaker %s, %d calls; probes: %v", res.Status, stateOf(res), calls.Load(), seen)
	}
}

// TestIssue20TimeoutRightBeforeAProbeIsOneFailure: a dependency that
// returns the moment its 20 ms timeout ends its context, probed twice back
// to back, 50 times over: one timeout is one failure (a breaker of 2
// failures stays closed), whether the second probe finds the first run
// returned or not.
//
// On 4001f29 the run's goroutine was still "busy" for microseconds after
// its timeout verdict, and the second probe's refusal counted as a second
// failure in 50 of 50 trials (46 of 50 in another run).
func TestIssue20TimeoutRightBeforeAProbeIsOneFailure(t *testing.T) {
	bad := 0
	const trials = 50
	for range trials {
		reg := health.New()
		var calls atomic.Int32
		if err := reg.Register(health.Readiness, "db", health.DependencyFunc(func(ctx context.Context) error {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}), health.CheckOptions{Timeout: 20 * time.Millisecond, Breaker: health.BreakerSettings{Failures: 2, Open: time.Hour}}); err != nil {
			t.Fatal(err)
		}
		depResult(t, reg, "db") // times out
		if res := depResult(t, reg, "db"); stateOf(res) != "closed" {
			bad++
		}
		_ = reg.Close()
	}
	if bad > 0 {
		t.Errorf("one timeout opened a breaker of 2 failures in %d of %d trials", bad, trials)
	}
}

// TestIssue20HungDependencyRefusalsCountNothing: a dependency that ignores
// its context and hangs: its first run times out (one failure), and the
// ten probes that come while it hangs make no call, keep its timeout
// verdict, and count nothing, so that a breaker of 2 failures stays
// closed. Once the call returns, the next probe calls the dependency and
// passes.
func TestIssue20HungDependencyRefusalsCountNothing(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	release := make(chan struct{})
	var calls, done atomic.Int32
	if err := reg.Register(health.Readiness, "db", health.DependencyFunc(func(context.Context) error {
		defer done.Add(1)
		if calls.Add(1) == 1 {
			<-release
		}
		return nil
	}), health.CheckOptions{Timeout: 20 * time.Millisecond, Breaker: health.BreakerSettings{Failures: 2, Open: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	for i := range 11 {
		res := depResult(t, reg, "db")
		if !safeIs(res.Err, health.ErrTimeout) || stateOf(res) != "closed" {
			t.Errorf("probe %d while the first call hangs: %v %s, breaker %s; want the timeout verdict, breaker closed", i, res.Status, safeText(res.Err), stateOf(res))
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("11 probes of a hung dependency made %d calls, want 1", n)
	}
	close(release)
	var res health.CheckResult
	if !eventually(settle, func() bool { res = depResult(t, reg, "db"); return res.Status == health.StatusPass }) {
		t.Errorf("once the hung call returned, the dependency is %v (%s), breaker %s", res.Status, safeText(res.Err), stateOf(res))
	}
}

// TestIssue20CanceledDependencyIsCutOff: a dependency whose client pool was
// shut down answers every call with an error wrapping context.Canceled.
// That is the dependency's answer, not the prober giving up: the breaker
// (3 failures) opens after 3 calls, and 20 probes make 3 calls, not 20.
//
// On 4001f29 the breaker excluded any error matching context.Canceled: 20
// probes made 20 calls and the breaker stayed closed (counts: 20
// exclusions).
//
// Breaker.Execute, for the application's own calls, is documented the
// other way in v1.0 (a context.Canceled from fn is excluded: the caller
// gave up), and is held to its documentation here.
func TestIssue20CanceledDependencyIsCutOff(t *testing.T) {
	poolClosed := fmt.Errorf("sql: database is closed: %w", context.Canceled)
	reg := health.New()
	defer func() { _ = reg.Close() }()
	var calls atomic.Int32
	if err := reg.Register(health.Readiness, "db", health.DependencyFunc(func(context.Context) error {
		calls.Add(1)
		return poolClosed
	}), health.CheckOptions{Breaker: health.BreakerSettings{Open: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	var last health.CheckResult
	for range 20 {
		last = depResult(t, reg, "db")
	}
	if n := calls.Load(); n != 3 || stateOf(last) != "open" {
		t.Errorf("20 probes of a dependency answering %q made %d calls (want 3), breaker %s", poolClosed, n, stateOf(last))
	}

	other := health.New()
	defer func() { _ = other.Close() }()
	if err := other.Register(health.Readiness, "db", health.DependencyFunc(passing)); err != nil {
		t.Fatal(err)
	}
	b, err := other.Breaker("db")
	if err != nil {
		t.Fatal(err)
	}
	reached := 0
	for range 20 {
		_ = b.Execute(func() error { reached++; return poolClosed })
	}
	if reached != 20 {
		t.Errorf("Execute: %d of 20 calls answering context.Canceled reached the dependency; its doc excludes them from the count", reached)
	}
}

// TestIssue20RegistryCloseIsExcluded: the one exclusion is a run whose own
// context ended because the registry closed: it says nothing about the
// dependency. A dependency (1 failure opens its breaker) waiting on its
// context when Close comes returns context.Canceled: its breaker stays
// closed, on request and in the background. A dependency returning
// context.Canceled on its own opens it.
func TestIssue20RegistryCloseIsExcluded(t *testing.T) {
	for _, every := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprint("every_", every), func(t *testing.T) {
			reg := health.New()
			entered := make(chan struct{}, 1)
			if err := reg.Register(health.Readiness, "db", health.DependencyFunc(func(ctx context.Context) error {
				select {
				case entered <- struct{}{}:
				default:
				}
				<-ctx.Done()
				return ctx.Err()
			}), health.CheckOptions{Timeout: time.Hour, Every: every, Breaker: health.BreakerSettings{Failures: 1, Open: time.Hour}}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			if every == 0 {
				wg.Add(1)
				go func() { defer wg.Done(); _, _ = reg.Check(context.Background(), health.Readiness) }()
			}
			<-entered
			if err := reg.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			wg.Wait()
			res, _ := find(t, reg.Latest(health.Readiness), "db")
			if stateOf(res) != "closed" {
				t.Errorf("a run cut short by Close opened the breaker: %s (%v %s)", stateOf(res), res.Status, safeText(res.Err))
			}
		})
	}
	reg := health.New()
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "db", health.DependencyFunc(func(context.Context) error { return context.Canceled }),
		health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1, Open: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if res := depResult(t, reg, "db"); stateOf(res) != "open" {
		t.Errorf("a dependency returning context.Canceled on its own left its 1-failure breaker %s", stateOf(res))
	}
}

// TestIssue20WarningDependencyCountsAsSuccess: a dependency that answers
// with health.Warn answered: its run counts as a success (5 probes, 5
// calls, breaker of 1 failure closed, status warn). A NonCritical
// dependency that fails still failed: its breaker opens.
func TestIssue20WarningDependencyCountsAsSuccess(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	var calls atomic.Int32
	if err := reg.Register(health.Readiness, "cert", health.DependencyFunc(func(context.Context) error {
		calls.Add(1)
		return health.Warn(errors.New("the certificate expires in 5 days"))
	}), health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1, Open: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(health.Readiness, "cache", health.DependencyFunc(func(context.Context) error { return errCheckFailed }),
		health.CheckOptions{NonCritical: true, Breaker: health.BreakerSettings{Failures: 1, Open: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	var cert, cache health.CheckResult
	for range 5 {
		cert, cache = depResult(t, reg, "cert"), depResult(t, reg, "cache")
	}
	if cert.Status != health.StatusWarn || stateOf(cert) != "closed" || calls.Load() != 10 {
		// Each depResult probes the whole group: 10 probes in all.
		t.Errorf("a warning dependency: %v, breaker %s, %d calls in 10 probes; want warn, closed, 10", cert.Status, stateOf(cert), calls.Load())
	}
	if stateOf(cache) != "open" {
		t.Errorf("a NonCritical dependency that fails left its 1-failure breaker %s", stateOf(cache))
	}
}
