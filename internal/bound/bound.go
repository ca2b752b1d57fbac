// Package bound is probekit's one rule for calling code that may hang:
// each call runs on a goroutine of its own, and whoever waits for it gives
// up at a bound. A call that outlives its bound is abandoned, and until
// every abandoned call has returned no new call starts (callers get their
// fallback at once), so code that hangs for good costs one goroutine, not
// one per call; once it returns, everything is as before.
//
// Each call is settled exactly once, by the first of the call returning
// (Returned) and its waiter giving up (Abandon). The loser learns that it
// lost, so the count of abandoned calls is exact however close together
// the two happen, and only the winner reports the call's outcome. The
// health engine runs every check under a Bound of its own (its timeout is
// the bound, and the engine's timer the waiter), and every callback it
// waits for through Do.
package bound

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Bound counts the abandoned calls of one function. The zero value is
// ready to use; it is safe for concurrent use.
type Bound struct{ abandoned atomic.Int32 }

// Call is the state of one call: running, returned or abandoned. The zero
// value is a running call.
type Call struct{ state atomic.Uint32 }

const (
	running uint32 = iota
	returned
	abandoned
)

// Busy reports whether an abandoned call has not returned yet: then no new
// call should start.
func (b *Bound) Busy() bool { return b.abandoned.Load() > 0 }

// Returned settles c from the call's side and reports whether it won:
// then the call's outcome stands. If its waiter had given up, the call no
// longer counts as abandoned.
func (b *Bound) Returned(c *Call) bool {
	if c.state.CompareAndSwap(running, returned) {
		return true
	}
	b.abandoned.Add(-1)
	return false
}

// Abandon settles c from the waiter's side and reports whether it won:
// then c counts as abandoned until it returns, and the waiter reports the
// outcome.
func (b *Bound) Abandon(c *Call) bool {
	if c.state.CompareAndSwap(running, abandoned) {
		b.abandoned.Add(1)
		return true
	}
	return false
}

// Abandoned reports whether c's waiter gave up on it.
func (c *Call) Abandoned() bool { return c.state.Load() == abandoned }

var (
	// ErrHung: the call did not return within its bound.
	ErrHung = errors.New("did not return within its bound")
	// ErrRefused: the call was not made, as an earlier one still hangs.
	ErrRefused = errors.New("not called: an earlier call has not returned")
)

// Panic is the error of a call that panicked with Value, or called
// runtime.Goexit (Value nil). Its Error does not format Value, which is
// user data whose String method may misbehave too.
type Panic struct{ Value any }

func (p *Panic) Error() string {
	if p.Value == nil {
		return "called runtime.Goexit"
	}
	return "panicked"
}

// Do calls f on a goroutine of its own under b and returns its value, or
// the zero value and an error: a *Panic, ErrHung (wrapped, with the bound)
// if f did not return within wait, or ErrRefused if f was not called
// because an earlier call still hangs.
func Do[T any](b *Bound, wait time.Duration, f func() T) (T, error) {
	var zero T
	if b.Busy() {
		return zero, ErrRefused
	}
	type answer struct {
		v   T
		err error
	}
	ch := make(chan answer, 1) // buffered: an abandoned call must not block
	c := new(Call)
	go func() {
		var a answer
		normal := false
		defer func() {
			if !normal {
				a.err = &Panic{Value: recover()}
			}
			if b.Returned(c) {
				ch <- a
			}
		}()
		a.v = f()
		normal = true
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-t.C:
		if b.Abandon(c) {
			return zero, fmt.Errorf("%w (%v)", ErrHung, wait)
		}
		a := <-ch // it returned as the bound fired: its answer is on the way
		return a.v, a.err
	}
}
