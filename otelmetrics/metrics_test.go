package otelmetrics_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/otelmetrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// breakerFailures is how many consecutive failures open the breaker of the
// tests' dependency (the default, set explicitly).
const breakerFailures = 3

// TestOutage follows a dependency from pass to fail, to an open breaker and
// back, reading every instrument through the SDK's manual reader.
func TestOutage(t *testing.T) {
	r := record(t)
	var down atomic.Bool
	var calls atomic.Int64
	const open = time.Second
	require.NoError(t, r.reg.Register(health.Readiness, "db", health.DependencyFunc(func(context.Context) error {
		calls.Add(1)
		if down.Load() {
			return errors.New("dial tcp 10.0.0.7:5432: connection refused")
		}
		return nil
	}), health.CheckOptions{Breaker: health.BreakerSettings{Failures: breakerFailures, Open: open}}))
	const db = "group=readiness,name=db"
	probes := 0
	probe := func() health.Status { probes++; return r.probe(health.Readiness) }
	counted := func(p points) bool { return p.runs(db) == float64(probes) }

	p := r.collect()
	assert.Equal(t, 0.0, p.get("probekit.healthchecks{"+db+",result=breaker-open}"), "counters start at zero")
	assert.Equal(t, 0.0, p.get("probekit.breaker.state_changes{name=db,to=open}"))
	assert.Equal(t, 0.0, p.get("probekit.healthcheck{"+db+"}"), "pending fails readiness")

	start := time.Now()
	require.Equal(t, health.StatusPass, probe())
	// The gauges' callback runs before the counters are read, so a
	// collection may count a run without its success time yet.
	lastSuccess := func(p points) float64 { return p.get("probekit.healthcheck.last_success_timestamp{" + db + "}") }
	p = r.until("the pass is recorded", func(p points) bool { return counted(p) && lastSuccess(p) > 0 })
	assert.Equal(t, 1.0, p.get("probekit.healthchecks{"+db+",result=pass}"))
	assert.Equal(t, 1.0, p.get("probekit.healthcheck{"+db+"}"))
	assert.Equal(t, 1.0, p.get("probekit.healthcheck.status{"+db+",status=pass}"))
	assert.Equal(t, 1.0, p.get("probekit.healthgroup{group=readiness}"))
	assert.Equal(t, 0.0, p.get("probekit.breaker.state{name=db}"))
	assert.Equal(t, 1.0, p.get("probekit.healthcheck.duration{"+db+"}"))
	success := lastSuccess(p)
	assert.InDelta(t, float64(start.UnixNano())/1e9, success, time.Since(start).Seconds()+0.001)
	toFail := p.get("probekit.healthgroup.transitions{group=readiness,to=fail}")
	toPass := p.get("probekit.healthgroup.transitions{group=readiness,to=pass}")

	down.Store(true)
	for range breakerFailures {
		require.Equal(t, health.StatusFail, probe())
	}
	p = r.until("the failures are recorded", counted)
	assert.Equal(t, float64(breakerFailures), p.get("probekit.healthchecks{"+db+",result=fail}"))
	assert.Equal(t, 0.0, p.get("probekit.healthcheck{"+db+"}"))
	assert.Equal(t, 1.0, p.get("probekit.healthgroup.status{group=readiness,status=fail}"))
	assert.Equal(t, toFail+1, p.get("probekit.healthgroup.transitions{group=readiness,to=fail}"))
	assert.Equal(t, 2.0, p.get("probekit.breaker.state{name=db}"), "open after the third failure")
	assert.Equal(t, 1.0, p.get("probekit.breaker.state_changes{name=db,to=open}"))
	assert.Equal(t, success, lastSuccess(p), "failures are no success")

	// Answered by the open breaker: counted, not timed. A stall past the
	// open period makes the probe a (failing) trial instead; try again.
	for i := 0; ; i++ {
		before := calls.Load()
		probe()
		if calls.Load() == before {
			break
		}
		require.Less(t, i, 10, "no probe met the open breaker")
	}
	p = r.until("the breaker-open answer is recorded", counted)
	assert.GreaterOrEqual(t, p.get("probekit.healthchecks{"+db+",result=breaker-open}"), 1.0)
	assert.Equal(t, float64(calls.Load()), p.get("probekit.healthcheck.duration{"+db+"}"), "only runs that called the check are timed")

	down.Store(false)
	deadline := time.Now().Add(waitLimit)
	for probe() != health.StatusPass {
		require.True(t, time.Now().Before(deadline), "readiness did not pass again within %v", waitLimit)
		time.Sleep(open / 20)
	}
	p = r.until("recovery is recorded", func(p points) bool { return counted(p) && lastSuccess(p) > success })
	assert.Equal(t, 2.0, p.get("probekit.healthchecks{"+db+",result=pass}"))
	assert.Equal(t, float64(probes)-float64(calls.Load()), p.get("probekit.healthchecks{"+db+",result=breaker-open}"))
	assert.Equal(t, 0.0, p.get("probekit.breaker.state{name=db}"))
	assert.Equal(t, 1.0, p.get("probekit.breaker.state_changes{name=db,to=closed}"))
	assert.Equal(t, p.get("probekit.breaker.state_changes{name=db,to=open}"), p.get("probekit.breaker.state_changes{name=db,to=half-open}"))
	assert.Equal(t, 1.0, p.get("probekit.healthgroup{group=readiness}"))
	assert.Equal(t, toPass+1, p.get("probekit.healthgroup.transitions{group=readiness,to=pass}"))
}

