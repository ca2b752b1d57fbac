package otelmetrics

import (
	"context"
	"errors"
	"sync"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the meter the instruments come
// from: this package's import path, as OpenTelemetry's conventions ask.
const ScopeName = "github.com/probekit/probekit/otelmetrics"

// Metrics records one health.Registry's metrics; see the package
// documentation for its instruments. Make it with New and stop it with
// Close. It is safe for concurrent use.
type Metrics struct {
	reg       *health.Registry
	remove    func()
	callback  metric.Registration
	closeOnce sync.Once
	closeErr  error

	// Recorded by the observer (record.go); runs from the counts it keeps
	// (collect.go).
	runs             metric.Int64ObservableCounter
	durations        metric.Float64Histogram
	groupTransitions metric.Int64Counter
	breakerChanges   metric.Int64Counter

	// Observed at collection (collect.go).
	checkUp, checkStatus, groupUp, groupStatus, breakerState metric.Int64ObservableGauge
	lastSuccessGauge, lastProbed                             metric.Float64ObservableGauge

	// The attribute options of each entry of the registry's reports and
	// of each group, made once, so that recording a run allocates nothing.
	entries metricspec.Entries[entry]
	groups  [3]groupAttrs
}

// errNilRegistry is New's error for a nil registry.
var errNilRegistry = errors.New("otelmetrics: New was given a nil *health.Registry")

// New creates the instruments on a meter of mp (the global provider,
// otel.GetMeterProvider, if mp is nil) and starts recording reg: counters
// and the histogram count what happens from now on, and checks already
// passing count as having succeeded at their latest verdict. It fails if reg
// is nil or the meter refuses an instrument or the callback, and then
// records nothing. Call Close when done; closing reg also ends the
// recording of runs.
func New(reg *health.Registry, mp metric.MeterProvider) (*Metrics, error) {
	if reg == nil {
		return nil, errNilRegistry
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	m := &Metrics{reg: reg, remove: func() {}}
	for gi, g := range metricspec.Groups {
		m.groups[gi] = newGroupAttrs(g)
	}
	m.entries.New = newEntry
	var errs []error
	keep := func(err error) { errs = append(errs, err) }
	var err error
	m.runs, err = meter.Int64ObservableCounter("probekit.healthchecks", metric.WithUnit("{run}"),
		metric.WithDescription("Completed runs of a health check, by result: pass, warn, fail, timeout, panic, breaker-open."))
	keep(err)
	m.durations, err = meter.Float64Histogram("probekit.healthcheck.duration", metric.WithUnit("s"),
		metric.WithDescription("How long runs of a health check took to give their verdict, runs answered by an open circuit breaker excepted."),
		metric.WithExplicitBucketBoundaries(metricspec.DurationBuckets...))
	keep(err)
	m.groupTransitions, err = meter.Int64Counter("probekit.healthgroup.transitions", metric.WithUnit("{transition}"),
		metric.WithDescription("Status changes of a health group (liveness, readiness, startup), by the status changed to: pass, warn, fail."))
	keep(err)
	m.breakerChanges, err = meter.Int64Counter("probekit.breaker.state_changes", metric.WithUnit("{change}"),
		metric.WithDescription("State changes of a dependency check's circuit breaker, by the state changed to: closed, half-open, open."))
	keep(err)
	gauge := func(name, description string) metric.Int64ObservableGauge {
		g, err := meter.Int64ObservableGauge(name, metric.WithDescription(description))
		keep(err)
		return g
	}
	m.checkUp = gauge("probekit.healthcheck",
		"Whether a health check, or an entry of the registry such as the readiness switch \"ready\", passes: 1 for pass or warn, 0 for fail.")
	m.checkStatus = gauge("probekit.healthcheck.status",
		"Status of a health check or registry entry: 1 for its current status (pass, warn or fail), 0 for the others.")
	m.groupUp = gauge("probekit.healthgroup",
		"Whether a health group passes: 1 for pass or warn (HTTP 200), 0 for fail (HTTP 503).")
	m.groupStatus = gauge("probekit.healthgroup.status",
		"Status of a health group: 1 for its current status (pass, warn or fail), 0 for the others.")
	m.breakerState = gauge("probekit.breaker.state",
		"State of a dependency check's circuit breaker: 0 closed, 1 half-open, 2 open (gobreaker's numbering).")
	m.lastSuccessGauge, err = meter.Float64ObservableGauge("probekit.healthcheck.last_success_timestamp", metric.WithUnit("s"),
		metric.WithDescription("Unix time of the last passing run of a health check; absent until one has passed."))
	keep(err)
	m.lastProbed, err = meter.Float64ObservableGauge("probekit.group.last_probed_timestamp", metric.WithUnit("s"),
		metric.WithDescription("Unix time of the last probe of a health group (a request to one of its handlers, or Registry.Check); absent until it has been probed."))
	keep(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m.callback, err = meter.RegisterCallback(m.observe, m.runs,
		m.checkUp, m.checkStatus, m.groupUp, m.groupStatus, m.breakerState, m.lastSuccessGauge, m.lastProbed)
	if err != nil {
		return nil, err
	}

	ctx := context.Background()
	for gi := range metricspec.Groups {
		for si := range metricspec.Statuses {
			m.groupTransitions.Add(ctx, 0, m.groups[gi].to[si]...)
		}
	}
	m.remove = reg.AddObserver(observer{m})
	registered := metricspec.Registered{Registry: reg}
	metricspec.Seed(reg, &registered, func(k metricspec.Key, unixNano int64) {
		metricspec.StoreMax(&m.entries.Entry(k, &registered).check.lastSuccess, unixNano)
	})
	return m, nil
}

// Close stops recording: the observer is removed from the registry and the
// callback of the observable instruments (the gauges and the run counter)
// from the meter, so their series end. Later calls return the first call's
// result.
func (m *Metrics) Close() error {
	m.closeOnce.Do(func() {
		m.remove()
		m.closeErr = m.callback.Unregister()
	})
	return m.closeErr
}
