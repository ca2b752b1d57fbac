package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/probekit/probekit/internal/bound"
	"github.com/probekit/probekit/internal/redact"
)

// Errors returned by Register and the other methods of a Registry, wrapped
// with what was involved. Test for them with errors.Is.
var (
	// ErrInvalidName: a check name must be 1 to 63 characters of
	// [A-Za-z0-9._-] starting and ending with a letter or digit, must not
	// be taken by another check of any group, and must not be one of the
	// registry's own entries ("alive", "ready", "liveness", "startup").
	ErrInvalidName = errors.New("invalid check name")
	// ErrInvalidOption: an argument is outside its documented range: a
	// nil check, a group that is not one of the three, an option value, a
	// startup check registered after startup completed.
	ErrInvalidOption = errors.New("invalid option")
	// ErrDependencyGroup: a dependency check was registered outside
	// Readiness.
	ErrDependencyGroup = errors.New("dependency checks may only join readiness")
	// ErrMisconfigured: the check was made by Misconfigured, typically by a
	// constructor of package checks given arguments that can never work.
	ErrMisconfigured = errors.New("misconfigured check")
	// ErrClosed: the registry was closed. Checks that run on request
	// report it from then on.
	ErrClosed = errors.New("registry closed")
	// ErrUnknownCheck: no check or entry has that name (or, for Breaker,
	// no dependency check).
	ErrUnknownCheck = errors.New("unknown check")
)

// Reasons a CheckResult or an Event carries besides a check's own error.
// Test for them with errors.Is.
var (
	// ErrTimeout: the check did not return within its timeout, or its
	// previous run still has not (the check ignores its context), so no
	// new run was started. It also matches context.DeadlineExceeded.
	ErrTimeout = errors.New("check timed out")
	// ErrPanic: the check (or a method of the error it returned) panicked
	// or called runtime.Goexit.
	// The stack is logged, never served.
	ErrPanic = errors.New("check panicked")
	// ErrPending: the check has no result yet.
	ErrPending = errors.New("no result yet")
	// ErrBreakerOpen: the dependency's circuit breaker is open, so the
	// check answered without calling the dependency. It also matches
	// gobreaker.ErrOpenState, or gobreaker.ErrTooManyRequests while a
	// trial call is in flight.
	ErrBreakerOpen = errors.New("circuit breaker open")
	// ErrNotReady: the readiness switch is off (MarkNotReady, Drain,
	// StartNotReady), or a group readiness depends on fails.
	ErrNotReady = errors.New("not ready")
	// ErrBroken: the liveness switch is off (MarkBroken).
	ErrBroken = errors.New("marked broken")
)

// maxMsg bounds a reason kept for reports and logs.
const maxMsg = 1 << 10

// redactMsg is the one redaction of every reason the registry logs or
// serves, whoever made it. It reads the first 16 KiB only: a KiB is kept,
// and redaction costs about a µs a byte (a second a run for a MiB error).
func redactMsg(msg string) string { return clip(redact.String(clip(msg, 16*maxMsg)), maxMsg) }

// clip cuts s to at most limit bytes, not inside a rune, marking the cut.
func clip(s string, limit int) string {
	if len(s) > limit {
		return strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return s
}

// warning marks an error as degrading rather than failing.
type warning struct{ err error }

func (w *warning) Error() string { return w.err.Error() }
func (w *warning) Unwrap() error { return w.err }

// Warn wraps err so that a check returning it is reported as warn (HTTP
// 200) instead of fail: "the certificate expires in 5 days" is worth seeing
// but no reason to take the pod out of rotation. Warn(nil) returns nil.
func Warn(err error) error {
	if err == nil {
		return nil
	}
	return &warning{err: err}
}

// failure is an error the registry made: its text is fixed when it is
// made, so reading it never runs user code.
type failure struct {
	msg  string
	errs []error
}

func (e *failure) Error() string   { return e.msg }
func (e *failure) Unwrap() []error { return e.errs }

func newFailure(msg string, errs ...error) error { return &failure{msg: msg, errs: errs} }

// timeoutFailure is the error of a run that overran its timeout, with the
// check's own error if it returned one at its deadline.
func timeoutFailure(timeout time.Duration, cause error, causeMsg string) error {
	msg := fmt.Sprintf("%v after %v", ErrTimeout, timeout)
	if cause == nil {
		return newFailure(msg+": "+context.DeadlineExceeded.Error(), ErrTimeout, context.DeadlineExceeded)
	}
	return newFailure(msg+": "+causeMsg, ErrTimeout, context.DeadlineExceeded, cause)
}

// panicFailure is the error of a run in which user code (in names it)
// panicked with v, or called runtime.Goexit (v == nil).
func panicFailure(in string, v any) error {
	if v == nil {
		return newFailure(in+" called runtime.Goexit", ErrPanic)
	}
	return newFailure(in+" panicked: "+redactMsg(describePanic(v)), ErrPanic)
}

// panicFormat bounds the formatting of panic values, user data whose
// String method may itself panic, hang or call runtime.Goexit.
var panicFormat bound.Bound

func describePanic(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	s, err := bound.Do(&panicFormat, callbackWait, func() string { return fmt.Sprint(v) })
	if err != nil {
		return fmt.Sprintf("(a %T whose String or Error method failed)", v)
	}
	return s
}

func isWarning(e error) bool {
	_, ok := e.(*warning)
	return ok
}
