package health_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestDependencyOutageOpensBreaker(t *testing.T) {
	logs, logger := newLog()
	r := openRegistry(t, health.Options{Logger: logger})
	rec := observe(r)
	dep := newDependency(t)
	var runs atomic.Int64
	mustRegister(t, r, health.Liveness, "loop", passing)
	mustRegister(t, r, health.Readiness, "dep", dep.check(&runs))
	p := serveProbes(t, r)
	liveOK := func() {
		t.Helper()
		assert.Equal(t, http.StatusOK, p.get("/").code, "liveness never follows a dependency")
	}

	resp := p.get("/readyz")
	require.Equal(t, http.StatusOK, resp.code)
	assert.Equal(t, "closed", decodeHealth(t, resp).only(t, "dep").Breaker)

	dep.down.Store(true)
	for i := 1; i <= 3; i++ { // the default Failures
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code, "readiness fails from the first failure")
		want := "closed"
		if i == 3 {
			want = "open"
		}
		assert.Equal(t, want, decodeHealth(t, resp).only(t, "dep").Breaker, "after %d failures", i)
		liveOK()
	}
	callsAtOpen, runsAtOpen := dep.calls.Load(), runs.Load()
	assert.Equal(t, int64(4), runsAtOpen)

	// Concurrent probes of every kind: the open breaker answers them all.
	var wg sync.WaitGroup
	targets := []string{"/readyz", "/ready", "/readyz/dep", "/readyz?verbose", "/readyz?exclude=nosuch"}
	for i := range 50 {
		wg.Go(func() {
			resp, err := p.try(http.MethodGet, targets[i%len(targets)])
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusServiceUnavailable, resp.code)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, callsAtOpen, dep.calls.Load(), "the dependency was called while the breaker was open")
	assert.Equal(t, runsAtOpen, runs.Load(), "the check ran while the breaker was open")
	liveOK()

	res := entry(t, report(t, r, health.Readiness), "dep")
	assert.ErrorIs(t, res.Err, health.ErrBreakerOpen)
	assert.ErrorIs(t, res.Err, gobreaker.ErrOpenState)
	require.NotNil(t, res.Breaker)
	assert.Equal(t, gobreaker.StateOpen, res.Breaker.State)
	assert.False(t, res.Breaker.LastSuccess.IsZero())
	assert.True(t, res.Breaker.NextTrial.After(time.Now().Add(29*time.Second)), "Open defaults to 30 s")
	body := decodeHealth(t, p.get("/readyz/dep"))
	assert.NotEmpty(t, body.only(t, "dep").LastSuccess)
	assert.NotEmpty(t, body.only(t, "dep").SinceLastSuccess)

	runsSeen := rec.waitRuns(t, "a run the breaker answered", func(runs []health.Run) bool {
		return len(runs) > 0 && runs[len(runs)-1].Result == health.RunBreakerOpen
	})
	assert.ErrorIs(t, runsSeen[len(runsSeen)-1].Err, health.ErrBreakerOpen)
	evs := rec.waitEvents(t, "the breaker's change", func(evs []health.Event) bool { return len(breakerStates(evs, "dep")) > 0 })
	assert.Equal(t, []string{"open"}, breakerStates(evs, "dep"))
	for _, ev := range evs {
		if ev.Breaker != nil {
			assert.Equal(t, health.StatusUnknown, ev.From)
			assert.Equal(t, health.StatusUnknown, ev.To)
			assert.Equal(t, health.Readiness, ev.Group)
			assert.False(t, ev.Breaker.NextTrial.IsZero())
		}
	}
	logs.wait(t, "the breaker's change in the log", func(rec map[string]any) bool {
		return rec["msg"] == "health circuit breaker changed state" && rec["state"] == "open" && rec["level"] == "WARN"
	})
}

