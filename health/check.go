package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"
)

// CheckFunc is a health check: it returns nil when what it checks is
// healthy and an error saying what is wrong otherwise. It must honour ctx,
// which carries the check's timeout; a check that ignores it is still
// reported as failed when the timeout fires, but its goroutine lingers until
// it returns, and it is not started again until then.
//
// A check may call Observe to report a measurement and may return an error
// wrapped with Warn to report a degraded (200) rather than failed (503)
// state. Method values such as (*sql.DB).PingContext are CheckFuncs.
type CheckFunc func(ctx context.Context) error

// check is one registered check and its latest result.
type check struct {
	name    string
	group   Group
	fn      CheckFunc
	cfg     checkConfig
	breaker *Breaker      // nil unless cfg.dependency
	wake    chan struct{} // background dependency checks: run now

	mu      sync.Mutex
	running bool // a goroutine is inside fn
	last    CheckResult
	has     bool // last holds a real result
	latched bool // startup checks: passed once, never run again

	// Guarded by Registry.stateMu: the last status announced to hooks, and
	// whether a real (not pending) result has been announced.
	reported     Status
	reportedReal bool
}

func (c *check) background() bool { return c.cfg.interval > 0 }

// due reports whether a probe must run the check rather than read its
// latest result.
func (c *check) due() bool {
	if c.background() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.latched
}

func (c *check) passed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.has && c.last.Status == StatusPass
}

func (c *check) isLatched() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latched
}

// outcome is what one run produced, before it is judged.
type outcome struct {
	err      error
	start    time.Time
	duration time.Duration
	obs      *Observation
}

// execute runs the check once (behind its breaker, if any) and records the
// result. It returns without waiting for a check that overruns its timeout.
func (r *Registry) execute(c *check) {
	var o outcome
	if c.breaker != nil {
		start := time.Now()
		err := c.breaker.Execute(func() error {
			o = r.runOnce(c)
			return o.err
		})
		if o.start.IsZero() { // the breaker answered without calling the check
			o = outcome{err: fmt.Errorf("%w: %w", ErrBreakerOpen, err), start: start}
		}
	} else {
		o = r.runOnce(c)
	}
	if errors.Is(o.err, context.Canceled) && r.ctx.Err() != nil {
		return // the registry is closing: keep the last real result
	}
	res := r.record(c, o)
	r.observeRun(runOf(c, o, res))
}

// runOnce calls the check on a goroutine of its own so that the verdict is
// taken when the timeout fires even if the check ignores its context.
func (r *Registry) runOnce(c *check) outcome {
	start := time.Now()
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return outcome{err: ErrStillRunning, start: start}
	}
	if !r.tasks.add() {
		c.mu.Unlock()
		return outcome{err: ErrClosed, start: start}
	}
	c.running = true
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(r.ctx, c.cfg.timeout)
	defer cancel()
	ctx, slot := withObservationSlot(ctx)
	done := make(chan error, 1)
	go func() {
		defer r.tasks.done()
		err := r.call(c, ctx)
		// Clear running before reporting, so that the next run, which may
		// start as soon as the verdict is in, does not see this one.
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
		done <- err
	}()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done: // returned in the same instant: take its word
		default:
			err = ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w after %v: %w", ErrTimeout, c.cfg.timeout, err)
		}
	}
	return outcome{err: err, start: start, duration: time.Since(start), obs: slot.seal()}
}

// call runs fn, turning a panic into a *PanicError.
func (r *Registry) call(c *check, ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			pe := &PanicError{Value: v, Stack: debug.Stack()}
			r.logf(slog.LevelError, "health check panicked", slog.String("group", c.group.String()),
				slog.String("check", c.name), slog.String("panic", safeSprint(v)), slog.String("stack", string(pe.Stack)))
			err = pe
		}
	}()
	return c.fn(ctx)
}

// loop runs a background check until the registry closes (or, for a startup
// check, until it has passed). While a dependency's breaker is open, the
// loop sleeps until the breaker's jittered trial time (or the interval, if
// that is longer) instead of ticking:
// runs in between would only read the open breaker, and a trial on the next
// tick would undo the jitter, putting a fleet's trials back in step. A
// breaker closed meanwhile by application traffic wakes the loop at once.
func (r *Registry) loop(c *check) {
	defer r.tasks.done()
	t := time.NewTimer(c.cfg.initialDelay)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-c.wake:
			t.Stop()
		case <-t.C:
		}
		r.execute(c)
		if c.passed() {
			select {
			case <-c.wake: // this run closed the breaker: no need to rerun
			default:
			}
		}
		if c.isLatched() {
			return
		}
		next := jittered(c.cfg.interval, c.cfg.jitter)
		if c.breaker != nil {
			if at, open := c.breaker.trialAt(); open {
				// Never sooner than the interval: an open breaker must not
				// make a dead dependency get more calls than a live one.
				next = max(next, time.Until(at))
			}
		}
		t.Reset(next)
	}
}

// jittered returns d lengthened or shortened by a random fraction of up to f.
func jittered(d time.Duration, f float64) time.Duration {
	if f == 0 {
		return d
	}
	return d + time.Duration((rand.Float64()*2-1)*f*float64(d))
}

// tracker counts the registry's goroutines so that Close can wait for them,
// and refuses new ones once closing has begun (a sync.WaitGroup may not be
// added to while it is being waited on).
type tracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{}
}

func (t *tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 && t.closed {
		close(t.idle)
	}
}

// close refuses new goroutines and returns a channel closed when the last
// tracked one has returned.
func (t *tracker) close() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closed = true
		t.idle = make(chan struct{})
		if t.n == 0 {
			close(t.idle)
		}
	}
	return t.idle
}

// runOf describes a recorded run for observers.
func runOf(c *check, o outcome, res CheckResult) Run {
	run := Run{Group: c.group, Check: c.name, Status: res.Status, Start: o.start, Duration: o.duration, Err: o.err}
	switch {
	case o.err == nil:
		run.Result = RunPass
	case errors.Is(o.err, ErrBreakerOpen):
		run.Result = RunBreakerOpen
	case errors.Is(o.err, ErrTimeout), errors.Is(o.err, ErrStillRunning):
		run.Result = RunTimeout
	case errors.Is(o.err, ErrPanic):
		run.Result = RunPanic
	case res.Status == StatusWarn:
		run.Result = RunWarn
	default:
		run.Result = RunFail
	}
	return run
}
