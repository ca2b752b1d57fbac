package health

import (
	"context"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// An Observer learns of every run of a check and every change the registry
// announces, for metrics and status pages (see AddObserver). Its methods
// are called on a goroutine of the registry's, one call at a time and in
// order, never on a probe's and never under a lock of the registry's.
type Observer interface {
	// ObserveRun is called once for each completed run of a check.
	ObserveRun(Run)
	// ObserveEvent is called for each change: of a check's, an own
	// entry's or a group's status, or of a breaker's state.
	ObserveEvent(Event)
}

// Run is one completed run of a check: what observers count and time.
type Run struct {
	// Group and Check name the check that ran.
	Group Group
	Check string
	// Result says how the run ended; Status is the status it gave the
	// check (pass, warn or fail).
	Result RunResult
	Status Status
	// Start is when the run began and Duration how long it took to give
	// its verdict (about the timeout at most, even if the check goes on).
	Start    time.Time
	Duration time.Duration
	// Err is the run's error, not redacted; nil for RunPass.
	Err error
}

// RunResult says how one run of a check ended, in the terms metrics count
// by. The zero value is not a valid result.
type RunResult uint8

const (
	// RunPass: the check returned nil.
	RunPass RunResult = iota + 1
	// RunWarn: the check's error made it warn (Warn, or NonCritical).
	RunWarn
	// RunFail: the check returned an error (and did not time out, panic
	// or meet an open breaker).
	RunFail
	// RunTimeout: the check did not return within its timeout.
	RunTimeout
	// RunPanic: the check, or a method of its error, panicked or called
	// runtime.Goexit.
	RunPanic
	// RunBreakerOpen: the dependency's circuit breaker answered without
	// calling the check.
	RunBreakerOpen
)

// String returns "pass", "warn", "fail", "timeout", "panic" or
// "breaker-open": label values for metrics.
func (r RunResult) String() string {
	return name(r, "RunResult", "", "pass", "warn", "fail", "timeout", "panic", "breaker-open")
}

// Event is a change the registry announces to observers and its logger.
type Event struct {
	// Time is when the registry took the change in.
	Time time.Time
	// Group is the group of the entry that changed, or the group that did;
	// Check names the entry (a check, "alive" or "ready"), or is empty
	// when the group as a whole changed.
	Group Group
	Check string
	// From and To are the statuses before and after; From is
	// StatusUnknown the first time an entry or group is announced. They
	// are equal when a check's first real result confirms the failing
	// status it was assumed to have while pending: the event carries its
	// reason. Both are StatusUnknown for a breaker's change.
	From, To Status
	// Err is an entry's reason for To when To is warn or fail (ErrPending
	// while a check has no result yet), nil otherwise and for a group's
	// change (its entries' events carry the reasons). Not redacted.
	Err error
	// Breaker is set when a dependency's circuit breaker changed state:
	// its status after the change.
	Breaker *BreakerStatus
	// Reason is Err's text, redacted as everything the registry logs or
	// serves, read where the error's methods are contained, at most 1 KiB.
	Reason string
}

// AddObserver makes the registry report every run and every event to o
// from now on, and returns a function that stops it (calling it twice is
// harmless); o may take the current state from Latest. A panic or
// runtime.Goexit in o is recovered and logged, and o still gets later
// calls. An observer that falls behind costs no probe anything: while 4096
// items (or about a MiB) wait for it, further runs are dropped for it (and
// the drops logged), and of the further events it gets the latest of each
// entry, once it catches up. A nil o is ignored.
func (r *Registry) AddObserver(o Observer) (remove func()) {
	if o == nil {
		return func() {}
	}
	m := r.newBox(func(it item) {
		switch {
		case it.c != nil:
			o.ObserveRun(Run{Group: it.c.group, Check: it.c.name, Result: it.result, Status: it.status, Start: it.start, Duration: it.dur, Err: it.err})
		case it.ev != nil:
			o.ObserveEvent(*it.ev)
		}
	}, func(v any, stack []byte) {
		r.logf(slog.LevelError, "health: "+panicFailure("observer", v).Error(), slog.String("stack", string(stack)))
	})
	r.subsMu.Lock()
	subs := append(slices.Clone(*r.subs.Load()), m)
	r.subs.Store(&subs)
	r.subsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.subsMu.Lock()
			defer r.subsMu.Unlock()
			subs := slices.DeleteFunc(slices.Clone(*r.subs.Load()), func(s *box) bool { return s == m })
			r.subs.Store(&subs)
		})
	}
}

// logItem delivers to the logger: events as status lines, and records.
func (r *Registry) logItem(it item) {
	if it.log != nil {
		r.logger.LogAttrs(context.Background(), it.log.level, it.log.msg, it.log.attrs...)
	} else if it.ev != nil {
		level, msg, attrs := describeEvent(*it.ev)
		r.logger.LogAttrs(context.Background(), level, msg, attrs...)
	}
}

func describeEvent(ev Event) (slog.Level, string, []slog.Attr) {
	attrs := []slog.Attr{slog.String("group", ev.Group.String())}
	if ev.Check != "" {
		attrs = append(attrs, slog.String("check", ev.Check))
	}
	switch {
	case ev.Breaker != nil:
		level := slog.LevelWarn
		if ev.Breaker.State == gobreaker.StateClosed {
			level = slog.LevelInfo
		}
		return level, "health circuit breaker changed state", append(attrs, slog.String("state", ev.Breaker.State.String()))
	case ev.Err == ErrPending:
		// Not news of an outage: the check has not run yet.
		return slog.LevelInfo, "health check waiting for its first result", append(attrs, slog.String("assumed", ev.To.String()))
	}
	attrs = append(attrs, slog.String("from", ev.From.String()), slog.String("to", ev.To.String()))
	level := slog.LevelInfo
	if ev.To == StatusWarn || ev.To == StatusFail {
		level = slog.LevelWarn
	}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("error", ev.Reason))
	}
	return level, "health status changed", attrs
}

func (r *Registry) publish(ev Event) {
	for _, m := range *r.subs.Load() {
		m.Post(item{ev: &ev, size: len(ev.Reason)}) // shared: never modified
	}
}

func (r *Registry) publishRun(c *check, x *run, status Status, dur time.Duration) {
	for _, m := range *r.subs.Load() {
		if m != r.logbox {
			m.Post(item{c: c, err: x.o.err, start: x.start, dur: dur, result: x.o.kind, status: status, size: len(x.o.msg)})
		}
	}
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs []slog.Attr
}

func (r *Registry) logf(level slog.Level, msg string, attrs ...slog.Attr) {
	if r.logbox == nil {
		return
	}
	size := len(msg)
	for _, a := range attrs {
		size += len(a.Value.String())
	}
	r.logbox.Post(item{log: &logRecord{level, msg, attrs}, size: size})
}

// logPanic logs a panic of c's user code, with the stack.
func (r *Registry) logPanic(c *check, err error) {
	if r.logbox == nil {
		return
	}
	stack := debug.Stack()
	r.logf(slog.LevelError, "health check panicked", slog.String("group", c.group.String()), slog.String("check", c.name),
		slog.String("panic", err.Error()), slog.String("stack", string(stack[:min(len(stack), 16<<10)])))
}
