package health

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults of a dependency check's circuit breaker, chosen for probes; see
// docs/fleet.md for the arithmetic behind them.
const (
	// DefaultBreakerFailures consecutive failed runs open the breaker: the
	// kubelet's own default failureThreshold, so one slow answer does not
	// cut the dependency off but a real outage does within three checks.
	DefaultBreakerFailures = 3
	// DefaultBreakerOpen is how long an open breaker answers without
	// calling the dependency before it allows one trial call (plus up to
	// BreakerJitter of it). A background check sleeps until the trial is
	// due, so with checks every 10 s a dead dependency gets one call per
	// 30-36 s from each pod instead of one per 10 s, and probes are answered
	// at once meanwhile. A recovered dependency brings readiness back at
	// the next trial: within 36 s, or at once if application traffic through
	// the breaker closes it first. docs/fleet.md has the arithmetic.
	DefaultBreakerOpen = 30 * time.Second
	// DefaultBreakerTrials is how many trial calls a half-open breaker
	// admits; all must succeed to close it. One is enough to learn whether
	// the dependency is back, and is the least load on one that is not.
	DefaultBreakerTrials = 1
	// BreakerJitter is the fraction of the open period by which each
	// breaker's trial is randomly delayed, so that pods whose breakers
	// opened in the same second do not all retry a recovering dependency
	// in the same second.
	BreakerJitter = 0.2
)

// callbackWait bounds each call of a WithBreaker callback. They run under
// gobreaker's lock, so one that hangs must not hold it.
const callbackWait = 100 * time.Millisecond

// DefaultBreakerSettings returns the settings a dependency check's breaker
// uses when WithBreaker is not given: trip after DefaultBreakerFailures
// consecutive failures, stay open DefaultBreakerOpen (plus up to
// BreakerJitter of it), then admit DefaultBreakerTrials trial call. Counts
// never reset on a timer (Interval 0): only consecutive failures matter.
func DefaultBreakerSettings() gobreaker.Settings {
	return gobreaker.Settings{
		MaxRequests: DefaultBreakerTrials,
		Timeout:     DefaultBreakerOpen,
		ReadyToTrip: defaultReadyToTrip,
	}
}

func defaultReadyToTrip(c gobreaker.Counts) bool {
	return c.ConsecutiveFailures >= DefaultBreakerFailures
}

// Breaker is the circuit breaker of a dependency check, a gobreaker
// two-step circuit breaker with three additions: its trials are jittered
// (BreakerJitter); its state changes reach the registry's hooks, logger and
// the WithBreaker OnStateChange outside the breaker's lock; and the
// WithBreaker callbacks are contained (see WithBreaker). Get it with
// Registry.Breaker. It is safe for concurrent use.
type Breaker struct {
	c        *check
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	settings gobreaker.Settings // as configured, for CheckInfo
	open     time.Duration

	userTrip                 func(gobreaker.Counts) bool
	userSuccess, userExclude func(error) bool
	userChange               *mailbox // delivers to the user's OnStateChange
	tripGuard, successGuard  guard
	excludeGuard             guard
	panicked                 atomic.Pointer[PanicError] // a callback's, not yet reported

	mu      sync.Mutex // never held while calling into cb
	state   gobreaker.State
	retryAt time.Time // while open, no call passes before this
	changes []BreakerChange

	flushMu     sync.Mutex // keeps change notifications in order
	lastSuccess atomic.Int64
}

// BreakerChange is a state change of a circuit breaker.
type BreakerChange struct {
	// From and To are the states before and after the change.
	From, To gobreaker.State
}

// Errors a run reports when its breaker answers instead of the dependency.
var (
	errBreakerOpenState = fmt.Errorf("%w: %w", ErrBreakerOpen, gobreaker.ErrOpenState)
	errBreakerTrial     = fmt.Errorf("%w: %w", ErrBreakerOpen, gobreaker.ErrTooManyRequests)
)

