package health_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func pass(context.Context) error { return nil }

func report(t *testing.T, r *health.Registry, g health.Group) health.Report {
	t.Helper()
	rep, err := r.Check(context.Background(), g)
	require.NoError(t, err)
	return rep
}

func entry(rep health.Report, name string) (health.CheckResult, bool) {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return health.CheckResult{}, false
}

func TestRegisterRejectsBadInput(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name  string
		group health.Group
		check string
		fn    health.CheckFunc
		opts  []health.CheckOption
		want  error
	}{
		{"group zero", 0, "x", pass, nil, health.ErrInvalidGroup},
		{"group out of range", health.Group(9), "x", pass, nil, health.ErrInvalidGroup},
		{"empty name", health.Readiness, "", pass, nil, health.ErrInvalidName},
		{"long name", health.Readiness, long, pass, nil, health.ErrInvalidName},
		{"space", health.Readiness, "my db", pass, nil, health.ErrInvalidName},
		{"slash", health.Readiness, "db/primary", pass, nil, health.ErrInvalidName},
		{"leading dash", health.Readiness, "-db", pass, nil, health.ErrInvalidName},
		{"trailing dot", health.Readiness, "db.", pass, nil, health.ErrInvalidName},
		{"non-ascii", health.Readiness, "dé", pass, nil, health.ErrInvalidName},
		{"reserved ready", health.Readiness, health.EntryReady, pass, nil, health.ErrInvalidName},
		{"reserved liveness", health.Liveness, health.EntryLiveness, pass, nil, health.ErrInvalidName},
		{"reserved alive", health.Liveness, health.EntryAlive, pass, nil, health.ErrInvalidName},
		{"reserved startup", health.Startup, health.EntryStartup, pass, nil, health.ErrInvalidName},
		{"nil check", health.Readiness, "x", nil, nil, health.ErrNilCheck},
		{"zero option", health.Readiness, "x", pass, []health.CheckOption{{}}, health.ErrInvalidOption},
		{"zero timeout", health.Readiness, "x", pass, []health.CheckOption{health.Timeout(0)}, health.ErrInvalidOption},
		{"negative timeout", health.Readiness, "x", pass, []health.CheckOption{health.Timeout(-time.Second)}, health.ErrInvalidOption},
		{"zero interval", health.Readiness, "x", pass, []health.CheckOption{health.Every(0)}, health.ErrInvalidOption},
		{"tiny interval", health.Readiness, "x", pass, []health.CheckOption{health.Every(time.Microsecond)}, health.ErrInvalidOption},
		{"negative delay", health.Readiness, "x", pass, []health.CheckOption{health.Every(time.Second), health.InitialDelay(-1)}, health.ErrInvalidOption},
		{"delay without every", health.Readiness, "x", pass, []health.CheckOption{health.InitialDelay(time.Second)}, health.ErrInvalidOption},
		{"jitter without every", health.Readiness, "x", pass, []health.CheckOption{health.Jitter(0.1)}, health.ErrInvalidOption},
		{"jitter too big", health.Readiness, "x", pass, []health.CheckOption{health.Every(time.Second), health.Jitter(0.6)}, health.ErrInvalidOption},
		{"jitter NaN", health.Readiness, "x", pass, []health.CheckOption{health.Every(time.Second), health.Jitter(math.NaN())}, health.ErrInvalidOption},
		{"negative jitter", health.Readiness, "x", pass, []health.CheckOption{health.Every(time.Second), health.Jitter(-0.1)}, health.ErrInvalidOption},
		{"breaker without dependency", health.Readiness, "x", pass, []health.CheckOption{health.WithBreaker(gobreaker.Settings{})}, health.ErrInvalidOption},
		{"negative breaker timeout", health.Readiness, "x", pass, []health.CheckOption{health.Dependency(), health.WithBreaker(gobreaker.Settings{Timeout: -1})}, health.ErrInvalidOption},
		{"dependency in liveness", health.Liveness, "x", pass, []health.CheckOption{health.Dependency()}, health.ErrDependencyGroup},
		{"dependency in startup", health.Startup, "x", pass, []health.CheckOption{health.Dependency()}, health.ErrDependencyGroup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			err := r.Register(tc.group, tc.check, tc.fn, tc.opts...)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), "health: register")
			// Nothing was registered: every group still passes with only
			// the registry's own entries.
			for _, g := range health.Groups() {
				rep := report(t, r, g)
				assert.Equal(t, health.StatusPass, rep.Status, g)
				_, found := entry(rep, tc.check)
				assert.False(t, found && tc.check != "" && !strings.HasPrefix(tc.name, "reserved"), "check %q registered in %s", tc.check, g)
			}
		})
	}
}

