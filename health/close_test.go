package health_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// Close ends the contexts of running checks and waits for them to return.
func TestCloseWaitsForRunningChecks(t *testing.T) {
	r := health.New()
	started := make(chan struct{})
	var returned atomic.Bool
	require.NoError(t, r.Register(health.Readiness, "tidy", health.CheckFunc(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // cleaning up after the context ended
		returned.Store(true)
		return ctx.Err()
	}), health.CheckOptions{Timeout: time.Hour, Every: time.Hour}))
	<-started
	require.NoError(t, r.Close())
	assert.True(t, returned.Load(), "Close returned before the check did")
}

// Close gives up on a check that ignores its context after the longest
// check timeout, at least a second, and names it.
func TestCloseNamesHungChecks(t *testing.T) {
	t.Parallel()
	r := health.New()
	stubborn := newGate(false)
	require.NoError(t, r.Register(health.Readiness, "stubborn", stubborn, health.CheckOptions{Every: time.Hour, Timeout: 10 * time.Millisecond}))
	require.NoError(t, r.Register(health.Readiness, "fine", passing, health.CheckOptions{Every: time.Hour}))
	require.NoError(t, r.Register(health.Readiness, "also-stuck", stubborn, health.CheckOptions{Timeout: 20 * time.Millisecond}))
	stubborn.waitStarted(t)
	_ = report(t, r, health.Readiness)
	stubborn.waitStarted(t)
	start := time.Now()
	err := r.Close()
	require.Error(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "at least a second")
	assert.Contains(t, err.Error(), "[also-stuck, stubborn]", "the hung checks, sorted")
	assert.NotContains(t, err.Error(), "fine")

	stubborn.open()
	waitFor(t, "the checks to return", func() bool { return stubborn.inside.Load() == 0 })
	require.NoError(t, r.Close(), "idempotent, and clean once the checks returned")
}

func TestCloseWaitsTheLongestTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 1500 * time.Millisecond
	r := health.New()
	stubborn := newGate(false)
	require.NoError(t, r.Register(health.Readiness, "stubborn", stubborn, health.CheckOptions{Every: time.Hour, Timeout: timeout}))
	require.NoError(t, r.Register(health.Liveness, "quick", passing, health.CheckOptions{Timeout: time.Millisecond}))
	stubborn.waitStarted(t)
	start := time.Now()
	err := r.Close()
	assert.GreaterOrEqual(t, time.Since(start), timeout)
	require.ErrorContains(t, err, "still running after 1.5s")
	stubborn.open()
	waitFor(t, "the check to return", func() bool { return stubborn.inside.Load() == 0 })
	require.NoError(t, r.Close())
}

// A check still within its timeout when Close gives up (the wait is at
// most 10 s) is still running too, and named.
func TestCloseNamesAChecksStillWithinItsTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 s")
	}
	t.Parallel()
	r := health.New()
	stubborn := newGate(false)
	require.NoError(t, r.Register(health.Readiness, "patient", stubborn, health.CheckOptions{Every: time.Hour, Timeout: time.Minute}))
	stubborn.waitStarted(t)
	start := time.Now()
	err := r.Close()
	elapsed := time.Since(start)
	stubborn.open()
	waitFor(t, "the check to return", func() bool { return stubborn.inside.Load() == 0 })
	require.NoError(t, r.Close())
	assert.GreaterOrEqual(t, elapsed, 10*time.Second, "at most 10 s, but that long")
	require.ErrorContains(t, err, "still running after 10s")
	failIf(t, !strings.Contains(err.Error(), "patient"), "Close does not name a check still running within its timeout: %v", err)
}

// Close waits for observers too, and says so when one is still busy.
func TestCloseWaitsForObservers(t *testing.T) {
	r := health.New()
	o := &stuckObserver{release: make(chan struct{}), stuck: make(chan struct{})}
	r.AddObserver(o)
	r.MarkNotReady("x")
	<-o.stuck
	err := r.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "observers or the logger")
	close(o.release)
	require.NoError(t, r.Close())
}

type stuckObserver struct {
	once    sync.Once
	stuck   chan struct{}
	release chan struct{}
}

func (o *stuckObserver) ObserveRun(health.Run) { o.wait() }
func (o *stuckObserver) ObserveEvent(health.Event) {
	o.wait()
}

func (o *stuckObserver) wait() {
	o.once.Do(func() { close(o.stuck) })
	<-o.release
}

func TestAfterClose(t *testing.T) {
	r := health.New()
	rec := observe(r)
	var onRequest checkSwitch
	require.NoError(t, r.Register(health.Readiness, "db", &onRequest))
	require.NoError(t, r.Register(health.Readiness, "bg", passing, health.CheckOptions{Every: time.Hour}))
	rec.runsOf(t, "bg", 1)
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "idempotent")

	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.StatusFail, rep.Status)
	db := entry(t, rep, "db")
	assert.ErrorIs(t, db.Err, health.ErrClosed, "checks that run on request report ErrClosed")
	assert.Equal(t, health.StatusFail, db.Status)
	assert.Equal(t, int32(1), onRequest.runs.Load(), "and are not called")
	bg := entry(t, rep, "bg")
	assert.Equal(t, health.StatusPass, bg.Status, "background checks keep their last results")
	assert.NoError(t, bg.Err)
	assert.ErrorIs(t, entry(t, report(t, r, health.Readiness, "db"), "db").Err, health.ErrClosed)

	// The rest still answers.
	r.MarkNotReady("late")
	r.MarkBroken("late")
	assert.Equal(t, health.StatusFail, report(t, r, health.Liveness).Status)
	assert.NotPanics(t, func() { r.AddObserver(&recorder{changed: make(chan struct{})})() })
}
