package checks

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/probekit/probekit/health"
)

// A Heartbeat is a watchdog for a loop that must keep making progress: the
// loop calls Beat each time round, and Check fails once no beat has arrived
// for longer than the window. It catches what no other check sees: a
// process that serves probes perfectly well while its worker is deadlocked
// or stuck on a call without a timeout.
//
// The window counts from NewHeartbeat until the first beat, so a loop that
// never starts fails the check one window after construction. Choose the
// window longer than the slowest legitimate iteration, including waits for
// work: a worker blocked on an empty queue should beat on a ticker while it
// waits.
//
// Check is process-local, so it belongs in liveness: a restart is the cure
// for a wedged loop. A Heartbeat is safe for concurrent use; several
// goroutines may beat the same Heartbeat, and it then passes while any of
// them beats. The zero value is not usable (its Check always fails); use
// NewHeartbeat.
type Heartbeat struct {
	window time.Duration
	start  time.Time // carries a monotonic clock reading
	// last is the time of the last beat, in nanoseconds since start, or 0
	// before the first beat.
	last atomic.Int64
	// fake, if set, replaces the clock so that tests can move time
	// instead of waiting for it.
	fake func() time.Duration
}

// NewHeartbeat returns a Heartbeat whose Check fails when no beat arrived
// within window. A window that is not positive makes every run of Check
// fail with an error starting "checks: Heartbeat:".
func NewHeartbeat(window time.Duration) *Heartbeat {
	return &Heartbeat{window: window, start: time.Now()}
}

func (h *Heartbeat) elapsed() time.Duration {
	if h.fake != nil {
		return h.fake()
	}
	return time.Since(h.start)
}

// Beat records that the loop made progress. It is an atomic store, does not
// allocate, and is safe to call from any number of goroutines as often as
// the loop runs.
func (h *Heartbeat) Beat() {
	// 1 stands for a beat in the very first nanosecond, since 0 means none.
	h.last.Store(max(int64(h.elapsed()), 1))
}

// Check fails when no beat arrived within the window (or, before the first
// beat, within the window since NewHeartbeat). It observes the time since
// the last beat (or since NewHeartbeat), in milliseconds. Its method value
// h.Check is a health.CheckFunc.
func (h *Heartbeat) Check(ctx context.Context) error {
	switch {
	case h == nil || h.start.IsZero():
		return failf("Heartbeat", "not created by NewHeartbeat")
	case h.window <= 0:
		return failf("Heartbeat", "window must be positive, got %v", h.window)
	}
	// Load before reading the clock, so that a beat in between cannot make
	// the age negative.
	last := time.Duration(h.last.Load())
	now := h.elapsed()
	age := now - last
	health.Observe(ctx, float64(age.Microseconds())/1000, "ms")
	if age <= h.window {
		return nil
	}
	if last == 0 {
		return failf("Heartbeat", "no beat since start %v ago, window is %v", age.Round(time.Millisecond), h.window)
	}
	return failf("Heartbeat", "no beat for %v, window is %v", age.Round(time.Millisecond), h.window)
}
