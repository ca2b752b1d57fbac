package alerts_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/otelmetrics"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The rules (and dashboards) serve either module: otelmetrics' instruments,
// through OpenTelemetry's Prometheus exporter, are prommetrics' series,
// with the same names, types, help, labels and values.
func TestOtelExporterExposesTheSameSeries(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()

	viaProm := prometheus.NewPedanticRegistry()
	c := prommetrics.NewCollector(reg)
	defer c.Close()
	require.NoError(t, viaProm.Register(c))

	viaOtel := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(viaOtel), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	require.NoError(t, err)
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer func() { assert.NoError(t, provider.Shutdown(context.Background())) }()
	m, err := otelmetrics.New(reg, provider)
	require.NoError(t, err)
	defer func() { assert.NoError(t, m.Close()) }()

	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(func(context.Context) error { return nil })))
	require.NoError(t, reg.Register(health.Liveness, "cert", health.CheckFunc(func(context.Context) error {
		return health.Warn(fmt.Errorf("expires in 5 days"))
	})))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = reg.Check(ctx, health.Readiness) // runs both: readiness checks liveness too
	require.NoError(t, err)

	// Both observers count the runs asynchronously.
	var a, b map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, b = series(t, viaProm), series(t, viaOtel)
		if strings.Contains(a[`probekit_healthchecks_total{group="liveness",name="cert",result="warn"}`], " 1") &&
			strings.Contains(b[`probekit_healthchecks_total{group="liveness",name="cert",result="warn"}`], " 1") &&
			strings.Contains(a[`probekit_healthchecks_total{group="readiness",name="db",result="pass"}`], " 1") &&
			strings.Contains(b[`probekit_healthchecks_total{group="readiness",name="db",result="pass"}`], " 1") &&
			strings.Contains(a[`probekit_healthgroup_transitions_total{group="liveness",to="warn"}`], " 1") &&
			dump(a) == dump(b) { // a group's transition is counted after its checks' runs
			break
		}
		require.True(t, time.Now().Before(deadline), "runs and transitions not counted alike by both within 10s:\nprommetrics:\n%s\notelmetrics:\n%s", dump(a), dump(b))
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, dump(a), dump(b))
}

// series flattens a gather: each series, keyed by name and labels, to its
// type, help and value (a histogram's bucket bounds, count and sum).
func series(t *testing.T, g prometheus.Gatherer) map[string]string {
	t.Helper()
	fams, err := g.Gather()
	require.NoError(t, err)
	out := make(map[string]string)
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			out[key] = fmt.Sprintf("%s %q %s", f.GetType(), f.GetHelp(), value(m))
		}
	}
	return out
}

func value(m *dto.Metric) string {
	switch {
	case m.Gauge != nil:
		return fmt.Sprint(m.Gauge.GetValue())
	case m.Counter != nil:
		return fmt.Sprint(m.Counter.GetValue())
	case m.Histogram != nil:
		var bounds []string
		for _, b := range m.Histogram.GetBucket() {
			bounds = append(bounds, fmt.Sprintf("%g:%d", b.GetUpperBound(), b.GetCumulativeCount()))
		}
		return fmt.Sprintf("count=%d buckets=%s", m.Histogram.GetSampleCount(), strings.Join(bounds, ","))
	}
	return "?"
}

func dump(s map[string]string) string {
	lines := make([]string, 0, len(s))
	for k, v := range s {
		lines = append(lines, k+" "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
