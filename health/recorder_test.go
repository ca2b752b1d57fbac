package health_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// recorder is an Observer that records what it is told, so that tests
// wait for a run or an event instead of sleeping.
type recorder struct {
	mu      sync.Mutex
	runs    []health.Run
	events  []health.Event
	changed chan struct{} // closed and replaced at each call
}

// observe adds a recorder to r.
func observe(r *health.Registry) *recorder {
	rec := &recorder{changed: make(chan struct{})}
	r.AddObserver(rec)
	return rec
}

func (o *recorder) ObserveRun(run health.Run) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.runs = append(o.runs, run)
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *recorder) ObserveEvent(ev health.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, ev)
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *recorder) snapshot() ([]health.Run, []health.Event, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]health.Run(nil), o.runs...), append([]health.Event(nil), o.events...), o.changed
}

// waitRuns waits until ok holds of the runs recorded so far, and returns
// them.
func (o *recorder) waitRuns(t testing.TB, what string, ok func([]health.Run) bool) []health.Run {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		runs, _, changed := o.snapshot()
		if ok(runs) {
			return runs
		}
		select {
		case <-changed:
		case <-deadline.C:
			require.FailNow(t, "timed out waiting for "+what, "runs: %+v", runs)
		}
	}
}

// waitEvents waits until ok holds of the events recorded so far, and
// returns them.
func (o *recorder) waitEvents(t testing.TB, what string, ok func([]health.Event) bool) []health.Event {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		_, evs, changed := o.snapshot()
		if ok(evs) {
			return evs
		}
		select {
		case <-changed:
		case <-deadline.C:
			require.FailNow(t, "timed out waiting for "+what, "events: %+v", evs)
		}
	}
}

// runsOf waits until check has had n runs and returns them.
func (o *recorder) runsOf(t testing.TB, check string, n int) []health.Run {
	t.Helper()
	var mine []health.Run
	o.waitRuns(t, "runs of "+check, func(runs []health.Run) bool {
		mine = mine[:0]
		for _, run := range runs {
			if run.Check == check {
				mine = append(mine, run)
			}
		}
		return len(mine) >= n
	})
	return mine
}

// checkEvents returns the status changes of check among evs, as
// "from->to", breaker changes left out.
func checkEvents(evs []health.Event, check string) []string {
	var out []string
	for _, ev := range evs {
		if ev.Check == check && ev.Breaker == nil {
			out = append(out, ev.From.String()+"->"+ev.To.String())
		}
	}
	return out
}

// breakerStates returns the states check's breaker went to among evs.
func breakerStates(evs []health.Event, check string) []string {
	var out []string
	for _, ev := range evs {
		if ev.Check == check && ev.Breaker != nil {
			out = append(out, ev.Breaker.State.String())
		}
	}
	return out
}