// Collections read the registry's latest state and run nothing.
func TestCollectionsRunNoChecks(t *testing.T) {
	r := record(t)
	var onRequest, background atomic.Int64
	require.NoError(t, r.reg.Register(health.Readiness, "on-request", health.CheckFunc(func(context.Context) error {
		onRequest.Add(1)
		return nil
	})))
	require.NoError(t, r.reg.Register(health.Readiness, "background", health.DependencyFunc(func(context.Context) error {
		background.Add(1)
		return nil
	}), health.CheckOptions{Every: time.Hour}))
	r.until("the background check's first run is recorded", func(p points) bool {
		return p.runs("group=readiness,name=background") == 1
	})
	for range 100 {
		r.collect()
	}
	assert.Zero(t, onRequest.Load(), "collections ran the on-request check")
	assert.Equal(t, int64(1), background.Load(), "only the background check's own first run called it")
	p := r.collect()
	assert.Equal(t, 0.0, p.runs("group=readiness,name=on-request"))
	assert.Equal(t, 0.0, p.get("probekit.healthchecks{group=readiness,name=on-request,result=fail}"), "zero, not absent")
	assert.Equal(t, 1.0, p.get("probekit.healthcheck{group=readiness,name=background}"))
}

// Warn is 1 in the 0/1 gauge and visible as status=warn; the switches are
// entries; reasons are never attributes.
func TestWarnAndSwitches(t *testing.T) {
	r := record(t)
	require.NoError(t, r.reg.Register(health.Liveness, "cert",
		healthtest.Fixed(health.Warn(errors.New("certificate expires in 5 days")))))
	require.Equal(t, health.StatusWarn, r.probe(health.Liveness))
	r.reg.MarkNotReady("maintenance: password=hunter2")
	p := r.until("the warning is recorded", func(p points) bool { return p.runs("group=liveness,name=cert") == 1 })
	assert.Equal(t, 1.0, p.get("probekit.healthchecks{group=liveness,name=cert,result=warn}"))
	assert.Equal(t, 1.0, p.get("probekit.healthcheck{group=liveness,name=cert}"))
	assert.Equal(t, 1.0, p.get("probekit.healthcheck.status{group=liveness,name=cert,status=warn}"))
	assert.Equal(t, 1.0, p.get("probekit.healthgroup.status{group=liveness,status=warn}"))
	assert.Equal(t, 0.0, p.get("probekit.healthcheck{group=readiness,name=ready}"), "readiness switch off")
	assert.Equal(t, 1.0, p.get("probekit.healthcheck{group=liveness,name=alive}"), "liveness switch on")
	assert.NotContains(t, p.String(), "hunter2")
	assert.NotContains(t, p.String(), "expires")
}

func TestNewRefusesANilRegistry(t *testing.T) {
	m, err := otelmetrics.New(nil, sdkmetric.NewMeterProvider())
	assert.Nil(t, m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nil *health.Registry")
}

// A nil provider means the global one.
func TestNilProviderIsTheGlobalOne(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { assert.NoError(t, mp.Shutdown(context.Background())) }()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	defer otel.SetMeterProvider(prev)

	reg := health.New()
	defer reg.Close()
	m, err := otelmetrics.New(reg, nil)
	require.NoError(t, err)
	defer m.Close()
	p := (&recorded{t: t, reg: reg, reader: reader}).collect()
	assert.Equal(t, 1.0, p.get("probekit.healthgroup{group=readiness}"))
}

// After Close nothing more is recorded, and Close may be called again.
func TestClose(t *testing.T) {
	reg := health.New()
	defer reg.Close()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { assert.NoError(t, mp.Shutdown(context.Background())) }()
	m, err := otelmetrics.New(reg, mp)
	require.NoError(t, err)
	require.NoError(t, reg.Register(health.Readiness, "db", healthtest.Fixed(nil)))
	r := &recorded{t: t, reg: reg, reader: reader}
	r.probe(health.Readiness)
	r.until("the run is recorded", func(p points) bool { return p.runs("group=readiness,name=db") == 1 })

	require.NoError(t, m.Close())
	require.NoError(t, m.Close())
	for range 3 {
		r.probe(health.Readiness)
	}
	p := r.collect()
	assert.Equal(t, 1.0, p.get("probekit.healthcheck.duration{group=readiness,name=db}"), "runs after Close are not recorded")
	assert.Equal(t, -1.0, p.get("probekit.healthgroup{group=readiness}"), "the gauges' callback is gone")
	assert.Equal(t, -1.0, p.get("probekit.healthchecks{group=readiness,name=db,result=pass}"), "and with it the run counter")
}