// An open breaker's next trial comes after Open plus up to a fifth of it,
// at random, so that pods do not retry together.
func TestBreakerTrialsAreJittered(t *testing.T) {
	const n, open = 50, time.Minute
	r := openRegistry(t)
	var breakers []*health.Breaker
	for i := range n {
		name := "dep-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		mustRegister(t, r, health.Readiness, name, health.DependencyFunc(passing),
			health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1, Open: open}})
		b, err := r.Breaker(name)
		require.NoError(t, err)
		breakers = append(breakers, b)
	}
	before := time.Now()
	for _, b := range breakers {
		_ = b.Execute(func() error { return errors.New("down") })
	}
	after := time.Now()
	distinct := make(map[time.Time]bool)
	var lo, hi time.Time
	for _, c := range r.Latest(health.Readiness).Checks {
		if c.Breaker == nil {
			continue
		}
		require.Equal(t, gobreaker.StateOpen, c.Breaker.State, c.Name)
		at := c.Breaker.NextTrial
		assert.False(t, at.Before(before.Add(open)), "%s tries %v after opening", c.Name, at.Sub(before))
		assert.False(t, at.After(after.Add(open*12/10)), "%s tries %v after opening", c.Name, at.Sub(after))
		distinct[at] = true
		if lo.IsZero() || at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
	}
	assert.Len(t, distinct, n, "trial times coincide")
	// 50 uniform draws over a 12 s window all within 6 s of each other:
	// probability below 1e-13.
	assert.Greater(t, hi.Sub(lo), open/10, "trial times barely spread")
}

// A run refused because the previous one has not returned counts nothing:
// only the timeout of the hung run does.
func TestHungDependencyCountsOnce(t *testing.T) {
	r := openRegistry(t)
	dep := newDependency(t)
	dep.hang.Store(true)
	var runs atomic.Int64
	mustRegister(t, r, health.Readiness, "dep", health.DependencyFunc(func(context.Context) error {
		runs.Add(1)
		return dep.get(context.Background()) // a badly written check: it ignores its context
	}), health.CheckOptions{Timeout: 20 * time.Millisecond, Breaker: health.BreakerSettings{Failures: 2}})
	p := serveProbes(t, r)
	for range 20 {
		res := entry(t, report(t, r, health.Readiness), "dep")
		assert.ErrorIs(t, res.Err, health.ErrTimeout)
		assert.ErrorIs(t, res.Err, context.DeadlineExceeded)
		assert.Equal(t, gobreaker.StateClosed, res.Breaker.State, "the refused runs counted")
	}
	assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz").code)
	assert.Equal(t, int64(1), runs.Load(), "a new run started while the previous one hung")
	assert.LessOrEqual(t, dep.calls.Load(), int64(1))

	dep.unblock() // the hung call returns; the next run is a call again
	waitFor(t, "the next run", func() bool {
		return entry(t, report(t, r, health.Readiness), "dep").Status == health.StatusPass
	})
	assert.Equal(t, int64(2), runs.Load())
}

// A run that times out counts as a failure of the dependency.
func TestTimeoutsOpenTheBreaker(t *testing.T) {
	r := openRegistry(t)
	var runs atomic.Int32
	mustRegister(t, r, health.Readiness, "dep", health.DependencyFunc(func(ctx context.Context) error {
		runs.Add(1)
		<-ctx.Done()
		return ctx.Err()
	}), health.CheckOptions{Timeout: 10 * time.Millisecond})
	for i := range int32(3) {
		// A probe that finds the last run not yet returned starts none (and
		// counts nothing): probe until one starts.
		waitFor(t, "a run to start", func() bool {
			res := entry(t, report(t, r, health.Readiness), "dep")
			assert.ErrorIs(t, res.Err, health.ErrTimeout)
			return runs.Load() > i
		})
	}
	res := entry(t, report(t, r, health.Readiness), "dep")
	assert.Equal(t, gobreaker.StateOpen, res.Breaker.State, "three timeouts opened it")
	waitFor(t, "the open breaker to answer", func() bool {
		return errors.Is(entry(t, report(t, r, health.Readiness), "dep").Err, health.ErrBreakerOpen)
	})
	assert.Equal(t, int32(3), runs.Load())
}

