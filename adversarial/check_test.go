package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/probekit/probekit/health"
)

// failWith returns a check that fails with err.
func failWith(err error) func(*rig) func(context.Context) error {
	return func(*rig) func(context.Context) error { return func(context.Context) error { return err } }
}

// checkAttacks are hostile checks: what they do when called, and the
// errors they return (whose methods the library may call).
func checkAttacks() []attack {
	var typedNil *derefErr
	var typedNilUnwrap *unwrapDerefErr
	attacks := []attack{
		{name: "panic_string", judge: matches(health.ErrPanic), logs: []string{"adversarial-panic-string"},
			run: func(*rig) func(context.Context) error {
				return func(context.Context) error { panic(marker("panic-string")) }
			}},
		{name: "panic_nil", judge: matches(health.ErrPanic),
			run: func(*rig) func(context.Context) error { return func(context.Context) error { panic(nil) } }},
		{name: "panic_error_value", judge: matches(health.ErrPanic),
			run: func(*rig) func(context.Context) error {
				return func(context.Context) error { panic(errors.New("adversarial-panic-error")) }
			}},
		{name: "panic_value_whose_String_panics", judge: matches(health.ErrPanic),
			run: func(*rig) func(context.Context) error {
				return func(context.Context) error { panic(actStringer{panics("String")}) }
			}},
		{name: "panic_value_whose_String_calls_Goexit",
			run: func(*rig) func(context.Context) error {
				return func(context.Context) error { panic(actStringer{goexits()}) }
			}},
		{name: "panic_value_whose_String_hangs", hangs: true,
			run: func(rg *rig) func(context.Context) error {
				return func(context.Context) error { panic(actStringer{hangs(rg)}) }
			}},
		{name: "goexit", judge: mentions("goexit"), logs: []string{"victim", "goexit"},
			run: func(*rig) func(context.Context) error { return func(context.Context) error { goexits()(); return nil } }},
		{name: "hang_ignoring_context", hangs: true, judge: matches(health.ErrTimeout),
			run: func(rg *rig) func(context.Context) error {
				return func(context.Context) error { rg.hang(); return nil }
			}},
		{name: "reenter_registry_from_check",
			run: func(rg *rig) func(context.Context) error {
				return func(ctx context.Context) error {
					_, _ = rg.reg.Check(ctx, health.Readiness)
					rg.reg.MarkReady()
					return errCheckFailed
				}
			}},

		{name: "typed_nil_error_all_methods_deref", run: failWith(typedNil)},
		{name: "typed_nil_error_Unwrap_derefs", run: failWith(typedNilUnwrap)},
		{name: "typed_nil_error_wrapped", run: failWith(errors.Join(errCheckFailed, typedNil))},
		{name: "Warn_of_typed_nil_error", degraded: true, run: failWith(health.Warn(typedNil))},
		{name: "Unwrap_cycle", run: failWith(&cycleErr{})},
		{name: "Unwrap_multi_cycle", run: failWith(&joinCycleErr{})},
		{name: "As_claims_every_type", run: failWith(&lyingAsErr{})},
		{name: "huge_multiline_error_text", run: failWith(&hugeErr{})},
		// Not comparable: == on two of them panics, which an engine that
		// compares errors with == (instead of errors.Is) would meet.
		{name: "non_comparable_error", run: failWith(listErr{"a", "b"})},
		{name: "non_comparable_error_wrapped_twice", run: failWith(fmt.Errorf("x: %w", fmt.Errorf("y: %w", listErr{"c"})))},
		{name: "Warn_of_cycle", degraded: true, run: failWith(health.Warn(&cycleErr{}))},
	}
	for _, method := range []string{"Error", "Unwrap", "Is", "As"} {
		attacks = append(attacks,
			attack{name: method + "_panics", run: func(*rig) func(context.Context) error {
				return func(context.Context) error { return &methodErr{in: method, do: panics(marker(method))} }
			}},
			attack{name: method + "_calls_Goexit", run: func(*rig) func(context.Context) error {
				return func(context.Context) error { return &methodErr{in: method, do: goexits()} }
			}},
			attack{name: method + "_hangs", hangs: true, run: func(rg *rig) func(context.Context) error {
				return func(context.Context) error { return &methodErr{in: method, do: hangs(rg)} }
			}},
		)
	}
	return attacks
}

// TestHostileCheck: "a health check can fail but can never take the
// service down with it". Every hostile check, in every mode, in a child
// process of its own.
func TestHostileCheck(t *testing.T) {
	for _, a := range checkAttacks() {
		t.Run(a.name, func(t *testing.T) {
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					inChild(t, func(t *testing.T) { attackCheck(t, m, a) })
				})
			}
		})
	}
}

// TestTypedNilChecker: a nil pointer whose Check dereferences it passes
// Register's nil check (the interface is not nil); every run of it must be
// a failed run (ErrPanic), never a crash, and the registry stays
// responsive.
func TestTypedNilChecker(t *testing.T) {
	inChild(t, func(t *testing.T) {
		rg := newRig(t)
		var nilChecker *derefChecker
		rg.register(t, health.Readiness, "bystander", passing)
		rg.register(t, health.Readiness, "victim", nilChecker, health.CheckOptions{Timeout: checkTimeout})
		for range 3 {
			res, ok := rg.result(t, health.Readiness, "victim")
			if ok && (res.Status != health.StatusFail || !safeIs(res.Err, health.ErrPanic)) {
				t.Errorf("a typed-nil Checker reported %v (%s), want fail with ErrPanic", res.Status, safeText(res.Err))
			}
		}
		rg.probeAll(t, "victim", http.StatusServiceUnavailable)
		rg.responsive(t, "bystander")
	})
}

// derefChecker dereferences its receiver.
type derefChecker struct{ err error }

func (c *derefChecker) Check(context.Context) error { return c.err }
