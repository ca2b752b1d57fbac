package prommetrics

import (
	"errors"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector for one health.Registry; see the
// package documentation for its series. Make it with NewCollector. Its
// methods are safe for concurrent use: Prometheus may scrape while checks
// run.
type Collector struct {
	reg    *health.Registry
	remove func()

	// Recorded by the observer (record.go).
	runs             *prometheus.CounterVec
	durations        *prometheus.HistogramVec
	groupTransitions *prometheus.CounterVec
	breakerChanges   *prometheus.CounterVec
	lastSuccess      metricspec.LastSuccess

	// Read from reg.Latest at scrape time.
	checkUp, checkStatus, groupUp, groupStatus, breakerState, lastSuccessDesc *prometheus.Desc
}

// errNilRegistry is what a collector made for a nil registry reports at
// each scrape, so that the mistake surfaces as a failed scrape with a
// reason instead of a panic or a silently empty exposition.
var errNilRegistry = errors.New("prommetrics: NewCollector was given a nil *health.Registry")

// NewCollector returns a collector of reg's metrics and starts observing reg:
// counters, the histogram and last-success times count what happens from
// now on (checks already passing count as having succeeded at their latest
// verdict). Register it once, with prometheus.MustRegister or a registry of
// your own. To expose several health registries on one Prometheus registry,
// register each collector through prometheus.WrapRegistererWith with the
// same label name and a value of its own; a second collector registered
// plainly fails as a duplicate (prometheus.AlreadyRegisteredError).
//
// A nil reg gives a collector whose every scrape fails with an error saying
// so. The collector stops observing when reg is closed, or at Close.
func NewCollector(reg *health.Registry) *Collector {
	c := &Collector{
		reg:    reg,
		remove: func() {},
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "probekit_healthchecks_total",
			Help: "Completed runs of a health check, by result: pass, warn, fail, timeout, panic, breaker-open.",
		}, []string{"group", "name", "result"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "probekit_healthcheck_duration_seconds",
			Help:    "How long runs of a health check took to give their verdict, runs answered by an open circuit breaker excepted.",
			Buckets: metricspec.DurationBuckets,
		}, []string{"group", "name"}),
		groupTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "probekit_healthgroup_transitions_total",
			Help: "Status changes of a health group (liveness, readiness, startup), by the status changed to: pass, warn, fail.",
		}, []string{"group", "to"}),
		breakerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "probekit_breaker_state_changes_total",
			Help: "State changes of a dependency check's circuit breaker, by the state changed to: closed, half-open, open.",
		}, []string{"name", "to"}),
		checkUp: prometheus.NewDesc("probekit_healthcheck",
			"Whether a health check, or an entry of the registry such as the readiness switch \"ready\", passes: 1 for pass or warn, 0 for fail.",
			[]string{"group", "name"}, nil),
		checkStatus: prometheus.NewDesc("probekit_healthcheck_status",
			"Status of a health check or registry entry: 1 for its current status (pass, warn or fail), 0 for the others.",
			[]string{"group", "name", "status"}, nil),
		lastSuccessDesc: prometheus.NewDesc("probekit_healthcheck_last_success_timestamp_seconds",
			"Unix time of the last passing run of a health check; absent until one has passed.",
			[]string{"group", "name"}, nil),
		groupUp: prometheus.NewDesc("probekit_healthgroup",
			"Whether a health group passes: 1 for pass or warn (HTTP 200), 0 for fail (HTTP 503).",
			[]string{"group"}, nil),
		groupStatus: prometheus.NewDesc("probekit_healthgroup_status",
			"Status of a health group: 1 for its current status (pass, warn or fail), 0 for the others.",
			[]string{"group", "status"}, nil),
		breakerState: prometheus.NewDesc("probekit_breaker_state",
			"State of a dependency check's circuit breaker: 0 closed, 1 half-open, 2 open (gobreaker's numbering).",
			[]string{"name"}, nil),
	}
	for _, g := range health.Groups() {
		for _, s := range metricspec.Statuses {
			c.groupTransitions.WithLabelValues(g.String(), s.String())
		}
	}
	if reg != nil {
		c.remove = reg.AddObserver(observer{c})
		c.lastSuccess.Seed(reg)
	}
	return c
}

// Close stops observing the registry: later runs and changes are no longer
// counted, while scrapes still report the current state. Closing the
// registry has the same effect, so Close is needed only for a collector
// dropped before its registry. It is idempotent.
func (c *Collector) Close() { c.remove() }

// Describe sends the descriptors of every series the collector can produce.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.runs.Describe(ch)
	c.durations.Describe(ch)
	c.groupTransitions.Describe(ch)
	c.breakerChanges.Describe(ch)
	for _, d := range []*prometheus.Desc{c.checkUp, c.checkStatus, c.lastSuccessDesc, c.groupUp, c.groupStatus, c.breakerState} {
		ch <- d
	}
}

// Collect sends the current series: the recorded counters and histogram,
// and gauges read from the registry's latest results. It runs no check.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.reg == nil {
		ch <- prometheus.NewInvalidMetric(c.checkUp, errNilRegistry)
		return
	}
	c.initSeries()
	c.runs.Collect(ch)
	c.durations.Collect(ch)
	c.groupTransitions.Collect(ch)
	c.breakerChanges.Collect(ch)
	for k, unix := range c.lastSuccess.Snapshot() {
		ch <- prometheus.MustNewConstMetric(c.lastSuccessDesc, prometheus.GaugeValue, unix, k.Group.String(), k.Name)
	}
	for _, g := range health.Groups() {
		rep := c.reg.Latest(g)
		group := g.String()
		ch <- prometheus.MustNewConstMetric(c.groupUp, prometheus.GaugeValue, float64(metricspec.Up(rep.Status)), group)
		for _, s := range metricspec.Statuses {
			ch <- prometheus.MustNewConstMetric(c.groupStatus, prometheus.GaugeValue, float64(metricspec.Is(rep.Status, s)), group, s.String())
		}
		for _, e := range rep.Checks {
			ch <- prometheus.MustNewConstMetric(c.checkUp, prometheus.GaugeValue, float64(metricspec.Up(e.Status)), group, e.Name)
			for _, s := range metricspec.Statuses {
				ch <- prometheus.MustNewConstMetric(c.checkStatus, prometheus.GaugeValue, float64(metricspec.Is(e.Status, s)), group, e.Name, s.String())
			}
			if e.Breaker != nil {
				ch <- prometheus.MustNewConstMetric(c.breakerState, prometheus.GaugeValue, float64(e.Breaker.State), e.Name)
			}
		}
	}
}

// initSeries makes the counters' and the histogram's series of every
// registered check exist, at zero, before anything has been counted: rate
// and increase only see an increment from a series that existed before it.
func (c *Collector) initSeries() {
	for _, info := range c.reg.Checks() {
		group := info.Group.String()
		for _, r := range metricspec.Results {
			c.runs.WithLabelValues(group, info.Name, r.String())
		}
		c.durations.WithLabelValues(group, info.Name)
		if info.Dependency {
			for _, s := range metricspec.BreakerStates {
				c.breakerChanges.WithLabelValues(info.Name, s.String())
			}
		}
	}
}
