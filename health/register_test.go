package health_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// panicky is a Checker whose every method call is counted: Register must
// call none of them.
type panicky struct{ calls *atomic.Int32 }

func (p panicky) Check(context.Context) error {
	p.calls.Add(1)
	panic("Register ran the check")
}

func TestRegisterRefuses(t *testing.T) {
	var nilFunc health.CheckFunc
	var nilDep health.DependencyFunc
	reason := errors.New("checks: Goroutines: limit must be positive, got 0")
	for _, tc := range []struct {
		name  string
		group health.Group
		check string
		c     health.Checker
		opts  []health.CheckOptions
		want  []error
	}{
		{"group zero", 0, "x", passing, nil, []error{health.ErrInvalidOption}},
		{"group out of range", health.Group(4), "x", passing, nil, []error{health.ErrInvalidOption}},
		{"empty name", health.Readiness, "", passing, nil, []error{health.ErrInvalidName}},
		{"64 characters", health.Readiness, strings.Repeat("a", 64), passing, nil, []error{health.ErrInvalidName}},
		{"space", health.Readiness, "my db", passing, nil, []error{health.ErrInvalidName}},
		{"slash", health.Readiness, "db/primary", passing, nil, []error{health.ErrInvalidName}},
		{"leading dash", health.Readiness, "-db", passing, nil, []error{health.ErrInvalidName}},
		{"leading dot", health.Readiness, ".db", passing, nil, []error{health.ErrInvalidName}},
		{"trailing dot", health.Readiness, "db.", passing, nil, []error{health.ErrInvalidName}},
		{"trailing underscore", health.Readiness, "db_", passing, nil, []error{health.ErrInvalidName}},
		{"lone dash", health.Readiness, "-", passing, nil, []error{health.ErrInvalidName}},
		{"non-ascii", health.Readiness, "dé", passing, nil, []error{health.ErrInvalidName}},
		{"colon", health.Readiness, "db:1", passing, nil, []error{health.ErrInvalidName}},
		{"own entry alive", health.Liveness, "alive", passing, nil, []error{health.ErrInvalidName}},
		{"own entry ready", health.Readiness, "ready", passing, nil, []error{health.ErrInvalidName}},
		{"own entry liveness", health.Readiness, "liveness", passing, nil, []error{health.ErrInvalidName}},
		{"own entry startup", health.Startup, "startup", passing, nil, []error{health.ErrInvalidName}},
		{"own entry in another group", health.Startup, "alive", passing, nil, []error{health.ErrInvalidName}},
		{"nil Checker", health.Readiness, "x", nil, nil, []error{health.ErrInvalidOption}},
		{"nil CheckFunc", health.Readiness, "x", nilFunc, nil, []error{health.ErrInvalidOption}},
		{"nil DependencyFunc", health.Readiness, "x", nilDep, nil, []error{health.ErrInvalidOption}},
		{"Misconfigured", health.Liveness, "x", health.Misconfigured(reason), nil, []error{health.ErrMisconfigured, reason}},
		{"Misconfigured(nil)", health.Readiness, "x", health.Misconfigured(nil), nil, []error{health.ErrMisconfigured}},
		{"dependency in liveness", health.Liveness, "x", health.DependencyFunc(passing), nil, []error{health.ErrDependencyGroup}},
		{"dependency in startup", health.Startup, "x", health.DependencyFunc(passing), nil, []error{health.ErrDependencyGroup}},
		{"negative timeout", health.Readiness, "x", passing, []health.CheckOptions{{Timeout: -1}}, []error{health.ErrInvalidOption}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			before := r.Contract()
			err := r.Register(tc.group, tc.check, tc.c, tc.opts...)
			require.Error(t, err)
			for _, want := range tc.want {
				require.ErrorIs(t, err, want)
			}
			assert.Contains(t, err.Error(), "health: register")
			// The registry is unchanged: the same contract, and every group
			// passes with only the registry's own entries.
			assert.Equal(t, before, r.Contract())
			for _, g := range []health.Group{health.Liveness, health.Readiness, health.Startup} {
				rep := report(t, r, g)
				assert.Equal(t, health.StatusPass, rep.Status, g)
				for _, c := range rep.Checks {
					assert.Contains(t, []string{"alive", "ready", "liveness", "startup"}, c.Name, g)
				}
			}
		})
	}
}

func TestRegisterRunsNoUserCode(t *testing.T) {
	r := openRegistry(t)
	var calls atomic.Int32
	mustRegister(t, r, health.Readiness, "lazy", panicky{&calls})
	assert.Zero(t, calls.Load(), "a check that runs on request first runs at the next probe")
	require.Error(t, r.Register(health.Liveness, "lazy", panicky{&calls}))
	require.Error(t, r.Register(health.Liveness, "bad name!", panicky{&calls}))
	assert.Zero(t, calls.Load(), "refusals call nothing either")
	e := entry(t, report(t, r, health.Readiness), "lazy")
	assert.ErrorIs(t, e.Err, health.ErrPanic, "the probe ran it, on a goroutine of the registry's")
	assert.Equal(t, int32(1), calls.Load())
}

