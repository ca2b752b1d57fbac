package health

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/internal/errchain"
)

// BreakerSettings configures the circuit breaker of a dependency check
// (CheckOptions.Breaker). Zero fields take the defaults, chosen for probes
// (docs/fleet.md has the arithmetic).
type BreakerSettings struct {
	// Failures is how many consecutive failed runs open the breaker; zero
	// means 3, the kubelet's default failureThreshold. Only what the
	// dependency says counts: a run that times out or fails counts (a
	// context.Canceled the check returns on its own included), a run
	// refused because the previous one has not returned counts nothing,
	// and a run cut short by the registry closing is excluded.
	Failures int
	// Open is how long an open breaker answers without calling the
	// dependency before a trial call, plus up to a fifth of Open at
	// random, so that pods do not retry together. Zero means 30 s. A
	// background check sleeps until the trial.
	Open time.Duration
	// Trials is how many trial calls a half-open breaker admits, all of
	// which must succeed to close it. Zero means 1.
	Trials int
}

const (
	defaultFailures = 3
	defaultOpen     = 30 * time.Second
	breakerJitter   = 0.2
	maxBreakerCount = 1000
)

func (s BreakerSettings) merge(l BreakerSettings) BreakerSettings {
	s.Failures, s.Open, s.Trials = cmp.Or(l.Failures, s.Failures), cmp.Or(l.Open, s.Open), cmp.Or(l.Trials, s.Trials)
	return s
}

func (s BreakerSettings) config() (BreakerSettings, error) {
	if s.Failures < 0 || s.Failures > maxBreakerCount || s.Trials < 0 || s.Trials > maxBreakerCount {
		return s, fmt.Errorf("%w: Breaker Failures and Trials must be in [0, %d], got %d and %d",
			ErrInvalidOption, maxBreakerCount, s.Failures, s.Trials)
	}
	if err := durationIn("Breaker Open", s.Open, time.Millisecond); err != nil {
		return s, err
	}
	s.Failures, s.Trials, s.Open = cmp.Or(s.Failures, defaultFailures), cmp.Or(s.Trials, 1), cmp.Or(s.Open, defaultOpen)
	return s, nil
}

// The errors of a run the breaker answers, and what the breaker is told of
// a run the registry cut short.
var (
	errBreakerOpen  = fmt.Errorf("%w: %w", ErrBreakerOpen, gobreaker.ErrOpenState)
	errBreakerTrial = fmt.Errorf("%w: %w", ErrBreakerOpen, gobreaker.ErrTooManyRequests)
	errExcluded     = errors.New("health: call cut short by the registry")
	errCallPanicked = fmt.Errorf("%w: the call through the breaker panicked", ErrPanic)
)

// Breaker is the circuit breaker of a dependency check: a gobreaker
// two-step breaker whose trials are jittered and whose state changes reach
// observers and the logger. Send the application's own calls through it
// (Execute), and traffic and probes agree: failures of either open it, and
// while it is open neither calls the dependency. It is safe for concurrent
// use.
type Breaker struct {
	c        *check
	settings BreakerSettings
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]

	// mu serialises calls into cb with the reading of its state, so that
	// each change is seen once; no user code runs under it.
	mu          sync.Mutex
	state       gobreaker.State
	retryAt     time.Time // while open, no call passes before this
	lastSuccess atomic.Int64
}

func newBreaker(c *check, s BreakerSettings) *Breaker {
	b := &Breaker{c: c, settings: s}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         c.name,
		MaxRequests:  uint32(s.Trials),
		Timeout:      s.Open,
		ReadyToTrip:  func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= uint32(s.Failures) },
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return err == errExcluded },
	})
	return b
}

// admit returns the function that reports how a call went, or the error
// with which the breaker answers instead.
func (b *Breaker) admit() (func(error), error) {
	b.mu.Lock()
	if b.state == gobreaker.StateOpen && time.Now().Before(b.retryAt) {
		b.mu.Unlock()
		return nil, errBreakerOpen
	}
	done, err := b.cb.Allow()
	ch := b.sync()
	b.mu.Unlock()
	b.announce(ch, false)
	switch {
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return nil, errBreakerTrial
	case err != nil:
		return nil, errBreakerOpen
	}
	return done, nil
}

// report tells the breaker how a call went: nil for success, errExcluded
// for a call that says nothing about the dependency, else a failure.
func (b *Breaker) report(done func(error), err error, traffic bool) {
	if err == nil {
		b.lastSuccess.Store(time.Now().UnixNano())
	}
	b.mu.Lock()
	done(err)
	ch := b.sync()
	b.mu.Unlock()
	b.announce(ch, traffic)
}

type change struct {
	happened bool
	to       gobreaker.State
	status   BreakerStatus
}

func (b *Breaker) sync() change {
	to := b.cb.State()
	if to == b.state {
		return change{}
	}
	b.state = to
	if to == gobreaker.StateOpen {
		b.retryAt = time.Now().Add(b.settings.Open + time.Duration(rand.Float64()*breakerJitter*float64(b.settings.Open)))
	}
	return change{happened: true, to: to, status: b.statusLocked()}
}

func (b *Breaker) announce(ch change, traffic bool) {
	if ch.happened {
		b.c.r.breakerChanged(b.c, ch.to, ch.status, traffic)
	}
}

func (b *Breaker) status() BreakerStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.statusLocked()
}

func (b *Breaker) statusLocked() BreakerStatus {
	s := BreakerStatus{State: b.state}
	if ns := b.lastSuccess.Load(); ns != 0 {
		s.LastSuccess = time.Unix(0, ns)
	}
	if b.state == gobreaker.StateOpen {
		s.NextTrial = b.retryAt
	}
	return s
}

// Execute calls fn through the breaker and returns its error. While the
// breaker is open (until its jittered trial), it calls nothing and returns
// an error matching ErrBreakerOpen and gobreaker.ErrOpenState (or, while a
// trial is in flight, gobreaker.ErrTooManyRequests). fn's error counts as
// a failure unless it matches context.Canceled (a caller that gave up says
// nothing about the dependency); a panic in fn counts as a failure and is
// re-raised.
func (b *Breaker) Execute(fn func() error) error {
	done, err := b.admit()
	if err != nil {
		return err
	}
	returned := false
	defer func() {
		if !returned { // fn panicked (re-raised as it unwinds) or called runtime.Goexit
			b.report(done, errCallPanicked, true)
		}
	}()
	err = fn()
	returned = true
	b.report(done, trafficOutcome(err), true)
	return err
}

// trafficOutcome is what an application's error tells the breaker; if its
// methods panic, a failure.
func trafficOutcome(err error) (out error) {
	if err == nil {
		return nil
	}
	defer func() {
		if recover() != nil {
			out = err
		}
	}()
	if errchain.Has(err, errchain.Is(context.Canceled)) {
		return errExcluded
	}
	return err
}