func newBreaker(r *Registry, c *check, custom *gobreaker.Settings) *Breaker {
	st := DefaultBreakerSettings()
	if custom != nil {
		user := *custom
		if user.MaxRequests != 0 {
			st.MaxRequests = user.MaxRequests
		}
		if user.Timeout != 0 {
			st.Timeout = user.Timeout
		}
		if user.ReadyToTrip != nil {
			st.ReadyToTrip = user.ReadyToTrip
		}
		st.Interval, st.BucketPeriod, st.IsSuccessful = user.Interval, user.BucketPeriod, user.IsSuccessful
		st.IsExcluded, st.OnStateChange = user.IsExcluded, user.OnStateChange
	}
	st.Name = c.name
	b := &Breaker{c: c, settings: st, open: st.Timeout, userSuccess: st.IsSuccessful, userExclude: st.IsExcluded}
	if custom != nil && custom.ReadyToTrip != nil {
		b.userTrip = custom.ReadyToTrip
	}
	if user := st.OnStateChange; user != nil {
		b.userChange = r.newMailbox("breaker OnStateChange", func(it *item) {
			user(c.name, it.ev.Breaker.From, it.ev.Breaker.To)
		})
	}
	wrapped := st
	wrapped.ReadyToTrip, wrapped.IsSuccessful, wrapped.IsExcluded = b.readyToTrip, b.isSuccessful, b.isExcluded
	wrapped.OnStateChange = b.stateChanged
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](wrapped)
	return b
}

// The callbacks gobreaker calls, under its lock: the user's, contained and
// bounded, or the defaults.

func (b *Breaker) readyToTrip(counts gobreaker.Counts) bool {
	if b.userTrip == nil {
		return defaultReadyToTrip(counts)
	}
	return boundedCall(&b.tripGuard, callbackWait, "breaker callback ReadyToTrip", false,
		func() bool { return b.userTrip(counts) }, b.notePanic)
}

func (b *Breaker) isSuccessful(err error) bool {
	if b.userSuccess == nil {
		return err == nil
	}
	return boundedCall(&b.successGuard, callbackWait, "breaker callback IsSuccessful", false,
		func() bool { return b.userSuccess(err) }, b.notePanic)
}

// isExcluded excludes cancellation (the callers pass context.Canceled
// itself for a call that was cancelled: a probe abandoned by its caller, or
// a registry shutting down, says nothing about the dependency; the check's
// own timeout does) and whatever the user's IsExcluded excludes.
func (b *Breaker) isExcluded(err error) bool {
	if err == context.Canceled {
		return true
	}
	if b.userExclude == nil {
		return false
	}
	return boundedCall(&b.excludeGuard, callbackWait, "breaker callback IsExcluded", false,
		func() bool { return b.userExclude(err) }, b.notePanic)
}

func (b *Breaker) notePanic(pe *PanicError) {
	b.panicked.Store(pe)
	b.c.r.logf(slog.LevelError, "health: circuit breaker callback panicked", slog.String("check", b.c.name),
		slog.String("panic", pe.msg), slog.String("stack", string(pe.Stack)))
}

// stateChanged runs under gobreaker's lock: it only records, and never calls
// back into the breaker (sony/gobreaker#37).
func (b *Breaker) stateChanged(_ string, from, to gobreaker.State) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state = to
	if to == gobreaker.StateOpen {
		b.retryAt = time.Now().Add(b.open + time.Duration(rand.Float64()*BreakerJitter*float64(b.open)))
	}
	b.changes = append(b.changes, BreakerChange{From: from, To: to})
}

// flush delivers recorded state changes, outside gobreaker's lock: to the
// registry's hooks and logger, to the user's OnStateChange, and to the
// check's status. A breaker closed by application traffic (not by the
// check's own run) wakes a background check sleeping until its trial.
func (b *Breaker) flush(byCheck bool) {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	changes := b.changes
	b.changes = nil
	b.mu.Unlock()
	c := b.c
	for _, ch := range changes {
		ev := Event{Time: time.Now(), Group: c.group, Check: c.name, Breaker: &ch}
		c.r.publish(ev)
		if b.userChange != nil {
			b.userChange.post(item{ev: ev})
		}
		c.mu.Lock()
		c.announce()
		c.mu.Unlock()
		c.r.version.Add(1)
		if ch.To == gobreaker.StateClosed && !byCheck {
			c.wake()
		}
	}
}

// blocked reports whether the breaker is open and its jittered trial time
// has not come.
func (b *Breaker) blocked(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state == gobreaker.StateOpen && now.Before(b.retryAt)
}

