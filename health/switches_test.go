package health_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestReadinessSwitch(t *testing.T) {
	logs, logger := newLog()
	r := openRegistry(t, health.Options{Logger: logger, StartNotReady: "warming up"})
	mustRegister(t, r, health.Readiness, "db", passing)
	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status, "StartNotReady: readiness fails until MarkReady")
	ready := entry(t, rep, "ready")
	require.ErrorIs(t, ready.Err, health.ErrNotReady)
	assert.Contains(t, ready.Err.Error(), "warming up")
	assert.Equal(t, health.StatusPass, entry(t, rep, "db").Status, "whatever the checks say")
	assert.Equal(t, health.StatusPass, report(t, r, health.Liveness).Status, "liveness ignores the readiness switch")
	assert.False(t, rep.Draining)

	r.MarkReady()
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
	before := time.Now()
	r.MarkNotReady("maintenance")
	after := time.Now()
	rep = report(t, r, health.Readiness)
	assert.Equal(t, health.StatusFail, rep.Status)
	ready = entry(t, rep, "ready")
	assert.ErrorIs(t, ready.Err, health.ErrNotReady)
	assert.Contains(t, ready.Err.Error(), "maintenance")
	assert.False(t, ready.Time.Before(before) || ready.Time.After(after), "Time is when the switch was last set")
	assert.False(t, rep.Draining, "MarkNotReady is not a drain")
	logs.wait(t, "the reason in the log", func(rec map[string]any) bool {
		msg, _ := rec["error"].(string)
		return rec["check"] == "ready" && rec["to"] == "fail" && containsAll(msg, "maintenance")
	})
	assert.NotContains(t, serve(r.Handler(health.Readiness), http.MethodGet, "/readyz?verbose").Body.String(), "maintenance",
		"the reason is shown only to requests allowed details")
	r.MarkReady()
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
}

func TestMarkBrokenIsFinal(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Liveness, "loop", passing)
	r.MarkBroken("worker wedged")
	live := report(t, r, health.Liveness)
	require.Equal(t, health.StatusFail, live.Status)
	alive := entry(t, live, "alive")
	require.ErrorIs(t, alive.Err, health.ErrBroken)
	assert.Contains(t, alive.Err.Error(), "worker wedged")
	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status, "readiness fails while liveness does")
	gate := entry(t, rep, "liveness")
	assert.Equal(t, health.StatusFail, gate.Status)
	assert.ErrorIs(t, gate.Err, health.ErrNotReady)

	// Nothing turns it back on.
	r.MarkReady()
	r.MarkBroken("another reason")
	r.MarkNotReady("x")
	r.MarkReady()
	alive = entry(t, report(t, r, health.Liveness), "alive")
	assert.Equal(t, health.StatusFail, alive.Status)
	assert.Contains(t, alive.Err.Error(), "worker wedged", "the first reason stands")
	assert.Equal(t, health.StatusFail, report(t, r, health.Readiness).Status)
}

func TestDrainFailsReadinessOnlyAndWaits(t *testing.T) {
	r := openRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Drain(ctx, time.Hour) }()
	rep := waitReport(t, r, health.Readiness, func(rep health.Report) bool { return rep.Draining })
	assert.Equal(t, health.StatusFail, rep.Status)
	ready := entry(t, rep, "ready")
	assert.ErrorIs(t, ready.Err, health.ErrNotReady)
	assert.Contains(t, ready.Err.Error(), "shutting down")
	assert.Equal(t, health.StatusPass, report(t, r, health.Liveness).Status, "liveness keeps passing")
	select {
	case <-done:
		t.Fatal("Drain returned before its delay")
	default:
	}
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "ctx ended the wait")
	assert.NoError(t, r.Drain(context.Background(), 0))
	assert.True(t, r.Latest(health.Readiness).Draining)

	const delay = 30 * time.Millisecond
	start := time.Now()
	assert.NoError(t, r.Drain(context.Background(), delay))
	assert.GreaterOrEqual(t, time.Since(start), delay)
}

// waitReport waits, through Changed, until ok holds of Latest(g).
func waitReport(t testing.TB, r *health.Registry, g health.Group, ok func(health.Report) bool) health.Report {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		ch := r.Changed()
		if rep := r.Latest(g); ok(rep) {
			return rep
		}
		select {
		case <-ch:
		case <-deadline.C:
			require.FailNow(t, "timed out waiting for a report", "%+v", r.Latest(g))
		}
	}
}