func TestDependencyInLivenessExplainsWhy(t *testing.T) {
	r := openRegistry(t)
	err := r.Register(health.Liveness, "postgres", pass, health.Dependency())
	require.ErrorIs(t, err, health.ErrDependencyGroup)
	assert.Contains(t, err.Error(), "restart")
	assert.Contains(t, err.Error(), "Readiness")
}

func TestNamesAreUniqueAcrossGroups(t *testing.T) {
	r := openRegistry(t)
	require.NoError(t, r.Register(health.Liveness, "db", pass))
	for _, g := range health.Groups() {
		err := r.Register(g, "db", func(context.Context) error { return errors.New("replacement") })
		require.ErrorIs(t, err, health.ErrDuplicateName, g)
	}
	// The first registration still stands: nothing was overwritten.
	assert.Equal(t, health.StatusPass, report(t, r, health.Liveness).Status)
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
}

func TestValidNamesAreAccepted(t *testing.T) {
	r := openRegistry(t)
	for _, name := range []string{"a", "db", "Postgres-Primary", "redis.cache_1", "0", strings.Repeat("x", 63)} {
		require.NoError(t, r.Register(health.Readiness, name, pass), name)
	}
	assert.Len(t, report(t, r, health.Readiness).Checks, 6+3) // plus ready, liveness, startup
}

func TestRegisterAfterCloseFails(t *testing.T) {
	r := health.New()
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	require.ErrorIs(t, r.Register(health.Readiness, "x", pass), health.ErrClosed)
	require.ErrorIs(t, r.Register(health.Readiness, "y", pass, health.Every(time.Second)), health.ErrClosed)
}

func TestCheckRejectsInvalidGroup(t *testing.T) {
	r := openRegistry(t)
	_, err := r.Check(context.Background(), 0)
	require.ErrorIs(t, err, health.ErrInvalidGroup)
	_, err = r.WaitFor(context.Background(), 7, health.StatusPass)
	require.ErrorIs(t, err, health.ErrInvalidGroup)
}

func TestReadinessSwitch(t *testing.T) {
	r := openRegistry(t, health.StartNotReady("warming up"))
	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status)
	ready, _ := entry(rep, health.EntryReady)
	require.ErrorIs(t, ready.Err, health.ErrNotReady)
	assert.Contains(t, ready.Err.Error(), "warming up")
	assert.Equal(t, health.StatusPass, report(t, r, health.Liveness).Status, "liveness ignores readiness")

	r.SetReady(true)
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
	r.MarkNotReady("maintenance")
	ready, _ = entry(report(t, r, health.Readiness), health.EntryReady)
	assert.Contains(t, ready.Err.Error(), "maintenance")
	r.SetReady(false)
	assert.Equal(t, health.StatusFail, report(t, r, health.Readiness).Status)
}

func TestLivenessSwitchFailsBothGroups(t *testing.T) {
	r := openRegistry(t)
	r.MarkBroken("worker wedged")
	live := report(t, r, health.Liveness)
	require.Equal(t, health.StatusFail, live.Status)
	alive, _ := entry(live, health.EntryAlive)
	require.ErrorIs(t, alive.Err, health.ErrBroken)
	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status)
	gate, _ := entry(rep, health.EntryLiveness)
	require.ErrorIs(t, gate.Err, health.ErrGateFailed)
	r.SetAlive(true)
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
}

func TestSwitchesAreSafeForConcurrentUse(t *testing.T) {
	r := openRegistry(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				switch (i + j) % 4 {
				case 0:
					r.SetReady(j%2 == 0)
				case 1:
					r.MarkNotReady("x")
				case 2:
					_, _ = r.Check(context.Background(), health.Readiness)
				case 3:
					r.SetAlive(true)
				}
			}
		})
	}
	wg.Wait()
	r.SetReady(true)
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
}

func TestNonCriticalAndWarnReportWarn(t *testing.T) {
	r := openRegistry(t)
	require.NoError(t, r.Register(health.Readiness, "cache", func(context.Context) error { return errors.New("miss") }, health.NonCritical()))
	require.NoError(t, r.Register(health.Readiness, "cert", func(context.Context) error { return health.Warn(errors.New("expires in 5 days")) }))
	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.StatusWarn, rep.Status)
	cache, _ := entry(rep, "cache")
	cert, _ := entry(rep, "cert")
	assert.Equal(t, health.StatusWarn, cache.Status)
	assert.Equal(t, health.StatusWarn, cert.Status)
	assert.True(t, health.IsWarning(cert.Err))
	assert.Nil(t, health.Warn(nil))

	require.NoError(t, r.Register(health.Readiness, "db", func(context.Context) error { return errors.New("down") }))
	assert.Equal(t, health.StatusFail, report(t, r, health.Readiness).Status, "a critical failure outranks warnings")
}

