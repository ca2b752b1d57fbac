package otelmetrics

import (
	"context"
	"sync/atomic"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// observe is the gauges' callback: the registry's latest state, read
// without running anything. A check seen for the first time has its
// counters recorded at zero, so that its first increment is an increase
// an exporter can see.
func (m *Metrics) observe(ctx context.Context, o metric.Observer) error {
	registered := metricspec.Registered{Registry: m.reg}
	for gi, g := range metricspec.Groups {
		rep := m.reg.Latest(g)
		ga := &m.groups[gi]
		o.ObserveInt64(m.groupUp, int64(metricspec.Up(rep.Status)), ga.group...)
		for si, s := range metricspec.Statuses {
			o.ObserveInt64(m.groupStatus, int64(metricspec.Is(rep.Status, s)), ga.status[si]...)
		}
		if !rep.LastProbed.IsZero() {
			o.ObserveFloat64(m.lastProbed, metricspec.UnixSeconds(rep.LastProbed), ga.group...)
		}
		for _, res := range rep.Checks {
			e := m.entries.Entry(metricspec.Key{Group: g, Name: res.Name}, &registered)
			o.ObserveInt64(m.checkUp, int64(metricspec.Up(res.Status)), e.entry...)
			for si, s := range metricspec.Statuses {
				o.ObserveInt64(m.checkStatus, int64(metricspec.Is(res.Status, s)), e.status[si]...)
			}
			if c := e.check; c != nil {
				for ri := range c.runs {
					o.ObserveInt64(m.runs, c.runCount[ri].Load(), c.runs[ri]...)
				}
				m.zero(ctx, c, res.Breaker != nil)
				if ns := c.lastSuccess.Load(); ns != 0 {
					o.ObserveFloat64(m.lastSuccessGauge, float64(ns)/1e9, e.entry...)
				}
				if res.Breaker != nil {
					o.ObserveInt64(m.breakerState, int64(res.Breaker.State), c.name...)
				}
			}
		}
	}
	return nil
}

// zero records the breaker's counters of c at zero the first time a
// collection sees it, for a dependency. (Its runs are observed, zeros
// included, at every collection.)
func (m *Metrics) zero(ctx context.Context, c *check, dependency bool) {
	if dependency && !c.breakerZeroed.Swap(true) {
		for bi := range metricspec.BreakerStates {
			m.breakerChanges.Add(ctx, 0, c.to[bi]...)
		}
	}
}

// groupAttrs are the attribute options of one group's instruments.
type groupAttrs struct {
	group  []metric.ObserveOption    // group
	status [3][]metric.ObserveOption // group, status (metricspec.Statuses)
	to     [3][]metric.AddOption     // group, to
}

func newGroupAttrs(g health.Group) groupAttrs {
	ga := groupAttr(g)
	a := groupAttrs{group: observeOpts(ga)}
	for si, s := range metricspec.Statuses {
		a.status[si] = observeOpts(ga, attribute.String("status", s.String()))
		a.to[si] = addOpts(ga, attribute.String("to", s.String()))
	}
	return a
}

// entry holds the attribute options of one entry of a group.
type entry struct {
	entry  []metric.ObserveOption    // group, name
	status [3][]metric.ObserveOption // group, name, status
	check  *check                    // nil for the registry's own entries
}

// check holds the attribute options of one check's instruments and its
// last success.
type check struct {
	runs     [6][]metric.ObserveOption // group, name, result (metricspec.Results)
	duration []metric.RecordOption     // group, name
	name     []metric.ObserveOption
	to       [3][]metric.AddOption // name, to (metricspec.BreakerStates)

	// Its runs by result, counted by the observer and observed at each
	// collection: adding to an OpenTelemetry counter on every run cost the
	// SDK's attribute lookup each time (see the metrics benchmarks).
	runCount      [6]atomic.Int64
	lastSuccess   atomic.Int64 // Unix nanoseconds; 0 if none. Only moves forward.
	breakerZeroed atomic.Bool
}

func newEntry(k metricspec.Key, isCheck bool) *entry {
	ga, na := groupAttr(k.Group), attribute.String("name", k.Name)
	e := &entry{entry: observeOpts(ga, na)}
	for si, s := range metricspec.Statuses {
		e.status[si] = observeOpts(ga, na, attribute.String("status", s.String()))
	}
	if !isCheck {
		return e
	}
	c := &check{name: observeOpts(na)}
	c.duration = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(ga, na))}
	for ri, r := range metricspec.Results {
		c.runs[ri] = observeOpts(ga, na, attribute.String("result", r.String()))
	}
	for bi, s := range metricspec.BreakerStates {
		c.to[bi] = addOpts(na, attribute.String("to", s.String()))
	}
	e.check = c
	return e
}

func observeOpts(kv ...attribute.KeyValue) []metric.ObserveOption {
	return []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
}

func addOpts(kv ...attribute.KeyValue) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
}

func groupAttr(g health.Group) attribute.KeyValue { return attribute.String("group", g.String()) }
