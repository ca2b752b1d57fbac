package otelmetrics

import (
	"context"
	"slices"

	"github.com/probekit/probekit/health"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// observer records runs and changes as the registry reports them, on the
// registry's delivery goroutine.
type observer struct{ m *Metrics }

// results are the values of the result attribute.
var results = health.RunResults()

// breakerStates are the values of the to attribute of breaker changes.
var breakerStates = []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen}

// durationBuckets are prommetrics' histogram bounds, in seconds: from
// 0.5 ms (a local check) to 10 s, with health.DefaultTimeout (0.5 s) and
// the kubelet's default timeout (1 s) among them.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func (o observer) ObserveRun(r health.Run) {
	if !slices.Contains(results, r.Result) {
		return // not an attribute value the documentation lists
	}
	ctx := context.Background()
	check := metric.WithAttributes(groupAttr(r.Group), attribute.String("name", r.Check))
	if r.Result == health.RunPass {
		o.m.succeeded(checkKey{r.Group, r.Check}, float64(r.Start.Add(r.Duration).UnixNano())/1e9)
	}
	if r.Result != health.RunBreakerOpen {
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
		if slices.Contains(breakerStates, ev.Breaker.To) {
			o.m.breakerChanges.Add(ctx, 1, metric.WithAttributes(attribute.String("name", ev.Check), attribute.String("to", ev.Breaker.To.String())))
		}
	case ev.Check == "" && ev.From != health.StatusUnknown && ev.From != ev.To && slices.Contains(statuses, ev.To):
		// A real change of a group's status: not its first sight (From
		// unknown), nor a pending status confirmed (From equal to To).
		o.m.groupTransitions.Add(ctx, 1, metric.WithAttributes(groupAttr(ev.Group), attribute.String("to", ev.To.String())))
	}
}
