package otelmetrics_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/otelmetrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The instruments are the ones the package documentation lists, with
// their kinds, units and descriptions, and the histogram has prommetrics'
// buckets.
func TestInstruments(t *testing.T) {
	r := record(t)
	require.NoError(t, r.reg.Register(health.Readiness, "db", health.DependencyFunc(healthtest.Fixed(nil))))
	require.Equal(t, health.StatusPass, r.probe(health.Readiness))
	r.until("the pass is recorded", func(p points) bool {
		return p.get("probekit.healthcheck.last_success_timestamp{group=readiness,name=db}") > 0
	})
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	want := map[string]string{
		"probekit.healthcheck":                        "Gauge[int64] ",
		"probekit.healthcheck.status":                 "Gauge[int64] ",
		"probekit.healthchecks":                       "Sum[int64] {run}",
		"probekit.healthcheck.duration":               "Histogram[float64] s",
		"probekit.healthcheck.last_success_timestamp": "Gauge[float64] s",
		"probekit.healthgroup":                        "Gauge[int64] ",
		"probekit.healthgroup.status":                 "Gauge[int64] ",
		"probekit.healthgroup.transitions":            "Sum[int64] {transition}",
		"probekit.group.last_probed_timestamp":        "Gauge[float64] s",
		"probekit.breaker.state":                      "Gauge[int64] ",
		"probekit.breaker.state_changes":              "Sum[int64] {change}",
	}
	got := make(map[string]string)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		kind := fmt.Sprintf("%T", m.Data)
		kind = kind[len("metricdata."):]
		got[m.Name] = kind + " " + m.Unit
		assert.NotEmpty(t, m.Description, m.Name)
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
			require.Len(t, h.DataPoints, 1)
			assert.Equal(t, []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}, h.DataPoints[0].Bounds)
		}
	}
	assert.Equal(t, want, got)
}

// Recording a registry with the SDK; a reader (here the manual one tests
// use, in production a periodic OTLP exporter) collects the instruments.
func Example() {
	reg := health.New()
	defer reg.Close()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	m, err := otelmetrics.New(reg, provider)
	if err != nil {
		panic(err)
	}
	defer m.Close()

	reg.MarkNotReady("warming up") // the readiness switch, an entry like any check
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, metric := range rm.ScopeMetrics[0].Metrics {
		if metric.Name != "probekit.healthgroup" {
			continue
		}
		for _, dp := range metric.Data.(metricdata.Gauge[int64]).DataPoints {
			group, _ := dp.Attributes.Value("group")
			fmt.Println(group.AsString(), dp.Value)
		}
	}
	// Unordered output:
	// liveness 1
	// readiness 0
	// startup 1
}
