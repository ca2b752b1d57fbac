package health

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// MarkReady turns the readiness switch on. After Drain it is ignored (and
// logged), even racing it: a late warm-up must not put a process that is
// shutting down back into rotation.
func (r *Registry) MarkReady() {
	if !r.ready.set(true, "", false) {
		r.logf(slog.LevelWarn, "health: MarkReady ignored: the registry is draining")
	}
	r.settle(nil)
}

// MarkNotReady turns the readiness switch off for reason: readiness fails
// (entry "ready", ErrNotReady) whatever the checks say, during warm-up,
// maintenance or in tests. The reason is logged, and shown only to
// requests allowed details. After Drain it is ignored.
func (r *Registry) MarkNotReady(reason string) {
	r.ready.set(false, reason, false)
	r.settle(nil)
}

// MarkBroken turns the liveness switch off for good, for reason: the
// process cannot recover (a wedged worker, a corrupted cache) and asks to
// be restarted. Liveness, and so readiness, fails from then on.
func (r *Registry) MarkBroken(reason string) {
	r.alive.set(false, reason, true)
	r.settle(nil)
}

// Drain begins a graceful shutdown: it turns readiness off for good
// (reason "shutting down") while liveness keeps passing, then waits delay
// or until ctx is done, returning ctx.Err() if ctx ended the wait, so that
// endpoints stop sending traffic before the server stops accepting it (a
// terminating pod leaves its endpoints concurrently with SIGTERM, and it
// takes seconds to reach every proxy). Shut the http.Server down after:
//
//	<-sigCtx.Done()                                // SIGTERM
//	reg.Drain(context.Background(), 5*time.Second) // readiness fails, still serving
//	srv.Shutdown(ctx)                              // finishes in-flight requests
//	reg.Close()
func (r *Registry) Drain(ctx context.Context, delay time.Duration) error {
	if ctx == nil {
		ctx = context.Background()
	}
	r.ready.set(false, "shutting down", true)
	r.settle(nil)
	if delay <= 0 {
		return nil
	}
	select {
	case <-time.After(delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// switchBox is an on/off switch with a reason, on when zero; after a final
// setting (Drain, MarkBroken) it ignores changes.
type switchBox struct {
	offErr error // what the switch reports when off
	p      atomic.Pointer[switchState]
}

type switchState struct {
	off    bool
	final  bool
	reason string
	err    error  // offErr with the reason
	msg    string // err's text, redacted
	since  time.Time
}

func (s *switchBox) set(on bool, reason string, final bool) bool {
	next := &switchState{off: !on, final: final, reason: clip(reason, maxMsg), since: time.Now()}
	if next.off {
		next.err = s.offErr
		if next.reason != "" {
			next.err = fmt.Errorf("%w: %s", s.offErr, next.reason)
		}
		next.msg = redactMsg(next.err.Error())
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

func (s *switchBox) state() switchState {
	if st := s.p.Load(); st != nil {
		return *st
	}
	return switchState{}
}

func (s *switchBox) status() Status {
	if st := s.p.Load(); st != nil && st.off {
		return StatusFail
	}
	return StatusPass
}

// ownEntries is the one table of the registry's own entries: the liveness
// switch "alive", the readiness switch "ready", and readiness's view of the
// liveness and startup groups.
type ownEntryDef struct {
	name  string
	group Group                      // the group whose report shows it
	sw    func(*Registry) *switchBox // a switch...
	gate  Group                      // ...or another group's status
	err   error                      // a failing gate's reason
}

const numOwnEntries = 4

var ownEntries = [numOwnEntries]ownEntryDef{
	{name: "alive", group: Liveness, sw: func(r *Registry) *switchBox { return &r.alive }},
	{name: "ready", group: Readiness, sw: func(r *Registry) *switchBox { return &r.ready }},
	{name: "liveness", group: Readiness, gate: Liveness, err: fmt.Errorf("%w: the liveness group is failing", ErrNotReady)},
	{name: "startup", group: Readiness, gate: Startup, err: fmt.Errorf("%w: startup has not completed", ErrNotReady)},
}

func ownEntry(name string) *ownEntryDef {
	for i := range ownEntries {
		if ownEntries[i].name == name {
			return &ownEntries[i]
		}
	}
	return nil
}

func (e *ownEntryDef) result(r *Registry) CheckResult {
	res := CheckResult{Name: e.name, Status: StatusPass}
	if e.sw != nil {
		st := e.sw(r).state()
		res.Time = st.since
		if st.off {
			res.Status, res.Err, res.Reason = StatusFail, st.err, st.msg
		}
		return res
	}
	if s := r.groupStatus(e.gate); s != StatusPass {
		res.Status, res.Err, res.Reason = s, e.err, e.err.Error()
	}
	return res
}

func (r *Registry) draining() bool {
	st := r.ready.state()
	return st.final && st.off
}

// tally counts a group's failing and warning checks: its status in O(1).
type tally struct{ fail, warn atomic.Int64 }

func (t *tally) add(s Status, n int64) {
	switch s {
	case StatusFail:
		t.fail.Add(n)
	case StatusWarn:
		t.warn.Add(n)
	}
}

func (t *tally) status() Status {
	switch {
	case t.fail.Load() > 0:
		return StatusFail
	case t.warn.Load() > 0:
		return StatusWarn
	}
	return StatusPass
}

// groupStatus is the worst of g's checks and switch, and for readiness of
// liveness and startup too.
func (r *Registry) groupStatus(g Group) Status {
	switch g {
	case Liveness:
		return worse(r.tally[Liveness].status(), r.alive.status())
	case Startup:
		if r.startupDone.Load() {
			return StatusPass
		}
		return r.tally[Startup].status()
	case Readiness:
		s := worse(r.tally[Readiness].status(), r.ready.status())
		return worse(s, worse(r.groupStatus(Liveness), r.groupStatus(Startup)))
	}
	return StatusUnknown
}

// settle announces ev (a check's change, if any), then the changes of the
// own entries and of the groups, and wakes Changed's watchers.
// Announcements never interleave (stateMu).
func (r *Registry) settle(ev *Event) {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	now := time.Now()
	if ev != nil {
		ev.Time = now
		r.publish(*ev)
	}
	for i := range ownEntries {
		e := &ownEntries[i]
		if e.sw == nil {
			continue
		}
		if res := e.result(r); res.Status != r.reportedOwn[i] {
			ev := Event{Time: now, Group: e.group, Check: e.name, From: r.reportedOwn[i], To: res.Status, Err: res.Err, Reason: res.Reason}
			r.publish(ev)
			r.reportedOwn[i] = res.Status
		}
	}
	for _, g := range allGroups {
		if s := r.groupStatus(g); s != r.reportedGroup[g] {
			r.publish(Event{Time: now, Group: g, From: r.reportedGroup[g], To: s})
			r.reportedGroup[g] = s
			if g == Readiness && s != StatusFail {
				r.everReady.Store(true)
			}
		}
	}
	r.version.Add(1)
	r.wake()
}

// breakerChanged announces a breaker's state change and recounts its
// check; one that traffic closed wakes its check, asleep until its trial.
func (r *Registry) breakerChanged(c *check, to gobreaker.State, st BreakerStatus, traffic bool) {
	r.publish(Event{Time: time.Now(), Group: c.group, Check: c.name, Breaker: &st})
	c.mu.Lock()
	c.recount()
	c.mu.Unlock()
	r.version.Add(1)
	r.wake()
	if traffic && to == gobreaker.StateClosed {
		c.wake()
	}
}

func (r *Registry) wake() {
	if ch := r.notify.Swap(nil); ch != nil {
		close(*ch)
	}
}

// Changed returns a channel that is closed at the next change of a status
// (of a check, a group or a switch) or of a breaker's state, and when the
// registry closes; call it again for the next one. Any number of watchers
// may wait on it; one that was busy sees one close for several changes and
// should read the state again (Latest), not count closes. Checks that run
// on request change only when something runs them.
func (r *Registry) Changed() <-chan struct{} {
	for {
		if ch := r.notify.Load(); ch != nil {
			return *ch
		}
		ch := make(chan struct{})
		if r.notify.CompareAndSwap(nil, &ch) {
			if r.closed.Load() {
				r.wake()
			}
			return ch
		}
	}
}