func TestReadinessIncludesLivenessAndStartup(t *testing.T) {
	r := openRegistry(t)
	var liveErr, startErr error = errors.New("stuck"), errors.New("loading")
	var mu sync.Mutex
	get := func(p *error) health.CheckFunc {
		return func(context.Context) error { mu.Lock(); defer mu.Unlock(); return *p }
	}
	require.NoError(t, r.Register(health.Liveness, "loop", get(&liveErr)))
	require.NoError(t, r.Register(health.Startup, "warmup", get(&startErr)))

	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status)
	for _, name := range []string{health.EntryLiveness, health.EntryStartup} {
		e, ok := entry(rep, name)
		require.True(t, ok, name)
		assert.Equal(t, health.StatusFail, e.Status, name)
	}
	mu.Lock()
	liveErr = nil
	mu.Unlock()
	rep = report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status, "startup still incomplete")
	mu.Lock()
	startErr = nil
	mu.Unlock()
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
}

func TestStartupLatches(t *testing.T) {
	r := openRegistry(t)
	var mu sync.Mutex
	runs, fail := 0, true
	require.NoError(t, r.Register(health.Startup, "migrations", func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		runs++
		if fail {
			return errors.New("not yet")
		}
		return nil
	}))
	assert.Equal(t, health.StatusFail, report(t, r, health.Startup).Status)
	mu.Lock()
	fail = false
	mu.Unlock()
	assert.Equal(t, health.StatusPass, report(t, r, health.Startup).Status)
	mu.Lock()
	fail = true // would fail again, but startup has latched
	mu.Unlock()
	for range 5 {
		assert.Equal(t, health.StatusPass, report(t, r, health.Startup).Status)
		assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
	}
	mu.Lock()
	assert.Equal(t, 2, runs, "a latched startup check is not run again")
	mu.Unlock()
	err := r.Register(health.Startup, "late", pass)
	require.ErrorIs(t, err, health.ErrStartupComplete)
}

func TestStartupRegistrationOrderDoesNotMatter(t *testing.T) {
	r := openRegistry(t)
	ran := make(chan struct{}, 1)
	require.NoError(t, r.Register(health.Readiness, "bg", func(context.Context) error {
		select {
		case ran <- struct{}{}:
		default:
		}
		return nil
	}, health.Every(time.Hour)))
	<-ran // a background result arrived before any startup check exists
	require.NoError(t, r.Register(health.Startup, "warmup", pass))
	assert.Equal(t, health.StatusPass, report(t, r, health.Startup).Status)
}

func TestBackgroundStartupCheckStopsAfterPassing(t *testing.T) {
	r := openRegistry(t)
	var mu sync.Mutex
	runs := 0
	require.NoError(t, r.Register(health.Startup, "warmup", func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		runs++
		if runs < 3 {
			return errors.New("not yet")
		}
		return nil
	}, health.Every(time.Millisecond)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := r.WaitFor(ctx, health.Readiness, health.StatusPass)
	require.NoError(t, err)
	require.NoError(t, r.Close()) // waits for the loop, if it were still running
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 3, runs, "the loop ends at the first pass")
}

func TestPendingBackgroundCheck(t *testing.T) {
	r := openRegistry(t)
	release := make(chan struct{})
	defer close(release)
	block := func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}
	// A long initial delay keeps both checks pending.
	require.NoError(t, r.Register(health.Liveness, "live", block, health.Every(time.Hour), health.InitialDelay(time.Hour)))
	require.NoError(t, r.Register(health.Readiness, "ready-bg", block, health.Every(time.Hour), health.InitialDelay(time.Hour)))

	live := report(t, r, health.Liveness)
	assert.Equal(t, health.StatusPass, live.Status, "liveness assumes alive until told otherwise, like the kubelet")
	e, _ := entry(live, "live")
	assert.ErrorIs(t, e.Err, health.ErrPending)

	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.StatusFail, rep.Status, "readiness assumes not ready until told otherwise")
	e, _ = entry(rep, "ready-bg")
	assert.ErrorIs(t, e.Err, health.ErrPending)
}