// A dependency's own context.Canceled counts as a failure; a run cut short
// by the registry closing is excluded.
func TestCanceledRuns(t *testing.T) {
	t.Run("the check's own Canceled counts", func(t *testing.T) {
		r := openRegistry(t)
		var runs atomic.Int32
		mustRegister(t, r, health.Readiness, "dep", health.DependencyFunc(func(context.Context) error {
			runs.Add(1)
			return context.Canceled
		}), health.CheckOptions{Breaker: health.BreakerSettings{Failures: 2}})
		_ = report(t, r, health.Readiness)
		_ = report(t, r, health.Readiness)
		res := entry(t, report(t, r, health.Readiness), "dep")
		assert.Equal(t, gobreaker.StateOpen, res.Breaker.State)
		assert.ErrorIs(t, res.Err, health.ErrBreakerOpen)
		assert.Equal(t, int32(2), runs.Load())
	})
	t.Run("closing the registry is excluded", func(t *testing.T) {
		r := health.New()
		rec := observe(r)
		started := make(chan struct{})
		require.NoError(t, r.Register(health.Readiness, "dep", health.DependencyFunc(func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}), health.CheckOptions{Timeout: waitLimit, Breaker: health.BreakerSettings{Failures: 1}}))
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = r.Check(context.Background(), health.Readiness)
		}()
		<-started
		require.NoError(t, r.Close())
		<-done
		res := entry(t, r.Latest(health.Readiness), "dep")
		assert.Equal(t, gobreaker.StateClosed, res.Breaker.State, "one counted failure would have opened it")
		assert.ErrorIs(t, res.Err, health.ErrClosed)
		_, evs, _ := rec.snapshot()
		assert.Empty(t, breakerStates(evs, "dep"))
	})
}

func TestNonCriticalDependencyWarns(t *testing.T) {
	r := openRegistry(t)
	dep := newDependency(t)
	dep.down.Store(true)
	var runs atomic.Int64
	mustRegister(t, r, health.Readiness, "cache", dep.check(&runs), health.CheckOptions{NonCritical: true})
	mustRegister(t, r, health.Readiness, "db", passing)
	p := serveProbes(t, r)
	for i := range 8 {
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusOK, resp.code)
		body := decodeHealth(t, resp)
		assert.Equal(t, "warn", body.Status)
		assert.Equal(t, "warn", body.only(t, "cache").Status)
		if i >= 2 {
			assert.Equal(t, "open", body.only(t, "cache").Breaker)
		}
	}
	assert.Equal(t, int64(3), runs.Load())
	assert.Contains(t, p.get("/readyz?verbose").body, "[+]cache warn: reason withheld\n")
}

// A dependency that answers degraded (Warn) answered: it counts as a
// success for its breaker.
func TestWarningDependencyKeepsItsBreakerClosed(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "slow", health.DependencyFunc(func(context.Context) error {
		return health.Warn(errors.New("replica lag 5 s"))
	}), health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1}})
	for range 5 {
		res := entry(t, report(t, r, health.Readiness), "slow")
		assert.Equal(t, health.StatusWarn, res.Status)
		assert.Equal(t, gobreaker.StateClosed, res.Breaker.State)
		assert.False(t, res.Breaker.LastSuccess.IsZero())
		assert.True(t, res.Breaker.NextTrial.IsZero(), "zero unless open")
	}
}

// A background dependency check makes its own trials: once the dependency
// is back, readiness recovers without traffic, and the breaker's states
// go open, (half-open, open)*, half-open, closed.
func TestBackgroundDependencyRecovers(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	dep := newDependency(t)
	var runs atomic.Int64
	mustRegister(t, r, health.Readiness, "dep", dep.check(&runs),
		health.CheckOptions{Every: 5 * time.Millisecond, Breaker: health.BreakerSettings{Failures: 1, Open: 30 * time.Millisecond}})
	healthtest.WaitStatus(t, r, health.Readiness, health.StatusPass)
	dep.down.Store(true)
	rec.waitEvents(t, "the breaker to open", func(evs []health.Event) bool { return len(breakerStates(evs, "dep")) > 0 })
	assert.Equal(t, http.StatusServiceUnavailable, serve(r.Handler(health.Readiness), http.MethodGet, "/readyz").Code)
	dep.down.Store(false)
	healthtest.WaitStatus(t, r, health.Readiness, health.StatusPass)
	evs := rec.waitEvents(t, "the breaker to close", func(evs []health.Event) bool {
		s := breakerStates(evs, "dep")
		return len(s) > 0 && s[len(s)-1] == "closed"
	})
	states := breakerStates(evs, "dep")
	require.GreaterOrEqual(t, len(states), 3, "%v", states)
	assert.Equal(t, "open", states[0])
	assert.Equal(t, []string{"half-open", "closed"}, states[len(states)-2:])
	for i, s := range states[1 : len(states)-2] { // failed trials in between
		assert.Equal(t, []string{"half-open", "open"}[i%2], s, "%v", states)
	}
}
