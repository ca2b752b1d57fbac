package otelmetrics

import (
	"context"
	"errors"
	"sync"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
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

	// Recorded by the observer (record.go).
	runs             metric.Int64Counter
	durations        metric.Float64Histogram
	groupTransitions metric.Int64Counter
	breakerChanges   metric.Int64Counter

	// Observed at collection.
	checkUp, checkStatus, groupUp, groupStatus, breakerState metric.Int64ObservableGauge
	lastSuccessGauge                                         metric.Float64ObservableGauge

	lastSuccess metricspec.LastSuccess

	mu     sync.Mutex
	zeroed map[metricspec.Key]bool // checks whose counters have been recorded at zero
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
	m := &Metrics{reg: reg, remove: func() {}, zeroed: make(map[metricspec.Key]bool)}
	var errs []error
	keep := func(err error) { errs = append(errs, err) }
	var err error
	m.runs, err = meter.Int64Counter("probekit.healthchecks", metric.WithUnit("{run}"),
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
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m.callback, err = meter.RegisterCallback(m.observe,
		m.checkUp, m.checkStatus, m.groupUp, m.groupStatus, m.breakerState, m.lastSuccessGauge)
	if err != nil {
		return nil, err
	}

	ctx := context.Background()
	for _, g := range health.Groups() {
		for _, s := range metricspec.Statuses {
			m.groupTransitions.Add(ctx, 0, metric.WithAttributes(groupAttr(g), attribute.String("to", s.String())))
		}
	}
	m.remove = reg.AddObserver(observer{m})
	m.lastSuccess.Seed(reg)
	return m, nil
}

// Close stops recording: the observer is removed from the registry and the
// gauges' callback from the meter. Later calls return the first call's
// result.
func (m *Metrics) Close() error {
	m.closeOnce.Do(func() {
		m.remove()
		m.closeErr = m.callback.Unregister()
	})
	return m.closeErr
}

// observe is the gauges' callback: the registry's latest state, read
// without running anything.
func (m *Metrics) observe(ctx context.Context, o metric.Observer) error {
	m.zeroNewChecks(ctx)
	for _, g := range health.Groups() {
		rep := m.reg.Latest(g)
		ga := groupAttr(g)
		o.ObserveInt64(m.groupUp, int64(metricspec.Up(rep.Status)), metric.WithAttributes(ga))
		for _, s := range metricspec.Statuses {
			o.ObserveInt64(m.groupStatus, int64(metricspec.Is(rep.Status, s)), metric.WithAttributes(ga, attribute.String("status", s.String())))
		}
		for _, e := range rep.Checks {
			na := attribute.String("name", e.Name)
			o.ObserveInt64(m.checkUp, int64(metricspec.Up(e.Status)), metric.WithAttributes(ga, na))
			for _, s := range metricspec.Statuses {
				o.ObserveInt64(m.checkStatus, int64(metricspec.Is(e.Status, s)), metric.WithAttributes(ga, na, attribute.String("status", s.String())))
			}
			if e.Breaker != nil {
				o.ObserveInt64(m.breakerState, int64(e.Breaker.State), metric.WithAttributes(na))
			}
		}
	}
	for k, unix := range m.lastSuccess.Snapshot() {
		o.ObserveFloat64(m.lastSuccessGauge, unix, metric.WithAttributes(groupAttr(k.Group), attribute.String("name", k.Name)))
	}
	return nil
}

// zeroNewChecks records the counters of checks registered since the last
// collection at zero, so that their first increment is an increase an
// exporter can see.
func (m *Metrics) zeroNewChecks(ctx context.Context) {
	for _, info := range m.reg.Checks() {
		k := metricspec.Key{Group: info.Group, Name: info.Name}
		m.mu.Lock()
		done := m.zeroed[k]
		m.zeroed[k] = true
		m.mu.Unlock()
		if done {
			continue
		}
		ga, na := groupAttr(info.Group), attribute.String("name", info.Name)
		for _, r := range metricspec.Results {
			m.runs.Add(ctx, 0, metric.WithAttributes(ga, na, attribute.String("result", r.String())))
		}
		if info.Dependency {
			for _, s := range metricspec.BreakerStates {
				m.breakerChanges.Add(ctx, 0, metric.WithAttributes(na, attribute.String("to", s.String())))
			}
		}
	}
}

func groupAttr(g health.Group) attribute.KeyValue { return attribute.String("group", g.String()) }
