package health

import (
	"context"
	"reflect"
)

// Misconfigured returns a check that Register refuses: Register returns an
// error matching both ErrMisconfigured and err (errors.Is), and registers
// nothing. Constructors of ready-made checks (package checks) return it for
// arguments that can never work, so that a mistake such as a zero limit is
// reported where the check is registered, at start-up, instead of failing
// every probe in production (or, in liveness, restarting the container in a
// loop). Called directly, the check returns that error on every run. A nil
// err is replaced by ErrMisconfigured itself.
func Misconfigured(err error) CheckFunc {
	if err == nil {
		err = ErrMisconfigured
	}
	return (&misconfigured{err: &misconfiguredError{err: err}}).check
}

type misconfigured struct{ err error }

func (m *misconfigured) check(context.Context) error { return m.err }

// misconfiguredCode identifies the checks Misconfigured makes: every method
// value of (*misconfigured).check shares this code pointer, and no other
// function has it.
var misconfiguredCode = reflect.ValueOf((&misconfigured{}).check).Pointer()

// misconfiguration returns the error of a check made by Misconfigured, or
// nil for any other check. It never calls fn unless fn is one of ours.
func misconfiguration(fn CheckFunc) error {
	if fn == nil || reflect.ValueOf(fn).Pointer() != misconfiguredCode {
		return nil
	}
	return fn(context.Background())
}

// misconfiguredError matches ErrMisconfigured and wraps the reason.
type misconfiguredError struct{ err error }

func (e *misconfiguredError) Error() string { return e.err.Error() }

func (e *misconfiguredError) Unwrap() error { return e.err }

func (e *misconfiguredError) Is(target error) bool {
	return target == ErrMisconfigured
}
