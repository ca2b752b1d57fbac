// Package metricspec is the one definition of what probekit's metrics
// record, shared by prommetrics and otelmetrics so that the Prometheus and
// the OpenTelemetry views of a registry cannot drift apart: the values of
// their labels, the histogram's bounds, which events count as a group's
// transition, the values of the 0/1 gauges and the time of each check's
// last success. It knows nothing of either metrics library.
package metricspec

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/sony/gobreaker/v2"
)

// Results are the values of the result label of run counters.
var Results = health.RunResults()

// BreakerStates are the values of the to label of breaker changes.
var BreakerStates = []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen}

// Statuses are the values of the status and to labels, in the order the
// status gauges are written.
var Statuses = []health.Status{health.StatusPass, health.StatusWarn, health.StatusFail}

// DurationBuckets are the run-duration histogram's upper bounds, in
// seconds: from 0.5 ms (a local check) to 10 s, with health.DefaultTimeout
// (0.5 s) and the kubelet's default timeout (1 s) among them.
var DurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Counted tells whether a run is recorded: only results the documentation
// lists become label values, so a result added later cannot grow a series
// nobody alerts on.
func Counted(r health.Run) bool { return slices.Contains(Results, r.Result) }

// Timed tells whether a run's duration goes into the histogram: a run
// answered by an open breaker measured nothing.
func Timed(r health.Run) bool { return r.Result != health.RunBreakerOpen }

// BreakerCounted tells whether a breaker change is counted, by the state
// it changed to.
func BreakerCounted(c health.BreakerChange) bool { return slices.Contains(BreakerStates, c.To) }

// IsTransition tells a real change of a group's status from the first
// sight of a group (From unknown), from a pending status confirmed (From
// equal to To) and from a check's own event.
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

// Key names one check.
type Key struct {
	Group health.Group
	Name  string
}

// LastSuccess holds the time of each check's last passing run. Runs may be
// delivered while the seed is read, so a time only ever moves forward. The
// zero value is empty and ready; it is safe for concurrent use.
type LastSuccess struct {
	mu sync.Mutex
	at map[Key]float64 // Unix seconds
}

// Record notes r's end as its check's last success if r passed.
func (l *LastSuccess) Record(r health.Run) {
	if r.Result == health.RunPass {
		l.set(Key{r.Group, r.Check}, UnixSeconds(r.Start.Add(r.Duration)))
	}
}

// Seed records the checks of reg that pass now as having succeeded at
// their latest verdict; the registry's own entries (such as the readiness
// switch) are no checks and are left out.
func (l *LastSuccess) Seed(reg *health.Registry) {
	registered := make(map[Key]bool)
	for _, info := range reg.Checks() {
		registered[Key{info.Group, info.Name}] = true
	}
	for _, g := range health.Groups() {
		for _, e := range reg.Latest(g).Checks {
			if k := (Key{g, e.Name}); registered[k] && e.Status == health.StatusPass && !e.Time.IsZero() {
				l.set(k, UnixSeconds(e.Time))
			}
		}
	}
}

// Snapshot returns a copy, so that the observer is not held up while a
// scrape consumes it.
func (l *LastSuccess) Snapshot() map[Key]float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.at)
}

func (l *LastSuccess) set(k Key, unix float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = make(map[Key]float64)
	}
	if unix > l.at[k] {
		l.at[k] = unix
	}
}
