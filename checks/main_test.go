package checks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testCtx bounds a test's check runs so that a hung check fails the test
// instead of stalling it.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runInRegistry runs check once through a real registry and returns its
// result, so that tests see what the check observed.
func runInRegistry(t *testing.T, check health.CheckFunc) health.CheckResult {
	t.Helper()
	reg := health.New()
	t.Cleanup(func() { reg.Close() })
	if err := reg.Register(health.Readiness, "check", check, health.Timeout(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Check(testCtx(t), health.Readiness)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Checks {
		if r.Name == "check" {
			return r
		}
	}
	t.Fatalf("no result for the check in %+v", rep)
	return health.CheckResult{}
}

// requireObserved fails the test unless the check observed a value in unit.
func requireObserved(t *testing.T, check health.CheckFunc, unit string) any {
	t.Helper()
	r := runInRegistry(t, check)
	if r.Observation == nil {
		t.Fatalf("no observation; result %+v", r)
	}
	if r.Observation.Unit != unit {
		t.Fatalf("observed unit %q, want %q", r.Observation.Unit, unit)
	}
	return r.Observation.Value
}

// requireFail fails the test unless err is a failure (not a warning) of the
// given kind.
func requireFail(t *testing.T, err error, kind string) {
	t.Helper()
	if err == nil {
		t.Fatal("check passed, want a failure")
	}
	if health.IsWarning(err) {
		t.Fatalf("check warned (%v), want a failure", err)
	}
	if p := "checks: " + kind + ":"; !strings.HasPrefix(err.Error(), p) {
		t.Fatalf("error %q does not start with %q", err, p)
	}
}

// requireWarn fails the test unless err is a warning of the given kind.
func requireWarn(t *testing.T, err error, kind string) {
	t.Helper()
	if !health.IsWarning(err) {
		t.Fatalf("got %v, want a warning", err)
	}
	if p := "checks: " + kind + ":"; !strings.HasPrefix(err.Error(), p) {
		t.Fatalf("error %q does not start with %q", err, p)
	}
}

// requireNoSecret fails the test if err's text contains any of secrets.
func requireNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks %q: %v", s, err)
		}
	}
}

// requireRefused fails the test unless a real registry's Register refuses
// check with an error matching health.ErrMisconfigured whose text starts
// like the check's own errors, and registers nothing.
func requireRefused(t *testing.T, check health.CheckFunc, kind string) {
	t.Helper()
	reg := health.New()
	t.Cleanup(func() { reg.Close() })
	err := reg.Register(health.Liveness, "check", check)
	if !errors.Is(err, health.ErrMisconfigured) {
		t.Fatalf("Register returned %v, want an error matching health.ErrMisconfigured", err)
	}
	if want := "checks: " + kind + ":"; !strings.Contains(err.Error(), want) {
		t.Fatalf("Register's error %q does not contain %q", err, want)
	}
	if n := len(reg.Checks()); n != 0 {
		t.Fatalf("Register refused the check but %d checks are registered", n)
	}
	// Run directly, it fails the same way every time.
	requireFail(t, check(testCtx(t)), kind)
}
