package health_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/health"
)

const year = 365 * 24 * time.Hour

func TestCheckOptionsValidation(t *testing.T) {
	dep := health.DependencyFunc(passing)
	for _, tc := range []struct {
		name string
		c    health.Checker
		opts health.CheckOptions
		ok   bool
	}{
		{"zero", passing, health.CheckOptions{}, true},
		{"negative timeout", passing, health.CheckOptions{Timeout: -time.Second}, false},
		{"a nanosecond timeout", passing, health.CheckOptions{Timeout: 1}, true},
		{"a year's timeout", passing, health.CheckOptions{Timeout: year}, true},
		{"timeout over a year", passing, health.CheckOptions{Timeout: year + 1}, false},
		{"huge timeout", passing, health.CheckOptions{Timeout: 1<<63 - 1}, false},
		{"negative every", passing, health.CheckOptions{Every: -time.Millisecond}, false},
		{"every below 1 ms", passing, health.CheckOptions{Every: time.Millisecond - 1}, false},
		{"every a microsecond", passing, health.CheckOptions{Every: time.Microsecond}, false},
		{"every 1 ms", passing, health.CheckOptions{Every: time.Millisecond}, true},
		{"every a year", passing, health.CheckOptions{Every: year}, true},
		{"every over a year", passing, health.CheckOptions{Every: year + 1}, false},
		{"breaker on a CheckFunc", passing, health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1}}, false},
		{"breaker on a custom Checker", newGateOpen(), health.CheckOptions{Breaker: health.BreakerSettings{Open: time.Second}}, false},
		{"breaker on a dependency", dep, health.CheckOptions{Breaker: health.BreakerSettings{Failures: 1, Open: time.Second, Trials: 2}}, true},
		{"negative failures", dep, health.CheckOptions{Breaker: health.BreakerSettings{Failures: -1}}, false},
		{"negative trials", dep, health.CheckOptions{Breaker: health.BreakerSettings{Trials: -1}}, false},
		{"negative open", dep, health.CheckOptions{Breaker: health.BreakerSettings{Open: -time.Second}}, false},
		{"open below 1 ms", dep, health.CheckOptions{Breaker: health.BreakerSettings{Open: time.Microsecond}}, false},
		{"open over a year", dep, health.CheckOptions{Breaker: health.BreakerSettings{Open: year + 1}}, false},
		{"open huge", dep, health.CheckOptions{Breaker: health.BreakerSettings{Open: 1<<63 - 1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			err := r.Register(health.Readiness, "x", tc.c, tc.opts)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, health.ErrInvalidOption)
			assert.Empty(t, r.Contract().Checks, "a refused check leaves nothing behind")
		})
	}
}

// contractCheck returns the contract's entry for name.
func contractCheck(t *testing.T, r *health.Registry, name string) contract.Check {
	t.Helper()
	for _, c := range r.Contract().Checks {
		if c.Name == name {
			return c
		}
	}
	require.FailNow(t, "no check "+name+" in the contract")
	return contract.Check{}
}

func TestCheckOptionsDefaults(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "plain", passing)
	mustRegister(t, r, health.Readiness, "dep", health.DependencyFunc(passing))
	plain := contractCheck(t, r, "plain")
	assert.Equal(t, contract.Duration(500*time.Millisecond), plain.Timeout, "Timeout defaults to 500 ms")
	assert.Zero(t, plain.Every, "runs on request")
	assert.False(t, plain.NonCritical)
	assert.False(t, plain.Dependency)
	assert.Nil(t, plain.Breaker)
	// The default timeout, at work.
	hung := newGate(false)
	defer hung.open()
	mustRegister(t, r, health.Readiness, "hung", hung)
	e := entry(t, report(t, r, health.Readiness, "hung"), "hung")
	assert.ErrorIs(t, e.Err, health.ErrTimeout)
	assert.Contains(t, e.Err.Error(), "after 500ms")
	assert.GreaterOrEqual(t, e.Duration, 500*time.Millisecond)

	dep := contractCheck(t, r, "dep")
	assert.True(t, dep.Dependency)
	require.NotNil(t, dep.Breaker)
	assert.Equal(t, contract.Breaker{Failures: 3, Open: contract.Duration(30 * time.Second), Jitter: 0.2, Trials: 1}, *dep.Breaker)
}

