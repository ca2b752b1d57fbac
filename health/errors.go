package health

import (
	"errors"
	"fmt"
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
	// ErrClosed: the registry was closed.
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
	// ErrPending: the check has not produced a result yet (a background
	// check before its first run completes).
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

// PanicError is the error of a check that panicked. Stack holds the
// goroutine's stack at the panic; it is logged, never served over HTTP.
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns "check panicked: <value>".
func (e *PanicError) Error() string { return fmt.Sprintf("%v: %v", ErrPanic, e.Value) }

// Is reports whether target is ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// ErrBreakerOpen: the dependency's circuit breaker is open, so the check
// answered without calling the dependency. The error also matches
// gobreaker.ErrOpenState (or gobreaker.ErrTooManyRequests while a trial
// call is in flight).
var ErrBreakerOpen = errors.New("circuit breaker open")