// Drain is final: a late MarkReady (a warm-up finishing) must not put a
// process that is shutting down back into rotation, even racing Drain.
func TestDrainIsFinalEvenRacingMarkReady(t *testing.T) {
	logs, logger := newLog()
	for i := range 50 {
		opts := health.Options{}
		if i == 0 {
			opts.Logger = logger
		}
		r := health.New(opts)
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					r.MarkReady()
					r.MarkNotReady("flapping")
				}
			})
		}
		require.NoError(t, r.Drain(context.Background(), 0))
		for range 100 {
			r.MarkReady()
		}
		stop.Store(true)
		wg.Wait()
		rep := report(t, r, health.Readiness)
		assert.True(t, rep.Draining)
		assert.Equal(t, health.StatusFail, rep.Status, "round %d", i)
		assert.Contains(t, entry(t, rep, "ready").Err.Error(), "shutting down", "round %d: MarkNotReady after Drain is ignored", i)
		code := serve(r.Handler(health.Readiness), http.MethodGet, "/ready").Code
		assert.Equal(t, http.StatusServiceUnavailable, code)
		require.NoError(t, r.Close())
	}
	logs.wait(t, "the ignored MarkReady in the log", msgContains("MarkReady ignored"))
}

func TestReadinessIncludesLivenessAndStartup(t *testing.T) {
	r := openRegistry(t)
	var live, start checkSwitch
	live.set(true)
	start.set(true)
	mustRegister(t, r, health.Liveness, "loop", &live)
	mustRegister(t, r, health.Startup, "warmup", &start)

	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status)
	for _, name := range []string{"liveness", "startup"} {
		e := entry(t, rep, name)
		assert.Equal(t, health.StatusFail, e.Status, name)
		assert.ErrorIs(t, e.Err, health.ErrNotReady, name)
	}
	assert.Contains(t, entry(t, rep, "startup").Err.Error(), "startup has not completed")
	live.set(false)
	rep = report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status, "startup still incomplete")
	assert.Equal(t, health.StatusPass, entry(t, rep, "liveness").Status)
	start.set(false)
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
	live.set(true)
	assert.Equal(t, health.StatusFail, report(t, r, health.Readiness).Status, "readiness runs liveness's checks")
}

// checkSwitch is a check that fails while set.
type checkSwitch struct {
	failing atomic.Bool
	runs    atomic.Int32
}

func (s *checkSwitch) set(fail bool) { s.failing.Store(fail) }

func (s *checkSwitch) Check(context.Context) error {
	s.runs.Add(1)
	if s.failing.Load() {
		return errSwitch
	}
	return nil
}

func TestStartupLatches(t *testing.T) {
	r := openRegistry(t)
	var migrations, cache checkSwitch
	migrations.set(true)
	mustRegister(t, r, health.Startup, "migrations", &migrations)
	mustRegister(t, r, health.Startup, "cache", &cache, health.CheckOptions{NonCritical: true})
	assert.Equal(t, health.StatusFail, report(t, r, health.Startup).Status)
	assert.Equal(t, int32(1), cache.runs.Load())
	assert.Equal(t, health.StatusFail, report(t, r, health.Startup).Status)
	assert.Equal(t, int32(1), cache.runs.Load(), "a startup check that passed is not run again")
	migrations.set(false)
	assert.Equal(t, health.StatusPass, report(t, r, health.Startup).Status)
	migrations.set(true) // would fail again, but startup has latched
	cache.set(true)
	p := serveProbes(t, r)
	for range 5 {
		assert.Equal(t, health.StatusPass, report(t, r, health.Startup).Status)
		assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
		for _, path := range []string{"/ready", "/readyz", "/startupz", "/startupz/migrations", "/readyz/startup"} {
			assert.Equal(t, http.StatusOK, p.get(path).code, path)
		}
	}
	assert.Equal(t, int32(3), migrations.runs.Load(), "a latched startup check is not run again")
	assert.Equal(t, int32(1), cache.runs.Load())
	assert.Equal(t, http.StatusOK, p.get("/livez").code)
}

func TestSwitchesAreSafeForConcurrentUse(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", passing)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				switch (i + j) % 4 {
				case 0:
					r.MarkReady()
				case 1:
					r.MarkNotReady("x")
				case 2:
					_, _ = r.Check(context.Background(), health.Readiness)
				case 3:
					_ = r.Latest(health.Liveness)
				}
			}
		})
	}
	wg.Wait()
	r.MarkReady()
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
}
