package health_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// ctxSeen is what a check saw of its context.
type ctxSeen struct {
	deadline    time.Time
	hasDeadline bool
	errBefore   error
	errAfter    error
	derivedErr  error // of a context.WithTimeout derived from it, once done
	derivedDl   time.Time
}

// A check's context is a standard deadline context: Deadline is the run's
// start plus its timeout, Err is nil until then and DeadlineExceeded
// after, and contexts derived from it follow it.
func TestCheckContextHasTheRunsDeadline(t *testing.T) {
	const timeout = 30 * time.Millisecond
	r := openRegistry(t)
	rec := observe(r)
	seen := make(chan ctxSeen, 1)
	mustRegister(t, r, health.Readiness, "ctx", health.CheckFunc(func(ctx context.Context) error {
		seen <- see(ctx)
		return ctx.Err()
	}), health.CheckOptions{Timeout: timeout})
	_ = report(t, r, health.Readiness)
	s := <-seen
	run := rec.runsOf(t, "ctx", 1)[0]
	require.True(t, s.hasDeadline)
	assert.Equal(t, run.Start.Add(timeout), s.deadline, "Deadline = start + timeout")
	assert.Equal(t, s.deadline, s.derivedDl, "a derived context keeps the earlier deadline")
	assert.NoError(t, s.errBefore)
	assert.Equal(t, health.RunTimeout, run.Result)

	// What a standard deadline context gives, itself and derived.
	std, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	stdSeen := see(std)
	require.Equal(t, context.DeadlineExceeded, stdSeen.errAfter)
	require.Equal(t, context.DeadlineExceeded, stdSeen.derivedErr)

	// The same of many runs: the verdict's timer and the context's
	// deadline fire together, and the context must end as a standard one.
	const n = 200
	r2 := openRegistry(t)
	seen2 := make(chan ctxSeen, n)
	var started atomic.Int32
	mustRegister(t, r2, health.Readiness, "ctx", health.CheckFunc(func(ctx context.Context) error {
		started.Add(1)
		seen2 <- see(ctx)
		return ctx.Err()
	}), health.CheckOptions{Timeout: time.Millisecond})
	var wrong []string
	for started.Load() < n {
		// A probe that finds the last run not yet returned starts none.
		before := started.Load()
		_ = report(t, r2, health.Readiness)
		if started.Load() == before {
			continue
		}
		s := <-seen2
		if s.errAfter != context.DeadlineExceeded || s.derivedErr != context.DeadlineExceeded {
			wrong = append(wrong, fmt.Sprintf("%v/%v", s.errAfter, s.derivedErr))
		}
	}
	failIf(t, len(wrong) > 0, "%d of %d check contexts (own/derived) did not end with DeadlineExceeded at the timeout: %v",
		len(wrong), n, wrong[:min(len(wrong), 3)])
}

// see waits for ctx to be done and reports what it and a context derived
// from it said.
func see(ctx context.Context) ctxSeen {
	var s ctxSeen
	s.deadline, s.hasDeadline = ctx.Deadline()
	s.errBefore = ctx.Err()
	derived, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	s.derivedDl, _ = derived.Deadline()
	<-ctx.Done()
	<-derived.Done()
	s.errAfter, s.derivedErr = ctx.Err(), derived.Err()
	return s
}

// A check's context is done when the registry closes.
func TestCheckContextEndsAtClose(t *testing.T) {
	r := health.New()
	ended := make(chan error, 1)
	started := make(chan struct{})
	require.NoError(t, r.Register(health.Readiness, "waits", health.CheckFunc(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	}), health.CheckOptions{Timeout: time.Hour}))
	done := make(chan health.Report, 1)
	go func() {
		rep, _ := r.Check(context.Background(), health.Readiness)
		done <- rep
	}()
	<-started
	require.NoError(t, r.Close())
	assert.ErrorIs(t, <-ended, context.Canceled)
	rep := <-done
	assert.ErrorIs(t, entry(t, rep, "waits").Err, health.ErrClosed, "a run cut short by Close reports ErrClosed")
}

// Contexts derived from a check's context cost no goroutine, as those
// derived from a standard context: the run's context is one, so
// context.WithTimeout and context.AfterFunc link to it directly instead of
// starting a goroutine that waits for it to be done.
func TestDerivedContextsStartNoGoroutine(t *testing.T) {
	// goroutinesIn counts what propagateCancel starts for a parent it
	// does not know; opaque proves that the count sees one.
	const waiter = "context.(*cancelCtx).propagateCancel"
	measure := func(ctx context.Context) (before, after int) {
		before = goroutinesIn(waiter)
		tctx, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		stop := context.AfterFunc(ctx, func() {})
		defer stop()
		cctx, cancel2 := context.WithCancelCause(tctx)
		defer cancel2(nil)
		_ = cctx
		return before, goroutinesIn(waiter)
	}
	std, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b, a := measure(std)
	require.Equal(t, b, a, "a standard context")
	b, a = measure(opaque{std})
	require.Greater(t, a, b, "the measure sees the goroutines of a context the package does not know")
	waitFor(t, "those goroutines to end", func() bool { return goroutinesIn(waiter) == 0 })

	r := openRegistry(t)
	counts := make(chan [2]int, 1)
	mustRegister(t, r, health.Readiness, "derives", health.CheckFunc(func(ctx context.Context) error {
		b, a := measure(ctx)
		counts <- [2]int{b, a}
		return nil
	}))
	_ = report(t, r, health.Readiness)
	c := <-counts
	assert.Equal(t, c[0], c[1], "deriving from a check's context started a goroutine")
}

// opaque hides its context's type from package context.
type opaque struct{ context.Context }

func (o opaque) Done() <-chan struct{} { return o.Context.Done() }
func (o opaque) Value(key any) any {
	if _, ok := key.(*int); ok { // context's private cancelCtxKey is an *int
		return nil
	}
	return o.Context.Value(key)
}

// A check that returns context.Canceled on its own (it gave up) is a
// failure, whatever the text: the registry did not end its context.
func TestCheckReturningCanceledFails(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "gives-up", health.CheckFunc(func(context.Context) error {
		return context.Canceled
	}))
	e := entry(t, report(t, r, health.Readiness), "gives-up")
	assert.Equal(t, health.StatusFail, e.Status)
	assert.True(t, errors.Is(e.Err, context.Canceled))
	assert.NotErrorIs(t, e.Err, health.ErrClosed)
}
