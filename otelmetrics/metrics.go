package otelmetrics

import (
	"context"
	"errors"
	"sync"

	"github.com/probekit/probekit/health"
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

	mu          sync.Mutex
	zeroed      map[checkKey]bool    // checks whose counters have been recorded at zero
	lastSuccess map[checkKey]float64 // Unix seconds; only ever moves forward
}

type checkKey struct {
	group health.Group
	name  string
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
	m := &Metrics{reg: reg, remove: func() {}, zeroed: make(map[checkKey]bool), lastSuccess: make(map[checkKey]float64)}
	var errs []error
	keep := func(err error) { errs = append(errs, err) }
	var err error
	m.runs, err = meter.Int64Counter("probekit.healthchecks", metric.WithUnit("{run}"),
		metric.WithDescription("Completed runs of a health check, by result: pass, warn, fail, timeout, panic, breaker-open."))
	keep(err)
	m.durations, err = meter.Float64Histogram("probekit.healthcheck.duration", metric.WithUnit("s"),
		metric.WithDescription("How long runs of a health check took to give their verdict, runs answered by an open circuit breaker excepted."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
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
		for _, s := range statuses {
			m.groupTransitions.Add(ctx, 0, metric.WithAttributes(groupAttr(g), attribute.String("to", s.String())))
		}
	}
	m.remove = reg.AddObserver(observer{m})
	m.seedLastSuccess()
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
		o.ObserveInt64(m.groupUp, up(rep.Status), metric.WithAttributes(ga))
		for _, s := range statuses {
			o.ObserveInt64(m.groupStatus, is(rep.Status, s), metric.WithAttributes(ga, attribute.String("status", s.String())))
		}
		for _, e := range rep.Checks {
			na := attribute.String("name", e.Name)
			o.ObserveInt64(m.checkUp, up(e.Status), metric.WithAttributes(ga, na))
			for _, s := range statuses {
				o.ObserveInt64(m.checkStatus, is(e.Status, s), metric.WithAttributes(ga, na, attribute.String("status", s.String())))
			}
			if e.Breaker != nil {
				o.ObserveInt64(m.breakerState, int64(e.Breaker.State), metric.WithAttributes(na))
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, unix := range m.lastSuccess {
		o.ObserveFloat64(m.lastSuccessGauge, unix, metric.WithAttributes(groupAttr(k.group), attribute.String("name", k.name)))
	}
	return nil
}

// zeroNewChecks records the counters of checks registered since the last
// collection at zero, so that their first increment is an increase an
// exporter can see.
func (m *Metrics) zeroNewChecks(ctx context.Context) {
	for _, info := range m.reg.Checks() {
		k := checkKey{info.Group, info.Name}
		m.mu.Lock()
		done := m.zeroed[k]
		m.zeroed[k] = true
		m.mu.Unlock()
		if done {
			continue
		}
		ga, na := groupAttr(info.Group), attribute.String("name", info.Name)
		for _, r := range results {
			m.runs.Add(ctx, 0, metric.WithAttributes(ga, na, attribute.String("result", r.String())))
		}
		if info.Dependency {
			for _, s := range breakerStates {
				m.breakerChanges.Add(ctx, 0, metric.WithAttributes(na, attribute.String("to", s.String())))
			}
		}
	}
}

// seedLastSuccess records the checks that pass now as having succeeded at
// their latest verdict.
func (m *Metrics) seedLastSuccess() {
	registered := make(map[checkKey]bool)
	for _, info := range m.reg.Checks() {
		registered[checkKey{info.Group, info.Name}] = true
	}
	for _, g := range health.Groups() {
		for _, e := range m.reg.Latest(g).Checks {
			if k := (checkKey{g, e.Name}); registered[k] && e.Status == health.StatusPass && !e.Time.IsZero() {
				m.succeeded(k, float64(e.Time.UnixNano())/1e9)
			}
		}
	}
}

func (m *Metrics) succeeded(k checkKey, unix float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastSuccess[k] = max(m.lastSuccess[k], unix)
}

func groupAttr(g health.Group) attribute.KeyValue { return attribute.String("group", g.String()) }

// statuses are the values of the status and to attributes.
var statuses = []health.Status{health.StatusPass, health.StatusWarn, health.StatusFail}

// up is the value of the 0/1 gauges: 1 for what is served with 200.
func up(s health.Status) int64 {
	if s == health.StatusPass || s == health.StatusWarn {
		return 1
	}
	return 0
}

// is is the value of a status gauge: 1 for the current status.
func is(current, s health.Status) int64 {
	if current == s {
		return 1
	}
	return 0
}