func TestDependencyOutsideReadinessExplainsWhy(t *testing.T) {
	r := openRegistry(t)
	for _, g := range []health.Group{health.Liveness, health.Startup} {
		err := r.Register(g, "postgres", health.DependencyFunc(passing))
		require.ErrorIs(t, err, health.ErrDependencyGroup, g)
		assert.Contains(t, err.Error(), "restart", "the error says why")
		assert.Contains(t, err.Error(), "Readiness", "the error says what to do")
	}
	require.NoError(t, r.Register(health.Readiness, "postgres", health.DependencyFunc(passing)))
	_, err := r.Breaker("postgres")
	require.NoError(t, err, "a dependency in readiness runs behind a breaker")
}

func TestNamesAreUniqueAcrossGroups(t *testing.T) {
	r := openRegistry(t)
	mustRegister(t, r, health.Liveness, "db", passing)
	for _, g := range []health.Group{health.Liveness, health.Readiness, health.Startup} {
		err := r.Register(g, "db", failing)
		require.ErrorIs(t, err, health.ErrInvalidName, g)
		assert.Contains(t, err.Error(), "already registered")
	}
	// The first registration stands: nothing was replaced.
	assert.Equal(t, health.StatusPass, report(t, r, health.Liveness).Status)
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
	assert.Len(t, r.Contract().Checks, 1)
}

func TestValidNamesAreAccepted(t *testing.T) {
	r := openRegistry(t)
	valid := []string{"a", "0", "db", "Postgres-Primary", "redis.cache_1", "a-b.c_d", strings.Repeat("x", 63)}
	for _, name := range valid {
		require.NoError(t, r.Register(health.Readiness, name, passing), name)
	}
	assert.Len(t, report(t, r, health.Readiness).Checks, len(valid)+3) // plus ready, liveness, startup
}

func TestRegisterAfterCloseFails(t *testing.T) {
	r := health.New()
	require.NoError(t, r.Close())
	require.ErrorIs(t, r.Register(health.Readiness, "x", passing), health.ErrClosed)
	require.ErrorIs(t, r.Register(health.Readiness, "y", passing, health.CheckOptions{Every: time.Second}), health.ErrClosed)
	assert.Empty(t, r.Contract().Checks)
}

func TestStartupCheckAfterStartupCompletedIsRefused(t *testing.T) {
	t.Run("without startup checks, the first readiness probe completes startup", func(t *testing.T) {
		r := openRegistry(t)
		_ = report(t, r, health.Liveness) // liveness does not wait for startup
		_ = r.Latest(health.Startup)      // nor does reading
		mustRegister(t, r, health.Startup, "early", passing)

		r2 := openRegistry(t)
		_ = report(t, r2, health.Readiness)
		err := r2.Register(health.Startup, "late", passing)
		require.ErrorIs(t, err, health.ErrInvalidOption)
		assert.Contains(t, err.Error(), "startup has already completed")
		require.NoError(t, r2.Register(health.Readiness, "other", passing), "other groups still take checks")
	})
	t.Run("after its checks passed", func(t *testing.T) {
		r := openRegistry(t)
		mustRegister(t, r, health.Startup, "migrations", passing)
		assert.Equal(t, health.StatusPass, report(t, r, health.Startup).Status)
		require.ErrorIs(t, r.Register(health.Startup, "late", passing), health.ErrInvalidOption)
	})
	t.Run("a startup probe completes it too", func(t *testing.T) {
		r := openRegistry(t)
		_ = serve(r.Handler(health.Startup), "GET", "/startupz")
		require.ErrorIs(t, r.Register(health.Startup, "late", passing), health.ErrInvalidOption)
	})
}

func TestMisconfiguredCalledDirectly(t *testing.T) {
	reason := errors.New("checks: TCP: empty address")
	err := health.Misconfigured(reason).Check(context.Background())
	assert.ErrorIs(t, err, health.ErrMisconfigured)
	assert.ErrorIs(t, err, reason)
	assert.Contains(t, err.Error(), "empty address")
	assert.ErrorIs(t, health.Misconfigured(nil).Check(context.Background()), health.ErrMisconfigured)

	// A check that merely returns the same error is registered.
	r := openRegistry(t)
	mustRegister(t, r, health.Liveness, "plain", health.CheckFunc(func(context.Context) error { return reason }))
}

// A check's type decides what it is: CheckFunc and any other Checker join
// every group; only DependencyFunc gets a breaker.
func TestCheckerTypes(t *testing.T) {
	r := openRegistry(t)
	var calls atomic.Int32
	mustRegister(t, r, health.Liveness, "func", health.CheckFunc(func(context.Context) error { calls.Add(1); return nil }))
	mustRegister(t, r, health.Startup, "custom", newGateOpen())
	mustRegister(t, r, health.Readiness, "dep", health.DependencyFunc(func(context.Context) error { calls.Add(1); return nil }))
	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.StatusPass, rep.Status)
	assert.Equal(t, int32(2), calls.Load())
	assert.NotNil(t, entry(t, rep, "dep").Breaker)
	_, err := r.Breaker("func")
	assert.ErrorIs(t, err, health.ErrUnknownCheck, "no dependency check has that name")
	_, err = r.Breaker("nosuch")
	assert.ErrorIs(t, err, health.ErrUnknownCheck)
	assert.NoError(t, health.CheckFunc(passing).Check(context.Background()))
	assert.Error(t, health.DependencyFunc(failing).Check(context.Background()))
}

func newGateOpen() *gate {
	g := newGate(false)
	g.open()
	return g
}
