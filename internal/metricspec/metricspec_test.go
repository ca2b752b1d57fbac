package metricspec_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/internal/metricspec"
	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestIsTransition(t *testing.T) {
	group := func(from, to health.Status) health.Event {
		return health.Event{Group: health.Readiness, From: from, To: to}
	}
	assert.True(t, metricspec.IsTransition(group(health.StatusPass, health.StatusFail)))
	assert.True(t, metricspec.IsTransition(group(health.StatusFail, health.StatusWarn)))
	assert.False(t, metricspec.IsTransition(group(health.StatusUnknown, health.StatusPass)), "first sight of a group")
	assert.False(t, metricspec.IsTransition(group(health.StatusFail, health.StatusFail)), "pending status confirmed")
	assert.False(t, metricspec.IsTransition(group(health.StatusPass, health.StatusUnknown)), "not a label value")
	check := group(health.StatusPass, health.StatusFail)
	check.Check = "db"
	assert.False(t, metricspec.IsTransition(check), "a check's event")
	breaker := group(health.StatusUnknown, health.StatusUnknown)
	breaker.Check, breaker.Breaker = "db", &health.BreakerStatus{State: gobreaker.StateOpen}
	assert.False(t, metricspec.IsTransition(breaker), "a breaker's event")
}

func TestGauges(t *testing.T) {
	assert.Equal(t, 1, metricspec.Up(health.StatusPass))
	assert.Equal(t, 1, metricspec.Up(health.StatusWarn), "warn is served with 200")
	assert.Equal(t, 0, metricspec.Up(health.StatusFail))
	assert.Equal(t, 0, metricspec.Up(health.StatusUnknown))
	assert.Equal(t, 1, metricspec.Is(health.StatusWarn, health.StatusWarn))
	assert.Equal(t, 0, metricspec.Is(health.StatusWarn, health.StatusPass))
}

func TestIndexes(t *testing.T) {
	for i, r := range metricspec.Results {
		assert.Equal(t, i, metricspec.ResultIndex(r), r.String())
		assert.Equal(t, r != health.RunBreakerOpen, metricspec.Timed(health.Run{Result: r}), r.String())
	}
	assert.Equal(t, -1, metricspec.ResultIndex(health.RunResult(255)), "a result the documentation does not list")
	assert.Equal(t, -1, metricspec.ResultIndex(0))
	for i, s := range metricspec.BreakerStates {
		assert.Equal(t, i, metricspec.BreakerIndex(s), s.String())
	}
	assert.Equal(t, -1, metricspec.BreakerIndex(gobreaker.State(7)))
	for i, s := range metricspec.Statuses {
		assert.Equal(t, i, metricspec.StatusIndex(s), s.String())
	}
	assert.Equal(t, -1, metricspec.StatusIndex(health.StatusUnknown))
	for i, g := range metricspec.Groups {
		assert.Equal(t, health.Group(i+1), g, "Groups is indexed by Group-1")
	}
}

// Bucket follows Prometheus: upper bounds are inclusive.
func TestBucket(t *testing.T) {
	last := len(metricspec.DurationBuckets)
	for _, tc := range []struct {
		seconds float64
		want    int
	}{{0, 0}, {0.0005, 0}, {0.00050001, 1}, {0.5, 9}, {0.7, 10}, {10, last - 1}, {10.5, last}} {
		assert.Equal(t, tc.want, metricspec.Bucket(tc.seconds), "%v s", tc.seconds)
	}
}

func TestRunEnd(t *testing.T) {
	start := time.Unix(1000, 0)
	assert.Equal(t, int64(1001e9), metricspec.RunEnd(health.Run{Start: start, Duration: time.Second}))
}

func TestStoreMaxOnlyMovesForward(t *testing.T) {
	var v atomic.Int64
	metricspec.StoreMax(&v, 10)
	metricspec.StoreMax(&v, 5)
	assert.Equal(t, int64(10), v.Load())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for n := range int64(1000) {
				metricspec.StoreMax(&v, n*8+int64(i))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(999*8+7), v.Load())
}

// Entries makes each entry once, as a check or not, and Registered tells
// the checks from the registry's own entries by the contract.
func TestEntries(t *testing.T) {
	reg := health.New()
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(healthtest.Fixed(nil))))
	type made struct {
		k     metricspec.Key
		check bool
	}
	var calls atomic.Int64
	x := metricspec.Entries[made]{New: func(k metricspec.Key, check bool) *made {
		calls.Add(1)
		return &made{k, check}
	}}
	registered := metricspec.Registered{Registry: reg}
	db := metricspec.Key{Group: health.Readiness, Name: "db"}
	ready := metricspec.Key{Group: health.Readiness, Name: "ready"}
	assert.Equal(t, &made{db, true}, x.Entry(db, &registered))
	assert.Equal(t, &made{ready, false}, x.Entry(ready, &registered), "the readiness switch is no check")
	assert.Same(t, x.Entry(db, &registered), x.Check(db), "one entry per key")
	run := metricspec.Key{Group: health.Liveness, Name: "goroutines"}
	assert.True(t, x.Check(run).check, "only checks run")

	var wg sync.WaitGroup
	got := make([]*made, 8)
	for i := range got {
		wg.Go(func() { got[i] = x.Check(metricspec.Key{Group: health.Startup, Name: "migrations"}) })
	}
	wg.Wait()
	for _, e := range got {
		assert.Same(t, got[0], e)
	}
	assert.Equal(t, int64(4), calls.Load(), "db, ready, goroutines, migrations: each made once")
}

func TestSeedTakesPassingChecksOnly(t *testing.T) {
	reg := health.New()
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	require.NoError(t, reg.Register(health.Readiness, "up", healthtest.Fixed(nil)))
	require.NoError(t, reg.Register(health.Readiness, "down", healthtest.Fixed(context.Canceled)))
	require.NoError(t, reg.Register(health.Readiness, "never", healthtest.Fixed(nil)))
	_, err := reg.Check(context.Background(), health.Readiness, "up", "down")
	require.NoError(t, err)
	var verdict time.Time
	for _, e := range reg.Latest(health.Readiness).Checks {
		if e.Name == "up" {
			verdict = e.Time
		}
	}

	got := make(map[metricspec.Key]int64)
	metricspec.Seed(reg, &metricspec.Registered{Registry: reg}, func(k metricspec.Key, unixNano int64) { got[k] = unixNano })
	want := map[metricspec.Key]int64{{Group: health.Readiness, Name: "up"}: verdict.UnixNano()}
	assert.Equal(t, want, got, "neither the failing nor the pending check, nor the readiness switch's entry")
}
