package otelmetrics_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/otelmetrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// waitLimit bounds every wait: far above what any of them needs, so that
// it only ends a test that would otherwise hang.
const waitLimit = 10 * time.Second

// recorded is a registry's metrics read through the SDK's manual reader.
type recorded struct {
	t      testing.TB
	reg    *health.Registry
	reader *sdkmetric.ManualReader
}

// record makes a health registry and records it with a fresh SDK meter
// provider; everything is closed when the test ends.
func record(t testing.TB, opts ...health.Options) *recorded {
	t.Helper()
	reg := health.New(opts...)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m, err := otelmetrics.New(reg, mp)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, m.Close())
		assert.NoError(t, mp.Shutdown(context.Background()))
		assert.NoError(t, reg.Close())
	})
	return &recorded{t: t, reg: reg, reader: reader}
}

// points is one collection, flattened: "instrument{k=v,...}" to the value
// of a gauge or sum point, or to the count of a histogram point (whose sum
// is under the same key with " sum" appended).
type points map[string]float64

func (r *recorded) collect() points {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(r.t, r.reader.Collect(context.Background(), &rm))
	p := make(points)
	for _, sm := range rm.ScopeMetrics {
		require.Equal(r.t, otelmetrics.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					p[key(m.Name, dp.Attributes)] = float64(dp.Value)
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					p[key(m.Name, dp.Attributes)] = dp.Value
				}
			case metricdata.Sum[int64]:
				require.True(r.t, d.IsMonotonic, m.Name)
				for _, dp := range d.DataPoints {
					p[key(m.Name, dp.Attributes)] = float64(dp.Value)
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					p[key(m.Name, dp.Attributes)] = float64(dp.Count)
					p[key(m.Name, dp.Attributes)+" sum"] = dp.Sum
				}
			default:
				r.t.Fatalf("%s: unexpected aggregation %T", m.Name, m.Data)
			}
		}
	}
	return p
}

func key(name string, attrs attribute.Set) string {
	var kv []string
	for _, a := range attrs.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	return name + "{" + strings.Join(kv, ",") + "}"
}

// get returns a point's value, or -1 if it is absent.
func (p points) get(k string) float64 {
	if v, ok := p[k]; ok {
		return v
	}
	return -1
}

// runs sums probekit.healthchecks over the results of one check.
func (p points) runs(check string) float64 {
	var n float64
	for k, v := range p {
		if strings.HasPrefix(k, "probekit.healthchecks{"+check+",") {
			n += v
		}
	}
	return n
}

func (p points) String() string {
	lines := make([]string, 0, len(p))
	for k, v := range p {
		lines = append(lines, fmt.Sprintf("%s %g", k, v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// until collects until ok accepts a collection: runs reach the
// instruments asynchronously, on the registry's delivery goroutine.
func (r *recorded) until(what string, ok func(points) bool) points {
	r.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		p := r.collect()
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no collection within %v where %s; last:\n%s", waitLimit, what, p)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// probe runs group g once, as a probe would, and returns its status.
func (r *recorded) probe(g health.Group) health.Status {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	rep, err := r.reg.Check(ctx, g)
	require.NoError(r.t, err)
	return rep.Status
}
