package health

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// SetReady turns the readiness switch on or off. While it is off, readiness
// fails (the entry "ready" reports ErrNotReady) whatever the checks say: use
// it to take the process out of rotation during warm-up, maintenance or
// graceful shutdown, and in tests. Once Drain has been called, the switch
// stays off for good: SetReady(true) is ignored (and logged), so that a late
// warm-up cannot put a process that is shutting down back into rotation,
// even when the two calls race.
func (r *Registry) SetReady(ready bool) {
	if !r.ready.set(ready, "") {
		r.logf(slog.LevelWarn, "health: SetReady ignored: the registry is draining")
	}
	r.settle(nil)
}

// MarkNotReady turns the readiness switch off, recording reason. The reason
// is shown only to requests allowed details (see ShowDetails) and is logged.
// After Drain it is ignored: the reason stays ReasonShuttingDown.
func (r *Registry) MarkNotReady(reason string) {
	r.ready.set(false, reason)
	r.settle(nil)
}

// SetAlive turns the liveness switch on or off. While it is off, liveness
// (and therefore readiness) fails, and the kubelet will restart the
// container.
func (r *Registry) SetAlive(alive bool) {
	r.alive.set(alive, "")
	r.settle(nil)
}

// MarkBroken turns the liveness switch off, recording reason: the process
// declares itself in a state it cannot recover from (a wedged worker, a
// corrupted cache) and asks to be restarted.
func (r *Registry) MarkBroken(reason string) {
	r.alive.set(false, reason)
	r.settle(nil)
}

// switchBox is an on/off switch with a reason; the zero value is on. A
// final switch (Drain) ignores later changes.
type switchBox struct {
	offErr error // what the switch reports when off
	p      atomic.Pointer[switchState]
}

type switchState struct {
	off    bool
	final  bool
	reason string
	err    error // ErrNotReady or ErrBroken with the reason, made once
	since  time.Time
}

// set changes the switch unless it is final, and reports whether it did.
func (s *switchBox) set(on bool, reason string) bool { return s.store(on, reason, false) }

func (s *switchBox) store(on bool, reason string, final bool) bool {
	reason = clip(reason)
	next := &switchState{off: !on, final: final, reason: reason, since: time.Now()}
	if next.off {
		next.err = s.offErr
		if reason != "" {
			next.err = fmt.Errorf("%w: %s", s.offErr, reason)
		}
	}
	for {
		old := s.p.Load()
		if old != nil && old.final {
			return false
		}
		if s.p.CompareAndSwap(old, next) {
			return true
		}
	}
}

func (s *switchBox) state() *switchState {
	if st := s.p.Load(); st != nil {
		return st
	}
	return &switchState{}
}

func (s *switchBox) status() Status {
	if st := s.p.Load(); st != nil && st.off {
		return StatusFail
	}
	return StatusPass
}
