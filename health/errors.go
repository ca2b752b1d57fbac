package health

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"time"

	"github.com/probekit/probekit/internal/redact"
)

// Errors returned by Register and the other registry methods. They are
// wrapped with the group and name involved; test for them with errors.Is.
var (
	// ErrInvalidName: a check name must be 1 to 63 characters of
	// [A-Za-z0-9._-], start and end with a letter or digit, and not be one
	// of the names the registry reserves (see Register).
	ErrInvalidName = errors.New("invalid check name")
	// ErrDuplicateName: a name is unique across all groups, so that
	// per-check paths such as /readyz/postgres are unambiguous.
	ErrDuplicateName = errors.New("duplicate check name")
	// ErrNilCheck: the check function is nil.
	ErrNilCheck = errors.New("nil check")
	// ErrInvalidGroup: the group is not Liveness, Readiness or Startup.
	ErrInvalidGroup = errors.New("invalid group")
	// ErrInvalidOption: an option has a value outside its documented
	// range, or options contradict each other.
	ErrInvalidOption = errors.New("invalid option")
	// ErrDependencyGroup: a dependency check was registered outside
	// readiness.
	ErrDependencyGroup = errors.New("dependency checks may only join readiness")
	// ErrStartupComplete: a startup check was registered after the startup
	// group had already passed; startup latches and is not re-opened.
	ErrStartupComplete = errors.New("startup has already completed")
	// ErrClosed: the registry was closed (Close, or the context of
	// WithContext ended). Checks that run on request report it from then
	// on instead of their last result.
	ErrClosed = errors.New("registry closed")
	// ErrUnknownCheck: no check has that name.
	ErrUnknownCheck = errors.New("unknown check")
	// ErrNotDependency: the named check has no circuit breaker because it
	// was not registered with Dependency.
	ErrNotDependency = errors.New("not a dependency check")
	// ErrMisconfigured: the check was made by Misconfigured, typically by a
	// constructor of package checks given arguments that can never work.
	ErrMisconfigured = errors.New("misconfigured check")
)

// Reasons a check result carries in CheckResult.Err and Event.Err besides
// the check's own error. Test for them with errors.Is.
var (
	// ErrTimeout: the check did not return within its timeout. The error
	// also matches context.DeadlineExceeded.
	ErrTimeout = errors.New("check timed out")
	// ErrStillRunning: the previous run of the check has not returned yet
	// (it ignores its context), so no new run was started.
	ErrStillRunning = errors.New("previous run of the check has not returned")
	// ErrPanic: the check panicked; the error is a *PanicError.
	ErrPanic = errors.New("check panicked")
	// ErrPending: the check has no result yet: a background check before
	// its first run completes, or a check that runs on request before its
	// first run, or whose run was still going when the probe gave up (its
	// context ended; see Registry.Check).
	ErrPending = errors.New("no result yet")
	// ErrNotReady: the readiness switch is off (SetReady(false) or
	// MarkNotReady).
	ErrNotReady = errors.New("marked not ready")
	// ErrBroken: the liveness switch is off (MarkBroken or SetAlive(false)).
	ErrBroken = errors.New("marked broken")
	// ErrGateFailed: readiness fails because the liveness or startup group
	// does (the entries named "liveness" and "startup").
	ErrGateFailed = errors.New("group is not passing")
)

// PanicError is the error of a run in which user code panicked or called
// runtime.Goexit: the check itself, a method of the error it returned, the
// MarshalJSON of a value it observed, or a callback of its circuit breaker.
// Stack holds the goroutine's stack at that moment; it is logged, never
// served over HTTP.
type PanicError struct {
	// Value is what was passed to panic; nil for runtime.Goexit.
	Value any
	// Goexit is set when the code called runtime.Goexit instead.
	Goexit bool
	// In names the code that panicked, such as "check" (the default when
	// empty) or "breaker callback ReadyToTrip".
	In string
	// Stack is the stack of the goroutine that panicked, as
	// runtime/debug.Stack gives it, for logs; it is never served over HTTP.
	Stack []byte
	msg   string
}

