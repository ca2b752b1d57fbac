package health_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// A background check runs at once, without any probe, and probes read its
// latest result: a flood of probes never reaches what it checks.
func TestBackgroundCheckRunsAtOnceAndServesProbes(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	var runs atomic.Int32
	mustRegister(t, r, health.Readiness, "bg", health.CheckFunc(func(context.Context) error {
		runs.Add(1)
		return nil
	}), health.CheckOptions{Every: time.Hour})
	rec.runsOf(t, "bg", 1) // long before an hour
	h := r.Handler(health.Readiness)
	for range 100 {
		require.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/readyz").Code)
		require.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/readyz?verbose").Code)
	}
	for range 10 {
		assert.Equal(t, health.StatusPass, report(t, r, health.Readiness, "bg").Status)
	}
	assert.Equal(t, int32(1), runs.Load(), "probes read the latest result")
	e := entry(t, r.Latest(health.Readiness), "bg")
	assert.False(t, e.Time.IsZero())
}

// Runs follow each other every Every ± 10 %: never sooner than 0.9×Every
// after the previous verdict (a timer never fires early, so this bound
// holds however loaded the machine; the upper bound and the spread are
// tested on the jitter function itself, in background_internal_test.go).
func TestBackgroundIntervalLowerBound(t *testing.T) {
	const every = 20 * time.Millisecond
	r := openRegistry(t)
	rec := observe(r)
	mustRegister(t, r, health.Readiness, "tick", passing, health.CheckOptions{Every: every})
	runs := rec.runsOf(t, "tick", 8)
	for i := 1; i < len(runs); i++ {
		prevVerdict := runs[i-1].Start.Add(runs[i-1].Duration)
		gap := runs[i].Start.Sub(prevVerdict)
		assert.GreaterOrEqual(t, gap, every*9/10, "run %d came %v after the previous verdict", i, gap)
	}
}

func TestPendingBackgroundCheck(t *testing.T) {
	r := openRegistry(t)
	block := newGate(true)
	defer block.open()
	opts := health.CheckOptions{Every: time.Hour, Timeout: time.Hour}
	mustRegister(t, r, health.Liveness, "live", block, opts)
	mustRegister(t, r, health.Readiness, "ready-bg", block, opts)
	mustRegister(t, r, health.Readiness, "optional", block, opts, health.CheckOptions{NonCritical: true})
	mustRegister(t, r, health.Startup, "warm", block, opts)

	live := report(t, r, health.Liveness)
	assert.Equal(t, health.StatusPass, live.Status, "liveness assumes alive until told otherwise, as the kubelet does")
	e := entry(t, live, "live")
	assert.Equal(t, health.StatusPass, e.Status)
	assert.ErrorIs(t, e.Err, health.ErrPending, "a passing liveness check with no result carries ErrPending")
	assert.True(t, e.Time.IsZero())

	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.StatusFail, rep.Status, "readiness assumes not ready until told otherwise")
	e = entry(t, rep, "ready-bg")
	assert.Equal(t, health.StatusFail, e.Status)
	assert.ErrorIs(t, e.Err, health.ErrPending)
	assert.Equal(t, health.StatusWarn, entry(t, rep, "optional").Status, "a non-critical check's failure warns")
	assert.Equal(t, health.StatusPass, entry(t, rep, "liveness").Status)
	assert.Equal(t, health.StatusFail, entry(t, rep, "startup").Status)

	st := report(t, r, health.Startup)
	assert.Equal(t, health.StatusFail, st.Status)
	assert.ErrorIs(t, entry(t, st, "warm").Err, health.ErrPending)

	body := decodeBody(t, serve(r.Handler(health.Readiness), http.MethodGet, "/readyz").Body.String())
	assert.Equal(t, "fail", body.only(t, "ready-bg").Status, "pending is never served as unknown")
}

