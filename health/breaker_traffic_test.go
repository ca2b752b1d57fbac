package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func newBreaker(t *testing.T, settings health.BreakerSettings, opts ...health.CheckOptions) (*health.Registry, *health.Breaker, *checkSwitch) {
	t.Helper()
	r := openRegistry(t)
	var dep checkSwitch
	mustRegister(t, r, health.Readiness, "dep", health.DependencyFunc(dep.Check),
		append([]health.CheckOptions{{Breaker: settings}}, opts...)...)
	b, err := r.Breaker("dep")
	require.NoError(t, err)
	return r, b, &dep
}

func breakerOf(t *testing.T, r *health.Registry) health.BreakerStatus {
	t.Helper()
	b := entry(t, r.Latest(health.Readiness), "dep").Breaker
	require.NotNil(t, b)
	return *b
}

// Application traffic through Execute and probes agree: failures of
// traffic open the breaker, and while it is open neither calls the
// dependency.
func TestTrafficOpensTheBreaker(t *testing.T) {
	for _, opts := range []health.CheckOptions{{}, {Every: time.Hour}} {
		r, b, dep := newBreaker(t, health.BreakerSettings{}, opts)
		_ = report(t, r, health.Readiness) // runs the on-request check
		waitReport(t, r, health.Readiness, func(rep health.Report) bool { return rep.Status == health.StatusPass })
		runsBefore := dep.runs.Load()
		for range 3 {
			err := b.Execute(func() error { return errors.New("503 from users-api") })
			require.EqualError(t, err, "503 from users-api", "Execute returns fn's error")
		}
		assert.Equal(t, gobreaker.StateOpen, breakerOf(t, r).State)
		h := r.Handler(health.Readiness)
		for range 20 {
			assert.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/readyz").Code,
				"the next probe sees the open breaker")
		}
		e := entry(t, report(t, r, health.Readiness), "dep")
		assert.ErrorIs(t, e.Err, health.ErrBreakerOpen)
		assert.Equal(t, runsBefore, dep.runs.Load(), "the check ran while the breaker was open")

		called := false
		err := b.Execute(func() error { called = true; return nil })
		assert.ErrorIs(t, err, health.ErrBreakerOpen)
		assert.ErrorIs(t, err, gobreaker.ErrOpenState)
		assert.False(t, called, "an open breaker calls nothing")
	}
}

// A non-critical dependency's open breaker warns; a critical one's fails,
// even though its last run passed.
func TestOpenBreakerOverridesAPassingResult(t *testing.T) {
	r, b, _ := newBreaker(t, health.BreakerSettings{Failures: 1})
	_ = report(t, r, health.Readiness)
	_ = b.Execute(func() error { return errors.New("down") })
	e := entry(t, r.Latest(health.Readiness), "dep")
	assert.Equal(t, health.StatusFail, e.Status)
	assert.ErrorIs(t, e.Err, health.ErrBreakerOpen)

	r2, b2, _ := newBreaker(t, health.BreakerSettings{Failures: 1}, health.CheckOptions{NonCritical: true})
	_ = report(t, r2, health.Readiness)
	_ = b2.Execute(func() error { return errors.New("down") })
	assert.Equal(t, health.StatusWarn, entry(t, r2.Latest(health.Readiness), "dep").Status)
	assert.Equal(t, health.StatusWarn, r2.Latest(health.Readiness).Status)
}

// A caller that gave up says nothing about the dependency: its
// context.Canceled counts for nothing. A deadline does count.
func TestExecuteCountsWhatTheDependencySays(t *testing.T) {
	r, b, _ := newBreaker(t, health.BreakerSettings{Failures: 1})
	for i := range 10 {
		err := context.Canceled
		if i%2 == 1 {
			err = fmt.Errorf("query: %w", context.Canceled)
		}
		assert.ErrorIs(t, b.Execute(func() error { return err }), context.Canceled)
	}
	assert.Equal(t, gobreaker.StateClosed, breakerOf(t, r).State)
	assert.NoError(t, b.Execute(func() error { return nil }))
	assert.False(t, breakerOf(t, r).LastSuccess.IsZero(), "traffic's success counts as the last success")

	_ = b.Execute(func() error { return fmt.Errorf("query: %w", context.DeadlineExceeded) })
	assert.Equal(t, gobreaker.StateOpen, breakerOf(t, r).State)
}

// A panic in fn counts as a failure and is re-raised; so does a
// runtime.Goexit count.
func TestExecutePanics(t *testing.T) {
	r, b, _ := newBreaker(t, health.BreakerSettings{Failures: 2})
	assert.PanicsWithValue(t, "driver bug", func() {
		_ = b.Execute(func() error { panic("driver bug") })
	})
	assert.Equal(t, gobreaker.StateClosed, breakerOf(t, r).State)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Execute(func() error { runtime.Goexit(); return nil })
	}()
	<-done
	assert.Equal(t, gobreaker.StateOpen, breakerOf(t, r).State, "two failures")
}

