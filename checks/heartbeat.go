package checks

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/probekit/probekit/health"
)

// A Heartbeat is a watchdog for a loop that must keep making progress: the
// loop calls Beat each time round, and the check that Check returns fails
// once no beat has arrived for longer than the window:
//
//	hb := checks.NewHeartbeat(time.Minute)
//	err := reg.Register(health.Liveness, "worker", hb.Check())
//
// It catches what no other check sees: a process that serves probes
// perfectly well while its worker is deadlocked or stuck on a call without
// a timeout.
//
// The window counts from NewHeartbeat until the first beat, so a loop that
// never starts fails the check one window after construction. Choose the
// window longer than the slowest legitimate iteration, including waits for
// work: a worker blocked on an empty queue should beat on a ticker while it
// waits.
//
// The check is process-local (a health.CheckFunc), so it belongs in
// liveness: a restart is the cure for a wedged loop. A Heartbeat is safe for concurrent use; several
// goroutines may beat the same Heartbeat, and its check then passes while
// any of them beats. The zero value is not usable: its Check returns a
// misconfigured check, which Register refuses; use NewHeartbeat.
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

// NewHeartbeat returns a Heartbeat whose check fails when no beat arrived
// within window. A window that is not positive makes Check return a
// misconfigured check, which Register refuses with an error matching
// health.ErrMisconfigured; Beat still works (and does nothing useful).
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

// Check returns the check to register, a check of process-local state (a
// health.CheckFunc): it fails when no beat arrived within the window (or,
// before the first beat, within the window since NewHeartbeat), and observes the time since the last beat (or since
// NewHeartbeat), in milliseconds. Every call returns a check of the same
// Heartbeat. For a Heartbeat not made by NewHeartbeat, or one whose window is
// not positive, it returns a misconfigured check (health.Misconfigured),
// which Register refuses with an error matching health.ErrMisconfigured.
func (h *Heartbeat) Check() health.Checker {
	switch {
	case h == nil || h.start.IsZero():
		return misconfigured("Heartbeat", "not created by NewHeartbeat")
	case h.window <= 0:
		return misconfigured("Heartbeat", "window must be positive, got %v", h.window)
	}
	return health.CheckFunc(h.check)
}

func (h *Heartbeat) check(ctx context.Context) error {
	// Load before reading the clock, so that a beat in between cannot make
	// the age negative.
	last := time.Duration(h.last.Load())
	now := h.elapsed()
	age := now - last
	if age <= h.window {
		return nil
	}
	if last == 0 {
		return failf("Heartbeat", "no beat since start %v ago, window is %v", age.Round(time.Millisecond), h.window)
	}
	return failf("Heartbeat", "no beat for %v, window is %v", age.Round(time.Millisecond), h.window)
}
