package prommetrics

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Collector is a prometheus.Collector for one health.Registry; see the
// package documentation for its series. Make it with NewCollector. Its
// methods are safe for concurrent use: Prometheus may scrape while checks
// run.
type Collector struct {
	reg    *health.Registry
	remove func()
	d      descs

	// What the collector keeps of each entry of the registry's reports:
	// label pairs made once and, for checks, what the observer records
	// (record.go).
	entries metricspec.Entries[entry]

	// Label pairs of the group series, and the transitions the observer
	// counts, indexed like metricspec.Groups and metricspec.Statuses.
	groups      [3]groupLabels
	transitions [3][3]atomic.Uint64
	created     *timestamppb.Timestamp // of the transition counters
}

// descs are the descriptors of the collector's families.
type descs struct {
	checkUp, checkStatus, runs, durations, lastSuccess *prometheus.Desc
	groupUp, groupStatus, transitions, lastProbed      *prometheus.Desc
	breakerState, breakerChanges                       *prometheus.Desc
}

// The families' help texts, shared with otelmetrics' descriptions through
// the Prometheus exporter (examples/alerts compares them).
func newDescs() descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return descs{
		checkUp: d("probekit_healthcheck",
			"Whether a health check, or an entry of the registry such as the readiness switch \"ready\", passes: 1 for pass or warn, 0 for fail.",
			"group", "name"),
		checkStatus: d("probekit_healthcheck_status",
			"Status of a health check or registry entry: 1 for its current status (pass, warn or fail), 0 for the others.",
			"group", "name", "status"),
		runs: d("probekit_healthchecks_total",
			"Completed runs of a health check, by result: pass, warn, fail, timeout, panic, breaker-open.",
			"group", "name", "result"),
		durations: d("probekit_healthcheck_duration_seconds",
			"How long runs of a health check took to give their verdict, runs answered by an open circuit breaker excepted.",
			"group", "name"),
		lastSuccess: d("probekit_healthcheck_last_success_timestamp_seconds",
			"Unix time of the last passing run of a health check; absent until one has passed.",
			"group", "name"),
		groupUp: d("probekit_healthgroup",
			"Whether a health group passes: 1 for pass or warn (HTTP 200), 0 for fail (HTTP 503).",
			"group"),
		groupStatus: d("probekit_healthgroup_status",
			"Status of a health group: 1 for its current status (pass, warn or fail), 0 for the others.",
			"group", "status"),
		transitions: d("probekit_healthgroup_transitions_total",
			"Status changes of a health group (liveness, readiness, startup), by the status changed to: pass, warn, fail.",
			"group", "to"),
		lastProbed: d("probekit_group_last_probed_timestamp_seconds",
			"Unix time of the last probe of a health group (a request to one of its handlers, or Registry.Check); absent until it has been probed.",
			"group"),
		breakerState: d("probekit_breaker_state",
			"State of a dependency check's circuit breaker: 0 closed, 1 half-open, 2 open (gobreaker's numbering).",
			"name"),
		breakerChanges: d("probekit_breaker_state_changes_total",
			"State changes of a dependency check's circuit breaker, by the state changed to: closed, half-open, open.",
			"name", "to"),
	}
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
	c := &Collector{reg: reg, remove: func() {}, d: newDescs(),
		created: timestamppb.New(time.Now())}
	for gi, g := range metricspec.Groups {
		c.groups[gi] = newGroupLabels(g)
	}
	c.entries.New = c.newEntry
	if reg != nil {
		c.remove = reg.AddObserver(observer{c})
		registered := metricspec.Registered{Registry: reg}
		metricspec.Seed(reg, &registered, func(k metricspec.Key, unixNano int64) {
			metricspec.StoreMax(&c.entries.Entry(k, &registered).stats.lastSuccess, unixNano)
		})
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
	for _, d := range []*prometheus.Desc{c.d.checkUp, c.d.checkStatus, c.d.runs, c.d.durations, c.d.lastSuccess,
		c.d.groupUp, c.d.groupStatus, c.d.transitions, c.d.lastProbed, c.d.breakerState, c.d.breakerChanges} {
		ch <- d
	}
}

// entry is what the collector keeps of one entry of a group: the label
// pairs of its series and, for a check, what the observer records.
type entry struct {
	labels []*dto.LabelPair    // group, name
	status [3][]*dto.LabelPair // group, name, status (metricspec.Statuses)
	stats  *stats              // nil for the registry's own entries
}

// groupLabels are the label pairs of one group's series.
type groupLabels struct {
	group       []*dto.LabelPair    // group
	status, to  [3][]*dto.LabelPair // group, status; group, to (metricspec.Statuses)
	statusPairs [3]*dto.LabelPair   // status=pass, warn, fail
	resultPairs [6]*dto.LabelPair   // result=pass, ... (metricspec.Results)
}

func newGroupLabels(g health.Group) groupLabels {
	gl := groupLabels{group: []*dto.LabelPair{pair("group", g.String())}}
	for si, s := range metricspec.Statuses {
		gl.statusPairs[si] = pair("status", s.String())
		gl.status[si] = []*dto.LabelPair{gl.group[0], gl.statusPairs[si]}
		gl.to[si] = []*dto.LabelPair{gl.group[0], pair("to", s.String())}
	}
	for ri, r := range metricspec.Results {
		gl.resultPairs[ri] = pair("result", r.String())
	}
	return gl
}

// newEntry makes the entry of k: its label pairs, sorted by name as
// Prometheus requires, each slice exactly as long as its capacity so that
// a wrapping registry's append copies it.
func (c *Collector) newEntry(k metricspec.Key, check bool) *entry {
	gl := &c.groups[k.Group-health.Liveness]
	name := pair("name", k.Name)
	e := &entry{labels: []*dto.LabelPair{gl.group[0], name}}
	for si := range metricspec.Statuses {
		e.status[si] = []*dto.LabelPair{gl.group[0], name, gl.statusPairs[si]}
	}
	if !check {
		return e
	}
	st := &stats{name: []*dto.LabelPair{name}, created: timestamppb.New(time.Now())}
	for ri := range metricspec.Results {
		st.results[ri] = []*dto.LabelPair{gl.group[0], name, gl.resultPairs[ri]}
	}
	for bi, s := range metricspec.BreakerStates {
		st.to[bi] = []*dto.LabelPair{name, pair("to", s.String())}
	}
	e.stats = st
	return e
}

func pair(name, value string) *dto.LabelPair { return &dto.LabelPair{Name: &name, Value: &value} }
