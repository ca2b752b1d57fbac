package metricspec_test

import (
	"context"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
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
	breaker := group(health.StatusPass, health.StatusFail)
	breaker.Breaker = &health.BreakerChange{From: gobreaker.StateClosed, To: gobreaker.StateOpen}
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

func TestRunsRecorded(t *testing.T) {
	for _, r := range metricspec.Results {
		assert.True(t, metricspec.Counted(health.Run{Result: r}), r.String())
		assert.Equal(t, r != health.RunBreakerOpen, metricspec.Timed(health.Run{Result: r}), r.String())
	}
	assert.False(t, metricspec.Counted(health.Run{Result: health.RunResult(255)}), "a result the documentation does not list")
}

func TestLastSuccessOnlyMovesForward(t *testing.T) {
	var l metricspec.LastSuccess
	assert.Empty(t, l.Snapshot(), "the zero value is empty")
	start := time.Unix(1000, 0)
	key := metricspec.Key{Group: health.Readiness, Name: "db"}
	l.Record(health.Run{Group: health.Readiness, Check: "db", Result: health.RunPass, Start: start, Duration: time.Second})
	assert.Equal(t, map[metricspec.Key]float64{key: 1001}, l.Snapshot(), "the end of the run")
	l.Record(health.Run{Group: health.Readiness, Check: "db", Result: health.RunPass, Start: start.Add(-time.Hour)})
	l.Record(health.Run{Group: health.Readiness, Check: "db", Result: health.RunFail, Start: start.Add(time.Hour)})
	assert.Equal(t, map[metricspec.Key]float64{key: 1001}, l.Snapshot(), "an older pass and a failure change nothing")

	snap := l.Snapshot()
	snap[key] = 0
	assert.Equal(t, float64(1001), l.Snapshot()[key], "Snapshot is a copy")
}

func TestSeedTakesPassingChecksOnly(t *testing.T) {
	reg := health.New()
	t.Cleanup(func() { _ = reg.Close() })
	require.NoError(t, reg.Register(health.Readiness, "up", func(context.Context) error { return nil }))
	require.NoError(t, reg.Register(health.Readiness, "down", func(context.Context) error { return context.Canceled }))
	_, _ = reg.Check(context.Background(), health.Readiness)

	var l metricspec.LastSuccess
	l.Seed(reg)
	got := l.Snapshot()
	assert.Contains(t, got, metricspec.Key{Group: health.Readiness, Name: "up"})
	assert.Len(t, got, 1, "neither the failing check nor the readiness switch's entry: %v", got)
}
