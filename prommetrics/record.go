package prommetrics

import (
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
)

// observer records runs and changes as the registry reports them, on the
// registry's delivery goroutine. What is recorded is metricspec's rule,
// shared with otelmetrics.
type observer struct{ c *Collector }

func (o observer) ObserveRun(r health.Run) {
	if !metricspec.Counted(r) {
		return
	}
	group := r.Group.String()
	o.c.lastSuccess.Record(r)
	if metricspec.Timed(r) {
		o.c.durations.WithLabelValues(group, r.Check).Observe(r.Duration.Seconds())
	}
	// The counter comes last: a scrape that counts the run also has its
	// duration and its success time.
	o.c.runs.WithLabelValues(group, r.Check, r.Result.String()).Inc()
}

func (o observer) ObserveEvent(ev health.Event) {
	switch {
	case ev.Breaker != nil:
		if metricspec.BreakerCounted(*ev.Breaker) {
			o.c.breakerChanges.WithLabelValues(ev.Check, ev.Breaker.To.String()).Inc()
		}
	case metricspec.IsTransition(ev):
		o.c.groupTransitions.WithLabelValues(ev.Group.String(), ev.To.String()).Inc()
	}
}
