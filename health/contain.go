package health

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// This file holds the rules for calling user code that the registry cannot
// run on a goroutine of the check's own: callbacks that must answer within
// a bound (ShowDetails, breaker callbacks) and formatting of user values.

// guard bounds calls of one user function: each call runs on a goroutine
// of its own and is waited for at most a given time. While an abandoned call
// has not returned, later calls are not made at all (they get the default
// at once), so a function that hangs for good costs one goroutine, not one
// per call.
type guard struct {
	abandoned atomic.Int32
}

// boundedCall calls f on a new goroutine and returns its result, or def if
// f panics, calls runtime.Goexit or does not return within wait (or if an
// earlier call is still hung). A panic or Goexit is passed to onPanic (if
// not nil) as a *PanicError naming in.
func boundedCall[T any](g *guard, wait time.Duration, in string, def T, f func() T, onPanic func(*PanicError)) T {
	if g.abandoned.Load() > 0 {
		return def
	}
	type answer struct {
		v  T
		ok bool
	}
	ch := make(chan answer, 1)
	var gave atomic.Bool // the caller stopped waiting
	go func() {
		normal := false
		defer func() {
			if !normal {
				v := recover()
				if onPanic != nil {
					onPanic(newPanicError(in, v, debug.Stack()))
				}
				ch <- answer{}
			}
			if gave.Load() {
				g.abandoned.Add(-1)
			}
		}()
		v := f()
		normal = true
		ch <- answer{v, true}
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case a := <-ch:
		if a.ok {
			return a.v
		}
		return def
	case <-t.C:
		// In this order, a call that returns meanwhile still balances the
		// count, whichever of its two steps it sees.
		gave.Store(true)
		g.abandoned.Add(1)
		return def
	}
}

// safeSprint formats a recovered panic value, which is user data whose
// String or Error method may itself panic.
func safeSprint(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("(%T whose String or Error method panicked)", v)
		}
	}()
	return fmt.Sprint(v)
}

// safeError returns err.Error(), or a placeholder if that panics: errors
// come from user code.
func safeError(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("(%T whose Error method panicked)", err)
		}
	}()
	return err.Error()
}
