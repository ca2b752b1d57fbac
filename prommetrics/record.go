package prommetrics

import (
	"slices"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/sony/gobreaker/v2"
)

// observer records runs and changes as the registry reports them, on the
// registry's delivery goroutine.
type observer struct{ c *Collector }

// results are the values of the result label.
var results = health.RunResults()

// breakerStates are the values of the to label of breaker changes.
var breakerStates = []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen}

// durationBuckets are the histogram's upper bounds, in seconds; see the
// package documentation.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func (o observer) ObserveRun(r health.Run) {
	if !slices.Contains(results, r.Result) {
		return // not a label value the documentation lists
	}
	group := r.Group.String()
	if r.Result == health.RunPass {
		o.c.lastSuccess.set(checkKey{r.Group, r.Check}, unixSeconds(r.Start.Add(r.Duration)))
	}
	if r.Result != health.RunBreakerOpen {
		o.c.durations.WithLabelValues(group, r.Check).Observe(r.Duration.Seconds())
	}
	// The counter comes last: a scrape that counts the run also has its
	// duration and its success time.
	o.c.runs.WithLabelValues(group, r.Check, r.Result.String()).Inc()
}

func (o observer) ObserveEvent(ev health.Event) {
	switch {
	case ev.Breaker != nil:
		if slices.Contains(breakerStates, ev.Breaker.To) {
			o.c.breakerChanges.WithLabelValues(ev.Check, ev.Breaker.To.String()).Inc()
		}
	case ev.Check == "" && isTransition(ev):
		o.c.groupTransitions.WithLabelValues(ev.Group.String(), ev.To.String()).Inc()
	}
}

// isTransition tells a real status change from the first sight of a group
// (From unknown) and from a pending status confirmed (From equal to To).
func isTransition(ev health.Event) bool {
	return ev.From != health.StatusUnknown && ev.From != ev.To && slices.Contains(statuses, ev.To)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