// After Open (and its jitter) the breaker admits Trials trial calls, all
// of which must succeed to close it; while one is in flight the others are
// refused with ErrTooManyRequests.
func TestTrafficTrialsCloseTheBreaker(t *testing.T) {
	const open = 50 * time.Millisecond
	r, b, _ := newBreaker(t, health.BreakerSettings{Failures: 1, Open: open, Trials: 2})
	rec := observe(r)
	_ = b.Execute(func() error { return errors.New("down") })
	st := breakerOf(t, r)
	require.Equal(t, gobreaker.StateOpen, st.State)
	time.Sleep(time.Until(st.NextTrial)) // what is under test: the trial's time

	inTrial, release := make(chan struct{}), make(chan struct{})
	trialErr := make(chan error, 1)
	go func() {
		trialErr <- b.Execute(func() error { close(inTrial); <-release; return nil })
	}()
	<-inTrial
	assert.Equal(t, gobreaker.StateHalfOpen, breakerOf(t, r).State)
	assert.NoError(t, b.Execute(func() error { return nil }), "the second of two trials")
	err := b.Execute(func() error { t.Error("a third call passed"); return nil })
	assert.ErrorIs(t, err, health.ErrBreakerOpen)
	assert.ErrorIs(t, err, gobreaker.ErrTooManyRequests)
	close(release)
	require.NoError(t, <-trialErr)
	assert.Equal(t, gobreaker.StateClosed, breakerOf(t, r).State)
	assert.True(t, breakerOf(t, r).NextTrial.IsZero())
	evs := rec.waitEvents(t, "the breaker to close", func(evs []health.Event) bool {
		s := breakerStates(evs, "dep")
		return len(s) > 0 && s[len(s)-1] == "closed"
	})
	assert.Equal(t, []string{"open", "half-open", "closed"}, breakerStates(evs, "dep"))
}

// A background dependency check sleeps while its breaker is open, until
// the trial: not every interval (it would only read the open breaker), and
// never more often than its interval either.
func TestBackgroundDependencySleepsUntilItsTrial(t *testing.T) {
	const open = 100 * time.Millisecond
	r := openRegistry(t)
	rec := observe(r)
	mustRegister(t, r, health.Readiness, "db", health.DependencyFunc(failing),
		health.CheckOptions{Every: time.Millisecond, Breaker: health.BreakerSettings{Failures: 1, Open: open}})
	runs := rec.runsOf(t, "db", 3)
	for i := 1; i < len(runs); i++ {
		gap := runs[i].Start.Sub(runs[i-1].Start)
		assert.GreaterOrEqual(t, gap, open, "run %d came %v after the one before", i, gap)
		assert.Equal(t, health.RunFail, runs[i].Result, "a trial call, not a read of the open breaker")
	}

	const every = 200 * time.Millisecond
	r2 := openRegistry(t)
	rec2 := observe(r2)
	mustRegister(t, r2, health.Readiness, "db", health.DependencyFunc(failing),
		health.CheckOptions{Every: every, Breaker: health.BreakerSettings{Failures: 1, Open: time.Millisecond}})
	runs = rec2.runsOf(t, "db", 3)
	for i := 1; i < len(runs); i++ {
		gap := runs[i].Start.Sub(runs[i-1].Start)
		assert.GreaterOrEqual(t, gap, every*9/10, "an open breaker made the check call a dead dependency more often than its interval")
	}
}

// Traffic that closes the breaker (the dependency is back) wakes a
// background check asleep until its trial or its interval, so that
// readiness follows at once.
func TestBreakerClosedByTrafficWakesTheBackgroundCheck(t *testing.T) {
	const open = 30 * time.Millisecond
	r := openRegistry(t)
	rec := observe(r)
	var up atomic.Bool
	mustRegister(t, r, health.Readiness, "db", health.DependencyFunc(func(context.Context) error {
		if up.Load() {
			return nil
		}
		return errors.New("down")
	}), health.CheckOptions{Every: time.Hour, Breaker: health.BreakerSettings{Failures: 1, Open: open}})
	rec.runsOf(t, "db", 1) // fails: the breaker opens, and the check sleeps for an hour
	b, err := r.Breaker("db")
	require.NoError(t, err)
	up.Store(true)
	st := entry(t, r.Latest(health.Readiness), "db").Breaker
	time.Sleep(time.Until(st.NextTrial)) // the trial's time, under test
	require.NoError(t, b.Execute(func() error { return nil }))
	runs := rec.runsOf(t, "db", 2)
	assert.Equal(t, health.RunPass, runs[1].Result)
	waitReport(t, r, health.Readiness, func(rep health.Report) bool { return rep.Status == health.StatusPass })
}

// With the default Trials (1), a probe that meets the trial call of
// application traffic in flight gets ErrBreakerOpen and
// gobreaker.ErrTooManyRequests, and calls nothing.
func TestProbeMeetsATrialInFlight(t *testing.T) {
	r, b, dep := newBreaker(t, health.BreakerSettings{Failures: 1, Open: time.Millisecond})
	_ = b.Execute(func() error { return errors.New("down") })
	time.Sleep(time.Until(breakerOf(t, r).NextTrial)) // the trial's time, under test
	inTrial, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- b.Execute(func() error { close(inTrial); <-release; return nil }) }()
	<-inTrial
	e := entry(t, report(t, r, health.Readiness), "dep")
	assert.ErrorIs(t, e.Err, health.ErrBreakerOpen)
	assert.ErrorIs(t, e.Err, gobreaker.ErrTooManyRequests)
	assert.Zero(t, dep.runs.Load())
	close(release)
	require.NoError(t, <-done)
	assert.Equal(t, gobreaker.StateClosed, breakerOf(t, r).State)
	assert.Equal(t, health.StatusPass, entry(t, report(t, r, health.Readiness), "dep").Status)
	assert.Equal(t, int32(1), dep.runs.Load())
}