// admit asks the breaker to let a check run call the dependency. It returns
// the function that reports the call's outcome, or nil and the run's
// verdict when the breaker answers instead.
func (b *Breaker) admit(now time.Time) (func(error), outcome) {
	if b.blocked(now) {
		return nil, outcome{start: now, err: errBreakerOpenState, msg: errBreakerOpenState.Error(), kind: RunBreakerOpen}
	}
	done, err := b.cb.Allow()
	b.flush(true)
	if err != nil {
		e := errBreakerOpenState
		if err == gobreaker.ErrTooManyRequests {
			e = errBreakerTrial
		}
		return nil, b.withPanic(outcome{start: now, err: e, msg: e.Error(), kind: RunBreakerOpen})
	}
	return done, outcome{}
}

// report tells the breaker how a check run's call went, and returns the
// run's outcome, made a panic if a user callback panicked meanwhile.
func (b *Breaker) report(done func(error), o outcome) outcome {
	err := o.err
	if o.canceled {
		err = context.Canceled
	}
	done(err)
	if o.err == nil {
		b.lastSuccess.Store(time.Now().UnixNano())
	}
	b.flush(true)
	return b.withPanic(o)
}

// refuse counts a run that could not start (its previous run has not
// returned) as a failed call, as the dependency is not answering: a hung
// dependency opens the breaker like a failing one. A nil b does nothing.
func (b *Breaker) refuse(o outcome) outcome {
	if b == nil {
		return o
	}
	done, open := b.admit(o.start)
	if done == nil {
		return open
	}
	return b.report(done, o)
}

func (b *Breaker) withPanic(o outcome) outcome {
	if pe := b.panicked.Swap(nil); pe != nil {
		return outcome{start: o.start, err: pe, msg: pe.msg, kind: RunPanic}
	}
	return o
}

// Name returns the name of the dependency check the breaker guards.
func (b *Breaker) Name() string { return b.c.name }

// State returns the breaker's state as of its last call. It does not call
// into gobreaker, so it is safe anywhere, including in OnStateChange.
func (b *Breaker) State() gobreaker.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Counts returns gobreaker's counts. It takes gobreaker's lock, which the
// WithBreaker callbacks may hold for up to 100 ms each.
func (b *Breaker) Counts() gobreaker.Counts { return b.cb.Counts() }

// LastSuccess returns when a call through the breaker last succeeded, or
// the zero time.
func (b *Breaker) LastSuccess() time.Time {
	if ns := b.lastSuccess.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// trialAt returns when an open breaker lets its next trial call through.
func (b *Breaker) trialAt() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.retryAt, b.state == gobreaker.StateOpen
}

// Execute calls fn through the breaker. While the breaker is open (until
// its jittered trial time), fn is not called and Execute returns
// gobreaker.ErrOpenState at once; while a half-open breaker's trial calls
// are in flight, it returns gobreaker.ErrTooManyRequests. Otherwise it
// returns fn's error, which counts as a failure unless it matches
// context.Canceled or the IsExcluded of WithBreaker. A panic in fn counts
// as a failure and is re-raised.
func (b *Breaker) Execute(fn func() error) error {
	_, err := Call(b, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// Call is Execute for functions that return a value:
//
//	user, err := health.Call(b, func() (*User, error) { return store.User(ctx, id) })
func Call[T any](b *Breaker, fn func() (T, error)) (T, error) {
	var v T
	if b.blocked(time.Now()) {
		return v, gobreaker.ErrOpenState
	}
	done, err := b.cb.Allow()
	if err != nil {
		b.flush(false)
		return v, err
	}
	returned := false
	defer func() {
		if !returned { // fn panicked (re-raised as it unwinds) or called runtime.Goexit
			done(errCallPanicked)
			b.flush(false)
		}
	}()
	v, err = fn()
	returned = true
	switch {
	case err == nil:
		done(nil)
		b.lastSuccess.Store(time.Now().UnixNano())
	case canceled(err):
		done(context.Canceled)
	default:
		done(err)
	}
	b.flush(false)
	return v, err
}

var errCallPanicked = fmt.Errorf("%w: the call through the breaker panicked", ErrPanic)

// canceled reports whether err says its context was cancelled. The error is
// the application's; if its methods panic, it is not a cancellation.
func canceled(err error) (yes bool) {
	defer func() {
		if recover() != nil {
			yes = false
		}
	}()
	return chainHas(err, is(context.Canceled))
}