func TestSeveralCheckOptionsMerge(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Readiness, "db", health.DependencyFunc(passing),
		health.CheckOptions{Timeout: time.Second, Every: time.Hour, Breaker: health.BreakerSettings{Failures: 5, Open: time.Minute}},
		health.CheckOptions{NonCritical: true, Breaker: health.BreakerSettings{Trials: 2}},
		health.CheckOptions{Timeout: 2 * time.Second, Breaker: health.BreakerSettings{Failures: 7}},
		health.CheckOptions{}, // zero fields override nothing
	)
	db := contractCheck(t, r, "db")
	assert.Equal(t, contract.Duration(2*time.Second), db.Timeout, "the later Timeout wins")
	assert.Equal(t, contract.Duration(time.Hour), db.Every, "an earlier field stands when later ones are zero")
	assert.True(t, db.NonCritical)
	require.NotNil(t, db.Breaker)
	assert.Equal(t, 7, db.Breaker.Failures)
	assert.Equal(t, contract.Duration(time.Minute), db.Breaker.Open)
	assert.Equal(t, 2, db.Breaker.Trials)

	// A merged value is validated as a whole: a later valid field does not
	// hide an earlier invalid one.
	err := r.Register(health.Readiness, "bad", passing, health.CheckOptions{Every: time.Microsecond}, health.CheckOptions{Timeout: time.Second})
	assert.ErrorIs(t, err, health.ErrInvalidOption)
	// Nor a later one the earlier: a Breaker on a CheckFunc is refused
	// wherever it comes.
	err = r.Register(health.Readiness, "bad", passing, health.CheckOptions{}, health.CheckOptions{Breaker: health.BreakerSettings{Trials: 1}})
	assert.ErrorIs(t, err, health.ErrInvalidOption)
}

func TestSeveralOptionsMerge(t *testing.T) {
	firstLog, first := newLog()
	secondLog, second := newLog()
	r := openRegistry(t,
		health.Options{Logger: first, StartNotReady: "warming up", ShowDetails: func(*http.Request) bool { return false }},
		health.Options{Logger: second, ShowDetails: func(*http.Request) bool { return true }},
		health.Options{StartNotReady: "loading the model"},
		health.Options{},
	)
	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.StatusFail, rep.Status)
	ready := entry(t, rep, "ready")
	assert.ErrorIs(t, ready.Err, health.ErrNotReady)
	assert.Contains(t, ready.Err.Error(), "loading the model", "the later StartNotReady wins")
	assert.NotContains(t, ready.Err.Error(), "warming up")
	assert.True(t, r.Contract().StartsNotReady)

	body := serve(r.Handler(health.Readiness), "GET", "/readyz?verbose").Body.String()
	assert.Contains(t, body, "loading the model", "the later ShowDetails wins")

	r.MarkBroken("wedged")
	secondLog.wait(t, "the later logger hears of MarkBroken", func(rec map[string]any) bool {
		return rec["check"] == "alive" && rec["to"] == "fail"
	})
	assert.Zero(t, firstLog.count(t, func(map[string]any) bool { return true }), "the earlier logger is replaced")
}

func TestSeveralMountOptionsMerge(t *testing.T) {
	r := openRegistry(t)
	routes, err := r.Routes(
		health.MountOptions{Prefix: "/a", Paths: []string{"/", "/ready"}},
		health.MountOptions{Prefix: "/b"},
		health.MountOptions{Paths: []string{"/readyz", "/readyz/{check}"}},
		health.MountOptions{},
	)
	require.NoError(t, err)
	var patterns []string
	for _, rt := range routes {
		patterns = append(patterns, rt.Pattern)
	}
	assert.Equal(t, []string{"/b/readyz", "/b/readyz/{check}"}, patterns)
}

func TestNewWithoutOptions(t *testing.T) {
	r := openRegistry(t)
	for _, g := range []health.Group{health.Liveness, health.Readiness, health.Startup} {
		assert.Equal(t, health.StatusPass, report(t, r, g).Status, "every group passes until checks are registered")
	}
	assert.False(t, r.Contract().StartsNotReady)
	assert.NotContains(t, serve(r.Handler(health.Readiness), "GET", "/").Body.String(), "output",
		"nothing to withhold")
	r.MarkNotReady("maintenance")
	assert.NotContains(t, serve(r.Handler(health.Readiness), "GET", "/readyz?verbose").Body.String(), "maintenance",
		"without ShowDetails, reasons are withheld")
	_, err := r.Check(context.Background(), health.Readiness)
	assert.NoError(t, err)
}