// Error returns "check panicked: <value>" (or "check called
// runtime.Goexit"), with In in place of "check" when set.
func (e *PanicError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	in := e.In
	if in == "" {
		in = "check"
	}
	if e.Goexit {
		return in + " called runtime.Goexit"
	}
	return in + " panicked: " + describePanic(e.Value)
}

// Is reports whether target is ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// newPanicError describes a recovered panic value v (nil: Goexit) of the
// code in, with its message fixed now: v is user data whose String method
// must not run again later on some other goroutine.
func newPanicError(in string, v any, stack []byte) *PanicError {
	e := &PanicError{Value: v, Goexit: v == nil, In: in, Stack: stack}
	if in == "" {
		in = "check"
	}
	if e.Goexit {
		e.msg = in + " called runtime.Goexit"
	} else {
		e.msg = in + " panicked: " + redact.String(describePanic(v))
	}
	return e
}

// panicGuard bounds the formatting of panic values, which are user data:
// their String or Error method may panic, hang or call runtime.Goexit.
var panicGuard guard

// describePanic formats a recovered panic value. Strings and the runtime's
// own errors are formatted in place; anything else on a goroutine of its
// own, so that a String method that calls runtime.Goexit ends that
// goroutine and not the one recording the panic.
func describePanic(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case runtime.Error:
		t := reflect.TypeOf(x)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() == "runtime" { // the runtime's own, not a look-alike
			return x.Error()
		}
	}
	return boundedCall(&panicGuard, callbackWait, "", fmt.Sprintf("(a %T whose String or Error method did not return)", v),
		func() string { return safeSprint(v) }, nil)
}

// timeoutError is the error of a run that did not finish within its
// timeout. It matches ErrTimeout and context.DeadlineExceeded, and the
// check's own error if the check returned one at its deadline. Its text is
// fixed when it is made, so it never calls user code.
type timeoutError struct {
	msg   string
	cause error
}

func (e *timeoutError) Error() string { return e.msg }

func (e *timeoutError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrTimeout, context.DeadlineExceeded}
	}
	return []error{ErrTimeout, context.DeadlineExceeded, e.cause}
}

func newTimeoutError(timeout time.Duration, cause error, causeMsg string) *timeoutError {
	msg := ErrTimeout.Error() + " after " + timeout.String() + ": " + context.DeadlineExceeded.Error()
	if cause != nil && causeMsg != "" && causeMsg != context.DeadlineExceeded.Error() {
		msg = ErrTimeout.Error() + " after " + timeout.String() + ": " + causeMsg
	}
	return &timeoutError{msg: msg, cause: cause}
}

// ErrBreakerOpen: the dependency's circuit breaker is open, so the check
// answered without calling the dependency. The error also matches
// gobreaker.ErrOpenState (or gobreaker.ErrTooManyRequests while a trial
// call is in flight).
var ErrBreakerOpen = errors.New("circuit breaker open")

// clip bounds an error message or a switch's reason kept for reports and
// logs, to 1 KiB: a log line needs no more, and a stuck hook's queue holds
// less.
func clip(s string) string {
	const maxMsg = 1 << 10
	if len(s) > maxMsg {
		return s[:maxMsg] + "…"
	}
	return s
}

// chainHas walks err and the errors it wraps (Unwrap, both forms), at most
// maxChain of them so that a cyclic chain cannot loop for ever, and
// reports whether match holds for one. It calls the errors' own methods:
// call it only where user code is contained.
func chainHas(err error, match func(error) bool) bool {
	const maxChain = 100
	stack := []error{err}
	for n := 0; len(stack) > 0 && n < maxChain; n++ {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		if match(e) {
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			list := u.Unwrap()
			for i := len(list) - 1; i >= 0; i-- {
				stack = append(stack, list[i])
			}
		}
	}
	return false
}

// is returns the errors.Is test for one link of a chain.
func is(target error) func(error) bool {
	return func(e error) bool {
		if e == target {
			return true
		}
		x, ok := e.(interface{ Is(error) bool })
		return ok && x.Is(target)
	}
}

func isWarning(e error) bool {
	_, ok := e.(*warning)
	return ok
}