func TestBackgroundCheckFollowsItsTarget(t *testing.T) {
	r := openRegistry(t)
	var sw healthtest.Switch
	sw.Set(healthtest.ErrSwitchedOff)
	mustRegister(t, r, health.Readiness, "queue", &sw, health.CheckOptions{Every: 2 * time.Millisecond})
	p := serveProbes(t, r)
	for range 3 {
		healthtest.WaitStatus(t, r, health.Readiness, health.StatusFail)
		// The cached rendering never serves a stale verdict.
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz").code)
		assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz", "Accept: text/plain").code)
		sw.Set(nil)
		healthtest.WaitStatus(t, r, health.Readiness, health.StatusPass)
		assert.Equal(t, http.StatusOK, p.get("/readyz").code)
		assert.Equal(t, http.StatusOK, p.do(http.MethodHead, "/readyz").code)
		sw.Set(healthtest.ErrSwitchedOff)
	}
}

// A background check whose run hangs is not started again at the next
// intervals, and resumes once the run returns.
func TestHungBackgroundCheckIsNotRestarted(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	hung := newGate(false)
	mustRegister(t, r, health.Readiness, "hung", hung, health.CheckOptions{Every: time.Millisecond, Timeout: time.Millisecond})
	run := rec.runsOf(t, "hung", 1)[0]
	assert.Equal(t, health.RunTimeout, run.Result)
	time.Sleep(50 * time.Millisecond) // fifty intervals, in which nothing may start
	assert.Equal(t, 1, hung.count(), "a run started while the previous one hung")
	assert.ErrorIs(t, entry(t, r.Latest(health.Readiness), "hung").Err, health.ErrTimeout)
	hung.open()
	rec.runsOf(t, "hung", 3)
	assert.GreaterOrEqual(t, hung.count(), 3)
}

func TestCloseStopsBackgroundChecks(t *testing.T) {
	r := health.New()
	var runs atomic.Int32
	third := make(chan struct{})
	require.NoError(t, r.Register(health.Readiness, "tick", health.CheckFunc(func(ctx context.Context) error {
		if runs.Add(1) == 3 {
			close(third)
			<-ctx.Done() // still running when Close is called
		}
		return nil
	}), health.CheckOptions{Every: time.Millisecond, Timeout: time.Hour}))
	<-third
	require.NoError(t, r.Close())
	assert.Equal(t, int32(3), runs.Load(), "no run after Close")
	rep := r.Latest(health.Readiness)
	e := entry(t, rep, "tick")
	assert.Equal(t, health.StatusPass, e.Status, "a background check keeps its last result")
	assert.NoError(t, e.Err)
	// goleak (TestMain) proves that no goroutine of the registry remains.
}

func TestBackgroundStartupCheckStopsAfterPassing(t *testing.T) {
	r := health.New()
	var mu sync.Mutex
	runs := 0
	require.NoError(t, r.Register(health.Startup, "warmup", health.CheckFunc(func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		runs++
		if runs < 3 {
			return errors.New("not yet")
		}
		return nil
	}), health.CheckOptions{Every: time.Millisecond}))
	healthtest.WaitStatus(t, r, health.Readiness, health.StatusPass)
	require.NoError(t, r.Close()) // waits for a run, if one were still going
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 3, runs, "the schedule ends at the first pass")
}

// A background result that arrives before any startup check exists does
// not complete startup behind the back of one registered later.
func TestStartupRegistrationOrderDoesNotMatter(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	mustRegister(t, r, health.Readiness, "bg", passing, health.CheckOptions{Every: time.Hour})
	rec.runsOf(t, "bg", 1)
	var sw healthtest.Switch
	sw.Set(healthtest.ErrSwitchedOff)
	mustRegister(t, r, health.Startup, "warmup", &sw)
	assert.Equal(t, health.StatusFail, report(t, r, health.Startup).Status)
	sw.Set(nil)
	assert.Equal(t, health.StatusPass, report(t, r, health.Startup).Status)
}
