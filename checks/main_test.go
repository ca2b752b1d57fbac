package checks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
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

// runInRegistry runs check once through a real registry's readiness group
// and returns its result, so that tests see what the check observed.
func runInRegistry(t *testing.T, check health.Checker) health.CheckResult {
	t.Helper()
	reg := health.New()
	t.Cleanup(func() { reg.Close() })
	if err := reg.Register(health.Readiness, "check", check, health.CheckOptions{Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Check(testCtx(t), health.Readiness, "check")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checks) != 1 || rep.Checks[0].Name != "check" {
		t.Fatalf("no result for the check in %+v", rep)
	}
	return rep.Checks[0]
}

// requirePass fails the test unless check passes in a registry.
func requirePass(t *testing.T, check health.Checker) {
	t.Helper()
	if r := runInRegistry(t, check); r.Status != health.StatusPass {
		t.Fatalf("result %+v, want a pass", r)
	}
}

// isWarning reports whether a registry reports a check that returns err as
// a warning rather than a failure: what health.Warn's wrapping means is the
// registry's to say.
func isWarning(t *testing.T, err error) bool {
	t.Helper()
	reg := health.New()
	defer reg.Close()
	if err := reg.Register(health.Liveness, "verdict", healthtest.Fixed(err)); err != nil {
		t.Fatal(err)
	}
	rep, cerr := reg.Check(testCtx(t), health.Liveness, "verdict")
	if cerr != nil || len(rep.Checks) != 1 {
		t.Fatalf("no verdict for %v: %v", err, cerr)
	}
	return rep.Checks[0].Status == health.StatusWarn
}

// requireFail fails the test unless err is a failure (not a warning) of the
// given kind.
func requireFail(t *testing.T, err error, kind string) {
	t.Helper()
	if err == nil {
		t.Fatal("check passed, want a failure")
	}
	if isWarning(t, err) {
		t.Fatalf("check warned (%v), want a failure", err)
	}
	if p := "checks: " + kind + ":"; !strings.HasPrefix(err.Error(), p) {
		t.Fatalf("error %q does not start with %q", err, p)
	}
}

// requireWarn fails the test unless err is a warning of the given kind.
func requireWarn(t *testing.T, err error, kind string) {
	t.Helper()
	if err == nil || !isWarning(t, err) {
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
// like the check's own errors, in every group, and registers nothing.
func requireRefused(t *testing.T, check health.Checker, kind string) {
	t.Helper()
	reg := health.New()
	t.Cleanup(func() { reg.Close() })
	for _, g := range []health.Group{health.Liveness, health.Readiness, health.Startup} {
		err := reg.Register(g, "check", check)
		if !errors.Is(err, health.ErrMisconfigured) {
			t.Fatalf("Register in %v returned %v, want an error matching health.ErrMisconfigured", g, err)
		}
		if want := "checks: " + kind + ":"; !strings.Contains(err.Error(), want) {
			t.Fatalf("Register's error %q does not contain %q", err, want)
		}
	}
	if n := len(reg.Contract().Checks); n != 0 {
		t.Fatalf("Register refused the check but %d checks are registered", n)
	}
	// Run directly, it fails the same way every time.
	requireFail(t, check.Check(testCtx(t)), kind)
}
