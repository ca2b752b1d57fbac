package otelmetrics

import (
	"context"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
)

// observer records runs and changes as the registry reports them, on the
// registry's delivery goroutine. What is recorded is metricspec's rule,
// shared with prommetrics. The attribute options of a check are made once,
// at its first run or collection.
type observer struct{ m *Metrics }

func (o observer) ObserveRun(r health.Run) {
	ri := metricspec.ResultIndex(r.Result)
	if ri < 0 {
		return
	}
	c := o.m.entries.Check(metricspec.Key{Group: r.Group, Name: r.Check}).check
	if c == nil {
		return
	}
	if metricspec.Timed(r) {
		o.m.durations.Record(context.Background(), r.Duration.Seconds(), c.duration...)
	}
	if r.Result == health.RunPass {
		metricspec.StoreMax(&c.lastSuccess, metricspec.RunEnd(r))
	}
	// The count comes last: a collection runs its callbacks before it
	// reads the histogram, so one that counts the run also has its
	// duration and its success time.
	c.runCount[ri].Add(1)
}

func (o observer) ObserveEvent(ev health.Event) {
	ctx := context.Background()
	switch {
	case ev.Breaker != nil:
		if bi := metricspec.BreakerIndex(ev.Breaker.State); bi >= 0 {
			if c := o.m.entries.Check(metricspec.Key{Group: ev.Group, Name: ev.Check}).check; c != nil {
				o.m.breakerChanges.Add(ctx, 1, c.to[bi]...)
			}
		}
	case metricspec.IsTransition(ev):
		o.m.groupTransitions.Add(ctx, 1, o.m.groups[ev.Group-health.Liveness].to[metricspec.StatusIndex(ev.To)]...)
	}
}
