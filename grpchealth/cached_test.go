package grpchealth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// waitEntries waits, on the registry's changes, until each named check
// has the status its switch gives it: pass for nil (a pending liveness
// check passes, and its first result, a pass, is no change to wait for),
// fail from a run otherwise (a pending readiness check fails already, and
// its first failing result is announced).
func waitEntries(t *testing.T, reg *health.Registry, want map[string]error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		changed := reg.Changed()
		ok := true
		for _, g := range []health.Group{health.Liveness, health.Readiness, health.Startup} {
			for _, c := range reg.Latest(g).Checks {
				if err, named := want[c.Name]; named && ((err == nil) != (c.Status == health.StatusPass) || err != nil && c.Time.IsZero()) {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("the checks never settled: %v", want)
		}
	}
}

// TestBackgroundCheckAgreesWithHTTP is TestCheckAgreesWithHTTP with
// background checks, whose statuses Check answers from what the server
// keeps between the registry's changes: it must agree with HTTP in every
// state, on every name.
func TestBackgroundCheckAgreesWithHTTP(t *testing.T) {
	reg := openRegistry(t)
	var live, ready, start healthtest.Switch
	bg := health.CheckOptions{Every: 2 * time.Millisecond}
	start.Set(healthtest.ErrSwitchedOff) // before its first run: startup latches once passed
	require.NoError(t, reg.Register(health.Liveness, "loop", &live, bg))
	require.NoError(t, reg.Register(health.Readiness, "db", &ready, bg))
	require.NoError(t, reg.Register(health.Startup, "warmup", &start, bg))
	e := serve(t, reg, grpchealth.Settings{})
	fail := healthtest.ErrSwitchedOff
	for _, state := range []struct {
		name              string
		live, ready, warm error
		notReady          bool
		server            healthpb.HealthCheckResponse_ServingStatus // of ""
	}{
		{name: "startup failing", warm: fail, server: notServing},
		{name: "all pass", server: serving},
		{name: "dependency fails", ready: fail, server: notServing},
		{name: "liveness fails", live: fail, server: notServing},
		{name: "switched not ready", notReady: true, server: notServing},
		{name: "all pass again", server: serving},
	} {
		t.Run(state.name, func(t *testing.T) {
			live.Set(state.live)
			ready.Set(state.ready)
			start.Set(state.warm)
			if state.notReady {
				reg.MarkNotReady("test")
			} else {
				reg.MarkReady()
			}
			want := map[string]error{"loop": state.live, "db": state.ready, "warmup": state.warm}
			waitEntries(t, reg, want)
			assert.Equal(t, state.server, e.mustCheck(t, ""))
			for name, path := range httpPath {
				code := e.httpCode(t, path)
				for range 3 { // the first may record the probe, the next are answered from the view
					got := e.mustCheck(t, name)
					assert.Equal(t, code == http.StatusOK, got == serving, "gRPC %q says %v, HTTP %s says %d", name, got, path, code)
				}
			}
		})
	}
}

// TestCachedCheckRecordsProbe: a Check answered without running anything
// still counts as a probe, as an HTTP request does: Report.LastProbed moves
// (at most once a second), and a readiness probe completes a startup that
// has no checks, so that a startup check registered afterwards is refused.
func TestCachedCheckRecordsProbe(t *testing.T) {
	reg := openRegistry(t)
	e := serve(t, reg, grpchealth.Settings{})
	assert.True(t, reg.Latest(health.Readiness).LastProbed.IsZero())
	before := time.Now()
	assert.Equal(t, serving, e.mustCheck(t, ""))
	assert.False(t, reg.Latest(health.Readiness).LastProbed.Before(before), "recorded")
	err := reg.Register(health.Startup, "late-warmup", healthtest.Fixed(nil))
	assert.ErrorIs(t, err, health.ErrInvalidOption, "startup was seen to pass: it latched")
	assert.True(t, reg.Latest(health.Liveness).LastProbed.IsZero(), "only the group asked for")
	assert.Equal(t, serving, e.mustCheck(t, "liveness"))
	assert.False(t, reg.Latest(health.Liveness).LastProbed.IsZero())
}

// TestPanickingChecks: checks that panic, run on request or in the
// background, are failed runs (health.ErrPanic) for every protocol and
// every RPC; the server goes on serving.
func TestPanickingChecks(t *testing.T) {
	reg := openRegistry(t)
	boom := health.CheckFunc(func(context.Context) error { panic("boom") })
	require.NoError(t, reg.Register(health.Readiness, "on-request", boom))
	require.NoError(t, reg.Register(health.Readiness, "background", boom, health.CheckOptions{Every: time.Millisecond}))
	require.NoError(t, reg.Register(health.Liveness, "fine", healthtest.Fixed(nil)))
	e := serve(t, reg, grpchealth.Settings{WatchPoll: time.Millisecond})
	healthtest.WaitStatus(t, reg, health.Readiness, health.StatusFail)
	w, bg := watch(t, e.client, "on-request"), watch(t, e.client, "background")
	assert.Equal(t, notServing, w.next(t))
	assert.Equal(t, notServing, bg.next(t))
	for _, name := range []string{"", "readiness", "on-request", "background"} {
		assert.Equal(t, notServing, e.mustCheck(t, name), "Check %q", name)
	}
	got, err := list(t, e)
	require.NoError(t, err)
	assert.Equal(t, notServing, got["on-request"])
	assert.Equal(t, serving, got["liveness"])
	assert.Equal(t, serving, e.mustCheck(t, "fine"))
	rep, err := reg.Check(context.Background(), health.Readiness, "on-request", "background")
	require.NoError(t, err)
	for _, c := range rep.Checks {
		assert.ErrorIs(t, c.Err, health.ErrPanic, c.Name)
	}
}

// TestClosedRegistry: closing the registry ends Watch streams as Shutdown
// does, and every name answers NOT_SERVING from then on.
func TestClosedRegistry(t *testing.T) {
	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Liveness, "fine", healthtest.Fixed(nil), health.CheckOptions{Every: time.Hour}))
	e := serve(t, reg, grpchealth.Settings{})
	live, ready := watch(t, e.client, "liveness"), watch(t, e.client, "")
	require.Equal(t, serving, live.next(t))
	require.Equal(t, serving, ready.next(t))
	require.NoError(t, reg.Close())
	for _, w := range []*watchStream{live, ready} {
		assert.Equal(t, notServing, w.next(t))
		_, err := w.recv()
		assert.Equal(t, "Unavailable", statusCode(err))
	}
	for _, name := range []string{"", "liveness", "fine"} {
		assert.Equal(t, notServing, e.mustCheck(t, name), "Check %q", name)
	}
	_, err := watch(t, e.client, "").recv()
	assert.Equal(t, "Unavailable", statusCode(err), "a new watch ends at once")
	got, err := list(t, e)
	require.NoError(t, err)
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": notServing, "liveness": notServing, "readiness": notServing, "startup": notServing, "fine": notServing}, got)
}
