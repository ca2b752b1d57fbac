// Package metricspec is the one definition of what probekit's metrics
// record, shared by prommetrics and otelmetrics so that the Prometheus and
// the OpenTelemetry views of a registry cannot drift apart: the values of
// their labels, the histogram's bounds, which events count as a group's
// transition, the values of the 0/1 gauges, and which entries of a report
// are checks. It knows nothing of either metrics library.
package metricspec

import (
	"slices"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/sony/gobreaker/v2"
)

// Groups are the values of the group label.
var Groups = []health.Group{health.Liveness, health.Readiness, health.Startup}

// Results are the values of the result label of run counters, in the
// order of ResultIndex.
var Results = []health.RunResult{health.RunPass, health.RunWarn, health.RunFail,
	health.RunTimeout, health.RunPanic, health.RunBreakerOpen}

// BreakerStates are the values of the to label of breaker changes, in the
// order of BreakerIndex.
var BreakerStates = []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen}

// Statuses are the values of the status and to labels, in the order the
// status gauges are written and of StatusIndex.
var Statuses = []health.Status{health.StatusPass, health.StatusWarn, health.StatusFail}

// DurationBuckets are the run-duration histogram's upper bounds, in
// seconds: from 0.5 ms (a local check) to 10 s, with the default check
// timeout (0.5 s) and the kubelet's default timeout (1 s) among them.
var DurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// ResultIndex is the index of r in Results, or -1: only results the
// documentation lists are recorded, so that a result added later cannot
// grow a series nobody alerts on.
func ResultIndex(r health.RunResult) int { return slices.Index(Results, r) }

// BreakerIndex is the index of s in BreakerStates, or -1.
func BreakerIndex(s gobreaker.State) int { return slices.Index(BreakerStates, s) }

// StatusIndex is the index of s in Statuses, or -1.
func StatusIndex(s health.Status) int { return slices.Index(Statuses, s) }

// Timed tells whether a run's duration goes into the histogram: a run
// answered by an open breaker measured nothing.
func Timed(r health.Run) bool { return r.Result != health.RunBreakerOpen }

// Bucket is the index of the first of DurationBuckets that seconds does
// not exceed (upper bounds are inclusive, as in Prometheus), or
// len(DurationBuckets) for the +Inf bucket.
func Bucket(seconds float64) int {
	for i, bound := range DurationBuckets {
		if seconds <= bound {
			return i
		}
	}
	return len(DurationBuckets)
}

// IsTransition tells a real change of a group's status from the first
// sight of a group (From unknown), from a pending status confirmed (From
// equal to To) and from a check's or a breaker's event.
func IsTransition(ev health.Event) bool {
	return ev.Check == "" && ev.Breaker == nil &&
		ev.From != health.StatusUnknown && ev.From != ev.To && slices.Contains(Statuses, ev.To)
}

// Up is the value of the 0/1 gauges: 1 for what is served with 200.
func Up(s health.Status) int {
	if s == health.StatusPass || s == health.StatusWarn {
		return 1
	}
	return 0
}

// Is is the value of a status gauge: 1 for the current status.
func Is(current, s health.Status) int {
	if current == s {
		return 1
	}
	return 0
}

// UnixSeconds is t as the seconds since the Unix epoch that timestamp
// gauges hold.
func UnixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// RunEnd is when r gave its verdict, in Unix nanoseconds: the time a
// passing run records as its check's last success.
func RunEnd(r health.Run) int64 { return r.Start.Add(r.Duration).UnixNano() }

// Key names one entry of a group: a check or one of the registry's own.
type Key struct {
	Group health.Group
	Name  string
}
