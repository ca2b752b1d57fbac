package prommetrics

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitLimit bounds every wait of these tests, so that a regression fails
// instead of hanging.
const waitLimit = 10 * time.Second

// countingCheck passes and counts its calls.
type countingCheck struct{ calls atomic.Int64 }

func (c *countingCheck) Check(context.Context) error { c.calls.Add(1); return nil }

// probe runs group g once (only the entries names, if any) and fails the
// test unless it passed.
func probe(t *testing.T, reg *health.Registry, g health.Group, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	rep, err := reg.Check(ctx, g, names...)
	require.NoError(t, err)
	require.Equal(t, health.StatusPass, rep.Status)
}

// runsCounted gathers c and returns probekit_healthchecks_total summed
// over the results of check name.
func runsCounted(t *testing.T, c *Collector, name string) float64 {
	t.Helper()
	pr := prometheus.NewRegistry()
	require.NoError(t, pr.Register(c))
	fams, err := pr.Gather()
	require.NoError(t, err)
	var n float64
	for _, f := range fams {
		if f.GetName() != "probekit_healthchecks_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelValue(m, "name") == name {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A collector whose observer is stuck costs probes nothing: the registry
// delivers to it on a goroutine of its own through a bounded queue, so
// every probe completes while it is stuck (a probe that waited for it
// would hang once the queue is full), the runs that did not fit are lost,
// and counting resumes once it is unstuck.
func TestBlockedCollectorDoesNotBlockProbes(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	c := NewCollector(reg)
	defer c.Close()
	// The observer gets stuck making the entry of the check "flood", at
	// its first run, holding the collector's lock of entries.
	makeEntry, entered, unblock := c.entries.New, make(chan struct{}), make(chan struct{})
	c.entries.New = func(k metricspec.Key, check bool) *entry {
		if k.Name == "flood" {
			close(entered)
			<-unblock
		}
		return makeEntry(k, check)
	}
	flood, marker := new(countingCheck), new(countingCheck)
	require.NoError(t, reg.Register(health.Liveness, "flood", flood))
	require.NoError(t, reg.Register(health.Readiness, "marker", marker))

	probe(t, reg, health.Liveness)
	select {
	case <-entered:
	case <-time.After(waitLimit):
		t.Fatal("the observer never got the first run")
	}
	// More runs than the registry queues for one observer (4096).
	const probes = 6000
	for range probes {
		probe(t, reg, health.Liveness)
	}
	require.Equal(t, int64(probes+1), flood.calls.Load(), "every probe ran the check while the observer was stuck")

	close(unblock)
	// Once the observer has made room, a run of the marker is kept, and
	// delivered after every run of flood that was kept.
	deadline := time.Now().Add(waitLimit)
	for runsCounted(t, c, "marker") == 0 {
		require.True(t, time.Now().Before(deadline), "counting did not resume")
		probe(t, reg, health.Readiness, "marker")
		time.Sleep(time.Millisecond)
	}
	counted := runsCounted(t, c, "flood")
	assert.Less(t, counted, float64(probes+1), "runs that did not fit while it was stuck are lost")
	assert.GreaterOrEqual(t, counted, 1.0)
}

// A scrape that is stuck (its consumer stopped reading) holds no lock the
// observer or another scrape needs.
func TestStuckScrapeBlocksNothing(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	c := NewCollector(reg)
	defer c.Close()
	db := new(countingCheck)
	require.NoError(t, reg.Register(health.Readiness, "db", db))
	probe(t, reg, health.Readiness)

	stuck := make(chan prometheus.Metric) // nobody reads it until the end
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Collect(stuck)
	}()
	for range 10 {
		probe(t, reg, health.Readiness)
	}
	deadline := time.Now().Add(waitLimit)
	for runsCounted(t, c, "db") != 11 {
		require.True(t, time.Now().Before(deadline), "runs were not counted while a scrape was stuck")
		time.Sleep(time.Millisecond)
	}
	for {
		select {
		case <-stuck:
		case <-done:
			return
		}
	}
}
