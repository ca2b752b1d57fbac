package prommetrics

import (
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"github.com/prometheus/client_golang/prometheus"
)

// Collect sends the current series: the counters and histograms the
// observer recorded, and gauges read from the registry's latest results
// (health.Registry.Latest). It runs no check, and holds no lock while it
// sends.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.reg == nil {
		ch <- prometheus.NewInvalidMetric(c.d.checkUp, errNilRegistry)
		return
	}
	// First the reports and their entries (a check registered since the
	// last scrape gets its series at zero here), to size the slab.
	var reports [3]health.Report
	registered := metricspec.Registered{Registry: c.reg}
	n := size{gauges: 5 * len(reports), counters: 3 * len(metricspec.Statuses)}
	total := 0
	for gi, g := range metricspec.Groups {
		reports[gi] = c.reg.Latest(g)
		total += len(reports[gi].Checks)
	}
	entries := make([]*entry, 0, total)
	for gi, g := range metricspec.Groups {
		for _, res := range reports[gi].Checks {
			e := c.entries.Entry(metricspec.Key{Group: g, Name: res.Name}, &registered)
			entries = append(entries, e)
			n.gauges += 1 + len(metricspec.Statuses)
			if e.stats != nil {
				n.gauges++ // last success
				n.counters += len(metricspec.Results)
				n.histograms++
			}
			if res.Breaker != nil {
				n.gauges++
				n.counters += len(metricspec.BreakerStates)
			}
		}
	}

	s := newSlab(ch, n, metricspec.DurationBuckets)
	for gi, rep := range reports {
		gl := &c.groups[gi]
		s.gauge(c.d.groupUp, gl.group, float64(metricspec.Up(rep.Status)))
		for si, st := range metricspec.Statuses {
			s.gauge(c.d.groupStatus, gl.status[si], float64(metricspec.Is(rep.Status, st)))
			s.counter(c.d.transitions, gl.to[si], c.transitions[gi][si].Load(), c.created)
		}
		if !rep.LastProbed.IsZero() {
			s.gauge(c.d.lastProbed, gl.group, metricspec.UnixSeconds(rep.LastProbed))
		}
		for _, res := range rep.Checks {
			e := entries[0]
			entries = entries[1:]
			s.gauge(c.d.checkUp, e.labels, float64(metricspec.Up(res.Status)))
			for si, st := range metricspec.Statuses {
				s.gauge(c.d.checkStatus, e.status[si], float64(metricspec.Is(res.Status, st)))
			}
			if res.Breaker != nil && e.stats != nil {
				s.gauge(c.d.breakerState, e.stats.name, float64(res.Breaker.State))
			}
			if e.stats != nil {
				c.sendRecorded(s, e, res.Breaker != nil)
			}
		}
	}
}

// sendRecorded sends what the observer recorded of the check of e.
func (c *Collector) sendRecorded(s *slab, e *entry, dependency bool) {
	st := e.stats
	rec := st.read()
	for ri := range metricspec.Results {
		s.counter(c.d.runs, st.results[ri], rec.runs[ri], st.created)
	}
	s.histogram(c.d.durations, e.labels, rec.buckets[:], rec.sum, st.created)
	if rec.lastSuccess != 0 {
		s.gauge(c.d.lastSuccess, e.labels, float64(rec.lastSuccess)/1e9)
	}
	if dependency {
		for bi := range metricspec.BreakerStates {
			s.counter(c.d.breakerChanges, st.to[bi], rec.breakerChanges[bi], st.created)
		}
	}
}
