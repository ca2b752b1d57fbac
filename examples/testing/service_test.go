package testingexample_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/probe"

	testingexample "github.com/probekit/probekit/examples/testing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newService returns a service whose cache check runs every few
// milliseconds, closed when the test ends.
func newService(t *testing.T, db health.Checker) *testingexample.Service {
	t.Helper()
	s, err := testingexample.New(testingexample.Options{DB: db, CacheCheckEvery: 5 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// readyService returns a service that has settled ready.
func readyService(t *testing.T, db health.Checker) *testingexample.Service {
	t.Helper()
	s := newService(t, db)
	s.WarmCache()
	healthtest.WaitStatus(t, s.Health, health.Readiness, health.StatusPass)
	return s
}

// A background check settles without sleeps: WaitStatus returns as soon
// as the registry reports the status.
func TestCacheCheckSettles(t *testing.T) {
	s := newService(t, nil)
	r := healthtest.AssertStatus(t, s.Handler(), "/ready", http.StatusServiceUnavailable)
	assert.Equal(t, "fail", r.Checks["cache"].Status, "cold, or not run yet: both fail")

	s.WarmCache()
	rep := healthtest.WaitStatus(t, s.Health, health.Readiness, health.StatusPass)
	assert.Equal(t, health.StatusPass, rep.Status)
	healthtest.AssertStatus(t, s.Handler(), "/ready", http.StatusOK)
}

// MarkNotReady takes the service out of rotation; liveness does not care,
// and the application still answers.
func TestMarkNotReadyTakesItOutOfRotation(t *testing.T) {
	s := readyService(t, nil)
	s.Health.MarkNotReady("maintenance")
	r := healthtest.AssertStatus(t, s.Handler(), "/ready", http.StatusServiceUnavailable)
	assert.Equal(t, "fail", r.Checks["ready"].Status)
	healthtest.AssertStatus(t, s.Handler(), "/", http.StatusOK)
	healthtest.AssertStatus(t, s.Handler(), "/items", http.StatusOK)

	s.Health.MarkReady()
	healthtest.AssertStatus(t, s.Handler(), "/ready", http.StatusOK)
}

// MarkBroken fails liveness, and readiness with it: a broken process takes
// no traffic while it waits to be restarted.
func TestMarkBrokenFailsLiveness(t *testing.T) {
	s := readyService(t, nil)
	s.Health.MarkBroken("worker deadlocked")
	r := healthtest.AssertStatus(t, s.Handler(), "/", http.StatusServiceUnavailable)
	assert.Equal(t, "fail", r.Checks["alive"].Status)
	assert.Equal(t, "reason withheld", r.Checks["alive"].Output, "reasons stay out of HTTP")
	r = healthtest.AssertStatus(t, s.Handler(), "/ready", http.StatusServiceUnavailable)
	assert.Equal(t, "fail", r.Checks["liveness"].Status)

	// In-process, the reason is there to assert on.
	rep, err := s.Health.Check(t.Context(), health.Liveness)
	require.NoError(t, err)
	for _, c := range rep.Checks {
		if c.Name == "alive" {
			assert.ErrorIs(t, c.Err, health.ErrBroken)
			assert.ErrorContains(t, c.Err, "worker deadlocked")
		}
	}
}

// A database outage, played by a Switch registered as a dependency:
// readiness fails, liveness does not (a restart would not bring the
// database back), and the failure shows on the check's own path.
func TestDatabaseOutageFailsReadinessOnly(t *testing.T) {
	var db healthtest.Switch
	s := readyService(t, health.DependencyFunc(db.Check))

	db.Set(errors.New("dial tcp 10.0.0.5:5432: connection refused"))
	r := healthtest.AssertStatus(t, s.Handler(), "/ready", http.StatusServiceUnavailable)
	assert.Equal(t, "fail", r.Checks["db"].Status)
	assert.Equal(t, "closed", r.Checks["db"].Breaker, "one failure does not open the breaker")
	healthtest.AssertStatus(t, s.Handler(), "/readyz/db", http.StatusServiceUnavailable)
	healthtest.AssertStatus(t, s.Handler(), "/readyz?exclude=db", http.StatusOK)
	healthtest.AssertStatus(t, s.Handler(), "/", http.StatusOK)

	db.Set(nil)
	healthtest.AssertStatus(t, s.Handler(), "/ready", http.StatusOK)
}

// Repeated failures open the dependency's breaker: probes are then answered
// without calling the database at all.
func TestBreakerSparesTheDatabase(t *testing.T) {
	var db healthtest.Switch
	s := readyService(t, health.DependencyFunc(db.Check))
	failures := 0 // how many open the breaker: the default, which the contract states
	for _, c := range s.Health.Contract().Checks {
		if c.Name == "db" {
			failures = c.Breaker.Failures
		}
	}
	require.Positive(t, failures)
	db.Set(errors.New("timeout"))
	for range failures {
		healthtest.AssertStatus(t, s.Handler(), "/readyz/db", http.StatusServiceUnavailable)
	}
	runs := db.Runs()
	r := healthtest.AssertStatus(t, s.Handler(), "/readyz/db", http.StatusServiceUnavailable)
	assert.Equal(t, "open", r.Checks["db"].Breaker)
	assert.Equal(t, runs, db.Runs(), "an open breaker answers without running the check")
}

// Over a real socket: probe.WaitReady polls as the kubelet would, and
// returns once the service passes.
func TestReadyOverRealSocket(t *testing.T) {
	s := newService(t, nil)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	s.WarmCache()
	ctx, cancel := context.WithTimeout(t.Context(), healthtest.DefaultWait)
	defer cancel()
	require.NoError(t, probe.WaitReady(ctx, srv.URL+"/ready"))

	s.Health.MarkNotReady("maintenance")
	short, cancelShort := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancelShort()
	assert.Error(t, probe.WaitReady(short, srv.URL+"/ready"), "not ready: WaitReady gives up at the deadline")
}
