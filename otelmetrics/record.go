package otelmetrics

import (
	"context"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// observer records runs and changes as the registry reports them, on the
// registry's delivery goroutine. What is recorded is metricspec's rule,
// shared with prommetrics.
type observer struct{ m *Metrics }

func (o observer) ObserveRun(r health.Run) {
	if !metricspec.Counted(r) {
		return
	}
	ctx := context.Background()
	check := metric.WithAttributes(groupAttr(r.Group), attribute.String("name", r.Check))
	o.m.lastSuccess.Record(r)
	if metricspec.Timed(r) {
		o.m.durations.Record(ctx, r.Duration.Seconds(), check)
	}
	// The counter comes last: a collection that counts the run also has
	// its duration and its success time.
	o.m.runs.Add(ctx, 1, check, metric.WithAttributes(attribute.String("result", r.Result.String())))
}

func (o observer) ObserveEvent(ev health.Event) {
	ctx := context.Background()
	switch {
	case ev.Breaker != nil:
		if metricspec.BreakerCounted(*ev.Breaker) {
			o.m.breakerChanges.Add(ctx, 1, metric.WithAttributes(attribute.String("name", ev.Check), attribute.String("to", ev.Breaker.To.String())))
		}
	case metricspec.IsTransition(ev):
		o.m.groupTransitions.Add(ctx, 1, metric.WithAttributes(groupAttr(ev.Group), attribute.String("to", ev.To.String())))
	}
}
