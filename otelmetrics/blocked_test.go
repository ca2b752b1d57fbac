package otelmetrics

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

const waitLimit = 10 * time.Second

type countingCheck struct{ calls atomic.Int64 }

func (c *countingCheck) Check(context.Context) error { c.calls.Add(1); return nil }

func probe(t *testing.T, reg *health.Registry, g health.Group, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	rep, err := reg.Check(ctx, g, names...)
	require.NoError(t, err)
	require.Equal(t, health.StatusPass, rep.Status)
}

// newMetrics records reg with a fresh SDK provider and returns how to
// count the recorded runs of a check.
func newMetrics(t *testing.T, reg *health.Registry) (*Metrics, func(name string) int64) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { assert.NoError(t, mp.Shutdown(context.Background())) })
	m, err := New(reg, mp)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, m.Close()) })
	return m, func(name string) int64 {
		var rm metricdata.ResourceMetrics
		require.NoError(t, reader.Collect(context.Background(), &rm))
		var n int64
		for _, sm := range rm.ScopeMetrics {
			for _, mt := range sm.Metrics {
				if s, ok := mt.Data.(metricdata.Sum[int64]); ok && mt.Name == "probekit.healthchecks" {
					for _, dp := range s.DataPoints {
						if v, _ := dp.Attributes.Value("name"); v.AsString() == name {
							n += dp.Value
						}
					}
				}
			}
		}
		return n
	}
}

// Instruments whose observer is stuck cost probes nothing: every probe
// completes while it is stuck, the runs that did not fit in the registry's
// queue for it are lost, and recording resumes once it is unstuck.
func TestBlockedMetricsDoNotBlockProbes(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	m, runs := newMetrics(t, reg)
	// The observer gets stuck making the entry of "flood", at its first run.
	makeEntry, entered, unblock := m.entries.New, make(chan struct{}), make(chan struct{})
	m.entries.New = func(k metricspec.Key, check bool) *entry {
		if k.Name == "flood" {
			close(entered)
			<-unblock
		}
		return makeEntry(k, check)
	}
	flood := new(countingCheck)
	require.NoError(t, reg.Register(health.Liveness, "flood", flood))
	require.NoError(t, reg.Register(health.Readiness, "marker", new(countingCheck)))

	probe(t, reg, health.Liveness)
	select {
	case <-entered:
	case <-time.After(waitLimit):
		t.Fatal("the observer never got the first run")
	}
	const probes = 6000 // more runs than the registry queues for one observer (4096)
	for range probes {
		probe(t, reg, health.Liveness)
	}
	require.Equal(t, int64(probes+1), flood.calls.Load(), "every probe ran the check while the observer was stuck")

	close(unblock)
	// Once the observer has made room, a run of the marker is kept, and
	// delivered after every run of flood that was kept.
	deadline := time.Now().Add(waitLimit)
	for runs("marker") == 0 {
		require.True(t, time.Now().Before(deadline), "recording did not resume")
		probe(t, reg, health.Readiness, "marker")
		time.Sleep(time.Millisecond)
	}
	counted := runs("flood")
	assert.Less(t, counted, int64(probes+1), "runs that did not fit while it was stuck are lost")
	assert.GreaterOrEqual(t, counted, int64(1))
}

// Recording a run of a check that has its attribute options allocates
// nothing in this package; what the SDK's instruments allocate is theirs
// (none, with the SDK's default aggregations and a manual reader).
func TestObserveRunAllocatesNothing(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	m, _ := newMetrics(t, reg)
	o := observer{m}
	start := time.Now()
	runs := []health.Run{
		{Group: health.Readiness, Check: "db", Result: health.RunPass, Status: health.StatusPass, Start: start, Duration: time.Millisecond},
		{Group: health.Readiness, Check: "db", Result: health.RunFail, Status: health.StatusFail, Start: start, Duration: 2 * time.Second},
		{Group: health.Readiness, Check: "db", Result: health.RunBreakerOpen, Status: health.StatusFail, Start: start},
	}
	for _, r := range runs { // makes the entry and the SDK's series
		o.ObserveRun(r)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		o.ObserveRun(runs[i%len(runs)])
		i++
	})
	assert.Zero(t, allocs)
}
