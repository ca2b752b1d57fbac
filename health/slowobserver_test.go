package health_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// blockedRecorder records like a recorder, once released; until then its
// first call blocks.
type blockedRecorder struct {
	*recorder
	release chan struct{}
	once    sync.Once
}

func (b *blockedRecorder) wait() { b.once.Do(func() { <-b.release }) }

func (b *blockedRecorder) ObserveRun(run health.Run) {
	b.wait()
	b.recorder.ObserveRun(run)
}

func (b *blockedRecorder) ObserveEvent(ev health.Event) {
	b.wait()
	b.recorder.ObserveEvent(ev)
}

// A stuck observer costs probes nothing: they go on while it is stuck, it
// loses runs (logged), and once released it gets the latest event of
// every entry, each change from what it last heard of.
func TestStuckObserverDoesNotBlockProbes(t *testing.T) {
	logs, logger := newLog()
	r := openRegistry(t, health.Options{Logger: logger})
	stuck := &blockedRecorder{recorder: &recorder{changed: make(chan struct{})}, release: make(chan struct{})}
	r.AddObserver(stuck)
	var flip checkSwitch
	mustRegister(t, r, health.Readiness, "flip", &flip)
	h := r.Handler(health.Readiness)
	const probes = 3000 // each a run and up to two changes: far more than the 4096 items an observer may have waiting
	for i := range probes {
		flip.set(i%2 == 0)
		require.Equal(t, map[bool]int{true: http.StatusServiceUnavailable, false: http.StatusOK}[i%2 == 0],
			serve(h, http.MethodGet, "/readyz").Code)
	}
	logs.wait(t, "the observer falling behind", msgContains("an observer is not keeping up"))
	finalCheck := entry(t, r.Latest(health.Readiness), "flip").Status
	finalGroup := r.Latest(health.Readiness).Status

	close(stuck.release)
	evs := stuck.waitEvents(t, "the latest events", func(evs []health.Event) bool {
		var lastCheck, lastGroup *health.Event
		for i := range evs {
			switch {
			case evs[i].Check == "flip":
				lastCheck = &evs[i]
			case evs[i].Check == "" && evs[i].Group == health.Readiness:
				lastGroup = &evs[i]
			}
		}
		return lastCheck != nil && lastCheck.To == finalCheck && lastGroup != nil && lastGroup.To == finalGroup &&
			len(checkEvents(evs, "flip")) > probes/10
	})
	runs, _, _ := stuck.snapshot()
	assert.Less(t, len(runs), probes, "runs were dropped")
	assert.Positive(t, len(runs))

	// What it heard of each entry is a chain: every change starts where
	// the one before ended, however many it missed.
	chain := checkEvents(evs, "flip")
	for i := 1; i < len(chain); i++ {
		_, to, _ := strings.Cut(chain[i-1], "->")
		from, _, _ := strings.Cut(chain[i], "->")
		require.Equal(t, to, from, "change %d of %d: %v then %v", i, len(chain), chain[i-1], chain[i])
	}
	logs.wait(t, "the count of dropped runs", func(rec map[string]any) bool {
		n, _ := rec["dropped"].(float64)
		return containsAll(rec["msg"].(string), "fell behind") && n > 0
	})
	_, err := r.Check(context.Background(), health.Readiness)
	require.NoError(t, err)
}
