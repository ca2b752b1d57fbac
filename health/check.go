package health

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/internal/bound"
)

// A Checker is a health check: Check returns nil when what it checks is
// healthy and an error saying what is wrong otherwise. It must honour ctx,
// which carries the check's timeout; a check that ignores it is still
// reported as failed at the timeout, but is not started again until it
// returns. Its type says what it checks: a DependencyFunc calls another
// process, anything else looks at the process's own state (see Register).
// The registry calls Check on a goroutine of its own: a panic, a
// runtime.Goexit, or a returned error whose methods panic is a failed run
// (ErrPanic), never a crash.
type Checker interface {
	Check(ctx context.Context) error
}

// CheckFunc is a check of the process's own state written as a function:
// health.CheckFunc(func(ctx context.Context) error { ... }).
type CheckFunc func(ctx context.Context) error

// Check calls f(ctx).
func (f CheckFunc) Check(ctx context.Context) error { return f(ctx) }

// DependencyFunc is a check that calls another process: a database, a
// cache, another service; so are the ready-made network checks of package
// checks. Register accepts it only in Readiness, since restarting a pod
// never fixes its database, and runs it behind a circuit breaker (see
// BreakerSettings). Method values fit: health.DependencyFunc(db.PingContext).
type DependencyFunc func(ctx context.Context) error

// Check calls f(ctx).
func (f DependencyFunc) Check(ctx context.Context) error { return f(ctx) }

// Misconfigured returns a check that Register refuses with an error
// matching both ErrMisconfigured and err (ErrMisconfigured alone if err is
// nil); called directly, its Check returns that error. Constructors of
// ready-made checks return it for arguments that can never work, so that
// the mistake is reported at start-up, not by every probe in production.
func Misconfigured(err error) Checker {
	if err == nil {
		err = ErrMisconfigured
	}
	return misconfigured{newFailure(err.Error(), ErrMisconfigured, err)}
}

type misconfigured struct{ err error }

func (m misconfigured) Check(context.Context) error { return m.err }

// CheckOptions configures one check; pass it to Register. Zero fields take
// the defaults documented on each.
type CheckOptions struct {
	// Timeout bounds each run: when it fires, the check's context is done
	// and the check is reported failed (ErrTimeout) at once. Zero means
	// 500 ms, half the kubelet's default probe timeout, so that the
	// verdict reaches the kubelet with room to spare. At most a year.
	Timeout time.Duration
	// Every runs the check in the background, at once and then every
	// Every ± 10 % (so that pods drift apart), and probes read its latest
	// result, so that a flood of probes never reaches what it checks.
	// Zero means it runs when a probe asks, concurrent probes sharing one
	// run. At least 1 ms. Until its first result, a background check
	// counts as passing in Liveness and failing elsewhere (ErrPending).
	Every time.Duration
	// NonCritical makes a failure report warn instead of fail: the group
	// still answers 200.
	NonCritical bool
	// Breaker configures the circuit breaker of a DependencyFunc; it is
	// refused for other checks.
	Breaker BreakerSettings
}

const (
	maxDuration    = 365 * 24 * time.Hour // so that no schedule can overflow into a busy loop
	defaultTimeout = 500 * time.Millisecond
	minInterval    = time.Millisecond
	jitter         = 0.1
)

func (o CheckOptions) merge(later []CheckOptions) CheckOptions {
	for _, l := range later {
		o.Timeout, o.Every = cmp.Or(l.Timeout, o.Timeout), cmp.Or(l.Every, o.Every)
		o.NonCritical = o.NonCritical || l.NonCritical
		o.Breaker = o.Breaker.merge(l.Breaker)
	}
	return o
}

func (o CheckOptions) config(dependency bool) (CheckOptions, error) {
	if err := durationIn("Timeout", o.Timeout, 0); err != nil {
		return o, err
	}
	if err := durationIn("Every", o.Every, minInterval); err != nil {
		return o, err
	}
	if o.Breaker != (BreakerSettings{}) && !dependency {
		return o, fmt.Errorf("%w: Breaker applies to dependency checks only (a DependencyFunc)", ErrInvalidOption)
	}
	o.Timeout = cmp.Or(o.Timeout, defaultTimeout)
	if dependency {
		b, err := o.Breaker.config()
		if err != nil {
			return o, err
		}
		o.Breaker = b
	}
	return o, nil
}

// durationIn checks that d is zero (the default) or in [least, a year].
func durationIn(name string, d, least time.Duration) error {
	switch {
	case d == 0:
		return nil
	case d < 0 || d < least:
		return fmt.Errorf("%w: %s must be positive and at least %v, got %v", ErrInvalidOption, name, max(least, time.Nanosecond), d)
	case d > maxDuration:
		return fmt.Errorf("%w: %s must be at most a year, got %v", ErrInvalidOption, name, d)
	}
	return nil
}

// check is one registered check and its latest result.
type check struct {
	r         *Registry
	name      string
	group     Group
	checker   Checker
	opts      CheckOptions // defaults filled in
	breaker   *Breaker     // nil unless a dependency
	runs      bound.Bound  // no run starts while an abandoned one has not returned
	execNext  func()       // c.exec, made once
	next      *run         // the run execNext's goroutine takes
	scheduled *time.Timer  // background checks: starts the next run

	mu      sync.Mutex
	cur     *run // the run awaiting its verdict, which probes join
	last    result
	has     bool   // last holds a real result
	latched bool   // startup checks: passed once, never run again
	status  Status // as last counted in the group's tally and announced
	real    bool   // a real (not pending) status has been announced
	// The last error text redacted, and its redaction (a failing check
	// usually fails the same way run after run).
	rawMsg, redactedMsg string
}

type result struct {
	status Status
	kind   RunResult
	err    error
	msg    string // err's text, read where user code is contained, redacted and clipped
	at     time.Time
	dur    time.Duration
}

func (c *check) background() bool { return c.opts.Every > 0 }

// effective is the status c counts with now, its reason and its text: its
// latest result, or while it has none the status assumed (pass in
// liveness, as the kubelet assumes; warn if non-critical; fail otherwise),
// made fail (or warn) by an open breaker. c.mu must be held.
func (c *check) effective() (Status, string, error) {
	assumed := StatusFail
	switch {
	case c.group == Liveness:
		assumed = StatusPass
	case c.opts.NonCritical:
		assumed = StatusWarn
	}
	if !c.has {
		return assumed, ErrPending.Error(), ErrPending
	}
	if c.last.status == StatusPass && c.breaker != nil && c.breaker.status().State == gobreaker.StateOpen {
		return max(assumed, StatusWarn), errBreakerOpen.Error(), errBreakerOpen
	}
	return c.last.status, c.last.msg, c.last.err
}
