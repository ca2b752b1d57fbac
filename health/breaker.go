package health

import (
	"context"
	"errors"
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

// DefaultBreakerSettings returns the settings a dependency check's breaker
// uses when WithBreaker is not given: trip after DefaultBreakerFailures
// consecutive failures, stay open DefaultBreakerOpen (plus up to
// BreakerJitter of it), then admit DefaultBreakerTrials trial call. Counts
// never reset on a timer (Interval 0): only consecutive failures matter.
func DefaultBreakerSettings() gobreaker.Settings {
	return gobreaker.Settings{
		MaxRequests: DefaultBreakerTrials,
		Timeout:     DefaultBreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= DefaultBreakerFailures },
	}
}

// Breaker is the circuit breaker of a dependency check, a
// gobreaker.CircuitBreaker with two additions: its trials are jittered
// (BreakerJitter), and its state changes reach the registry's hooks and
// logger outside the breaker's lock. Get it with Registry.Breaker. It is
// safe for concurrent use.
type Breaker struct {
	cb       *gobreaker.CircuitBreaker[struct{}]
	settings gobreaker.Settings // as configured, for CheckInfo
	open     time.Duration
	onChange func(BreakerChange) // called outside gobreaker's lock
	user     func(name string, from, to gobreaker.State)

	mu      sync.Mutex // never held while calling into cb
	state   gobreaker.State
	retryAt time.Time // while open, no call passes before this
	changes []BreakerChange

	flushMu     sync.Mutex // keeps change notifications in order
	lastSuccess atomic.Int64
}

// BreakerChange is a state change of a circuit breaker.
type BreakerChange struct {
	From, To gobreaker.State
}

func newBreaker(name string, custom *gobreaker.Settings, onChange func(BreakerChange)) *Breaker {
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
		st.IsExcluded = user.IsExcluded
		st.OnStateChange = user.OnStateChange
	}
	st.Name = name
	b := &Breaker{open: st.Timeout, onChange: onChange, user: st.OnStateChange, settings: st}
	userExcluded := st.IsExcluded
	// A probe abandoned by its caller, or a registry shutting down, says
	// nothing about the dependency. The check's own timeout does.
	st.IsExcluded = func(err error) bool {
		return errors.Is(err, context.Canceled) || userExcluded != nil && userExcluded(err)
	}
	st.OnStateChange = b.stateChanged
	b.cb = gobreaker.NewCircuitBreaker[struct{}](st)
	return b
}

// stateChanged runs under gobreaker's lock: it only records, and never calls
// back into the breaker (sony/gobreaker#37).
func (b *Breaker) stateChanged(name string, from, to gobreaker.State) {
	b.mu.Lock()
	b.state = to
	if to == gobreaker.StateOpen {
		b.retryAt = time.Now().Add(b.open + time.Duration(rand.Float64()*BreakerJitter*float64(b.open)))
	}
	b.changes = append(b.changes, BreakerChange{From: from, To: to})
	b.mu.Unlock()
	if b.user != nil {
		b.user(name, from, to)
	}
}

// flush delivers recorded state changes, outside gobreaker's lock.
func (b *Breaker) flush() {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	changes := b.changes
	b.changes = nil
	b.mu.Unlock()
	for _, ch := range changes {
		if b.onChange != nil {
			b.onChange(ch)
		}
	}
}

// Name returns the name of the dependency check the breaker guards.
func (b *Breaker) Name() string { return b.cb.Name() }

// State returns the breaker's state as of its last call. It does not call
// into gobreaker, so it is safe anywhere, including in OnStateChange.
func (b *Breaker) State() gobreaker.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Counts returns gobreaker's counts. Do not call it from a
// WithBreaker OnStateChange callback: that runs under the lock Counts takes.
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

func (b *Breaker) status() BreakerStatus {
	return BreakerStatus{State: b.State(), LastSuccess: b.LastSuccess()}
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
	b.mu.Lock()
	blocked := b.state == gobreaker.StateOpen && time.Now().Before(b.retryAt)
	b.mu.Unlock()
	if blocked {
		return v, gobreaker.ErrOpenState
	}
	defer b.flush()
	_, err := b.cb.Execute(func() (struct{}, error) {
		var err error
		v, err = fn()
		return struct{}{}, err
	})
	if err == nil {
		b.lastSuccess.Store(time.Now().UnixNano())
	}
	return v, err
}

// breakerChanged is the breaker's onChange: it runs outside gobreaker's lock.
func (r *Registry) breakerChanged(c *check, ch BreakerChange) {
	r.publish(Event{Time: time.Now(), Group: c.group, Check: c.name, Breaker: &ch})
	r.changed(c.group)
	if ch.To == gobreaker.StateClosed && c.wake != nil {
		// Closed by application traffic while the check slept until its
		// trial: check now rather than report a stale failure.
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}
