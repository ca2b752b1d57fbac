package health

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Event is a change the registry announces to OnStatusChange hooks,
// observers and its logger: a check's or a group's status changed, or
// (Breaker != nil) a dependency's circuit breaker changed state.
type Event struct {
	// Time is when the registry took the change in.
	Time time.Time
	// Group is the group of the entry, or the group, that changed.
	Group Group
	// Check names the entry that changed; it is empty when the group as a
	// whole changed.
	Check string
	// From and To are the statuses before and after; From is StatusUnknown
	// the first time an entry or group is seen. They are equal when a
	// check's first real result confirms the failing status it was assumed
	// to have while pending (ErrPending): the event carries its reason.
	// Both are StatusUnknown for breaker events.
	From, To Status
	// Err is the reason for To when To is warn or fail, and nil otherwise.
	// Unlike HTTP output it is never withheld: hooks and logs are inside the
	// trust boundary. It is ErrPending while a check has no result yet.
	Err error
	// Breaker is set for a breaker state change; Check then names the
	// dependency check and Group is Readiness.
	Breaker *BreakerChange

	msg    string // Err's text, taken where user code is contained
	pinned int    // the length of Err's own text, which the event keeps alive
}

// RunResult says how one run of a check ended, in the terms metrics count
// by. The zero value is not a valid result.
type RunResult uint8

const (
	// RunPass: the check returned nil.
	RunPass RunResult = iota + 1
	// RunWarn: the check's error made it warn (Warn, or NonCritical).
	RunWarn
	// RunFail: the check returned an error (and did not time out, panic or
	// meet an open breaker).
	RunFail
	// RunTimeout: the check did not return within its timeout, or it was
	// not started because its previous run still had not returned
	// (ErrStillRunning).
	RunTimeout
	// RunPanic: the check panicked or called runtime.Goexit, or so did user
	// code the run called into (an error's methods, a breaker callback).
	RunPanic
	// RunBreakerOpen: the dependency's circuit breaker answered without
	// calling the check.
	RunBreakerOpen
)

// RunResults returns the valid run results in a fixed order: RunPass,
// RunWarn, RunFail, RunTimeout, RunPanic, RunBreakerOpen. The slice is new
// at each call.
func RunResults() []RunResult {
	return []RunResult{RunPass, RunWarn, RunFail, RunTimeout, RunPanic, RunBreakerOpen}
}

// String returns "pass", "warn", "fail", "timeout", "panic" or
// "breaker-open": label values for metrics.
func (r RunResult) String() string {
	switch r {
	case RunPass:
		return "pass"
	case RunWarn:
		return "warn"
	case RunFail:
		return "fail"
	case RunTimeout:
		return "timeout"
	case RunPanic:
		return "panic"
	case RunBreakerOpen:
		return "breaker-open"
	}
	return fmt.Sprintf("RunResult(%d)", uint8(r))
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
	// its verdict (at most about the check's timeout, even when the check
	// itself goes on running).
	Start    time.Time
	Duration time.Duration
	// Err is the run's error; nil for RunPass.
	Err error
}

// An Observer learns of every run and every change, for metrics and other
// instrumentation (see AddObserver). Its methods are called on a goroutine
// of the registry's, one call at a time and in order, never on a probe
// request and never under a lock of the registry's.
type Observer interface {
	// ObserveRun is called once for each completed run of a check.
	ObserveRun(Run)
	// ObserveEvent is called for each Event, as OnStatusChange hooks are.
	ObserveEvent(Event)
}

// A DropObserver is an Observer that wants to know when it fell more than
// DefaultQueueLen items behind and lost some: ObserveDropped(n) is called,
// in order with the other calls, before the next item it does get, with the
// number it lost. Metrics built on observers can so count their own gaps.
type DropObserver interface {
	Observer
	ObserveDropped(n int)
}

// DefaultQueueLen is how many items (events, runs, log records) a hook, an
// observer or the logger may fall behind before items are dropped for it to
// make room for the newest: first events that a newer event of the same
// entry supersedes (coalescing), then the oldest items. They are dropped
// sooner if those it holds take more than about a MiB (events carry their
// reasons; each counts for at most 64 KiB), except that the latest event of
// each entry is always kept. So a consumer stuck for good costs bounded
// memory (the budget, or one event per entry), no probe ever waits for it,
// and one that catches up ends with the latest state of every entry. Dropping is logged at once, and counted when the
// consumer catches up (an observer that is a DropObserver is told the
// count).
const DefaultQueueLen = 4096

// maxQueueBytes bounds what one consumer's queue holds, by an estimate of
// its items' sizes.
const maxQueueBytes = 1 << 20

// AddObserver makes the registry report every run and every event to o
// from now on, and returns a function that stops it (calling it more than
// once is harmless). o sees what happens after the call only: take the
// current state from Latest or Checks. A panic or runtime.Goexit in o is
// recovered and logged, and o still gets later items; an o that falls more
// than DefaultQueueLen items behind loses the oldest ones (counted and
// logged), so that it ends with the latest. A nil o is ignored.
func (r *Registry) AddObserver(o Observer) (remove func()) {
	if o == nil {
		return func() {}
	}
	m := r.newMailbox("observer", func(it *item) {
		switch {
		case it.dropped > 0:
			if d, ok := o.(DropObserver); ok {
				d.ObserveDropped(it.dropped)
			}
		case it.isRun:
			o.ObserveRun(it.run)
		default:
			o.ObserveEvent(it.ev)
		}
	})
	m.runs = true
	r.subsMu.Lock()
	subs := append(slices.Clone(*r.subs.Load()), m)
	r.subs.Store(&subs)
	r.runSubs.Add(1)
	r.subsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.subsMu.Lock()
			defer r.subsMu.Unlock()
			subs := slices.DeleteFunc(slices.Clone(*r.subs.Load()), func(s *mailbox) bool { return s == m })
			r.subs.Store(&subs)
			r.runSubs.Add(-1)
		})
	}
}

// item is one thing a mailbox delivers: an event, a run, or (logger only)
// a log record.
type item struct {
	isRun   bool
	ev      Event
	run     Run
	log     *logRecord
	dropped int // a report of items lost (observers only)
	size    int // an estimate of the memory it holds, for maxQueueBytes
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs []slog.Attr
}

// mailbox delivers items to one subscriber (a hook, an observer or the
// logger) in order, on a goroutine that exists only while items are
// pending: an idle registry holds no goroutine, a slow subscriber delays
// only itself, and a stuck one costs at most DefaultQueueLen items.
type mailbox struct {
	r       *Registry
	kind    string // "hook", "observer" or "logger", for the log
	deliver func(*item)
	runs    bool // wants runs (observers)

	mu      sync.Mutex
	queue   []item
	bytes   int // the queue's items' sizes
	running bool
	dropped int  // since the last report
	warned  bool // the current run of drops has been logged
}

func (r *Registry) newMailbox(kind string, deliver func(*item)) *mailbox {
	return &mailbox{r: r, kind: kind, deliver: deliver}
}

// post queues it, starting the delivery goroutine if none is running.
func (m *mailbox) post(it item) {
	it.size += 256 // the item itself, roughly
	m.mu.Lock()
	// An item counts for at most a sixteenth of the budget, so that one
	// huge reason never costs a consumer that keeps up its next events.
	it.size = min(it.size, maxQueueBytes/16)
	// Full: events superseded by a newer one of the same entry go first,
	// then the oldest runs and log records, so that a consumer that catches up ends with
	// the latest state of every entry, never with a stale one for good.
	warn := false
	if len(m.queue) >= DefaultQueueLen || m.bytes+it.size > maxQueueBytes {
		if n := m.coalesce(); n > 0 {
			m.dropped += n
			warn = !m.warned && m.kind != "logger"
			m.warned = true
		}
	}
	for len(m.queue) >= DefaultQueueLen || m.bytes+it.size > maxQueueBytes {
		// Drop the oldest run or log record; the events left are each the
		// latest of their entry and stay, however many (one per entry at
		// the most).
		i := slices.IndexFunc(m.queue, func(q item) bool { return q.isRun || q.log != nil || q.dropped > 0 })
		if i < 0 {
			break
		}
		m.bytes -= m.queue[i].size
		m.queue = slices.Delete(m.queue, i, i+1)
		m.dropped++
		warn = warn || !m.warned && m.kind != "logger"
		m.warned = true
	}
	if warn {
		m.r.logf(slog.LevelWarn, "health: a "+m.kind+" is not keeping up; its oldest items are dropped until it does")
	}
	m.bytes += it.size
	m.queue = append(m.queue, it)
	if m.running {
		m.mu.Unlock()
		return
	}
	if !m.r.tasks.add() { // closed: nobody is left to tell
		m.queue = nil
		m.mu.Unlock()
		return
	}
	m.running = true
	m.mu.Unlock()
	go m.pump()
}

// coalesce removes from the queue every event followed by a newer event of
// the same entry (the same group, check and kind), keeping the order of the
// rest, and returns how many it removed. Runs and log records are kept:
// they are counts and lines, not states. m.mu must be held.
func (m *mailbox) coalesce() int {
	type key struct {
		g       Group
		check   string
		breaker bool
	}
	newer := make(map[key]bool)
	keep := make([]bool, len(m.queue))
	removed := 0
	for i := len(m.queue) - 1; i >= 0; i-- {
		it := &m.queue[i]
		if it.isRun || it.log != nil || it.dropped > 0 {
			keep[i] = true
			continue
		}
		k := key{it.ev.Group, it.ev.Check, it.ev.Breaker != nil}
		keep[i] = !newer[k]
		newer[k] = true
		if !keep[i] {
			removed++
		}
	}
	if removed == 0 {
		return 0
	}
	q := m.queue[:0]
	for i := range m.queue {
		if keep[i] {
			q = append(q, m.queue[i])
		} else {
			m.bytes -= m.queue[i].size
		}
	}
	clear(m.queue[len(q):])
	m.queue = q
	return removed
}

// pump delivers until the queue is empty. If the subscriber calls
// runtime.Goexit, this goroutine ends there; its deferred function hands
// the rest of the queue to a new one, so no later item is lost.
func (m *mailbox) pump() {
	finished := false
	defer func() {
		if !finished {
			go m.pump() // still counted by the tracker: the task moves over
			return
		}
		m.r.tasks.done()
	}()
	for {
		m.mu.Lock()
		if len(m.queue) == 0 {
			m.running = false
			m.mu.Unlock()
			finished = true
			return
		}
		it := m.queue[0]
		m.queue[0] = item{}
		m.queue = m.queue[1:]
		m.bytes -= it.size
		if len(m.queue) == 0 {
			m.queue = nil // let the backing array go
			m.warned = false
		}
		dropped := m.dropped
		m.dropped = 0
		m.mu.Unlock()
		if dropped > 0 && m.kind != "logger" {
			m.r.logf(slog.LevelWarn, "health: a slow "+m.kind+" fell behind; items dropped", slog.Int("dropped", dropped))
			if m.runs {
				m.call(&item{dropped: dropped})
			}
		}
		m.call(&it)
	}
}

// call delivers one item, recovering a panic. A Goexit is not recovered:
// it is reported by the deferred function and then ends the goroutine.
func (m *mailbox) call(it *item) {
	normal := false
	defer func() {
		if normal {
			return
		}
		v := recover()
		if m.kind == "logger" {
			return // the logger cannot report its own failure
		}
		what := "called runtime.Goexit"
		if v != nil {
			what = "panicked: " + describePanic(v)
		}
		m.r.logf(slog.LevelError, "health: "+m.kind+" "+what, slog.String("stack", string(debug.Stack())))
	}()
	m.deliver(it)
	normal = true
}

// publish delivers ev to the logger, the hooks and the observers.
func (r *Registry) publish(ev Event) {
	size := len(ev.msg) + max(ev.pinned, len(ev.msg)) // the text, and the error it came from
	for _, m := range *r.subs.Load() {
		m.post(item{ev: ev, size: size})
	}
}

// observeRun delivers run, which holds about size bytes of error text, to
// the observers.
func (r *Registry) observeRun(run Run, size int) {
	if r.runSubs.Load() == 0 {
		return
	}
	for _, m := range *r.subs.Load() {
		if m.runs {
			m.post(item{isRun: true, run: run, size: size})
		}
	}
}

// logf sends a record to the logger, if there is one, through its mailbox.
func (r *Registry) logf(level slog.Level, msg string, attrs ...slog.Attr) {
	if r.logbox != nil {
		size := len(msg)
		for _, a := range attrs {
			if a.Value.Kind() == slog.KindString {
				size += len(a.Value.String())
			}
		}
		r.logbox.post(item{log: &logRecord{level: level, msg: msg, attrs: attrs}, size: size})
	}
}

// logItem is the logger's deliver function.
func (r *Registry) logItem(it *item) {
	if rec := it.log; rec != nil {
		r.logger.LogAttrs(context.Background(), rec.level, rec.msg, rec.attrs...)
		return
	}
	ev := it.ev
	attrs := []slog.Attr{slog.String("group", ev.Group.String())}
	if ev.Check != "" {
		attrs = append(attrs, slog.String("check", ev.Check))
	}
	level, msg := slog.LevelInfo, "health status changed"
	switch {
	case ev.Breaker != nil:
		msg = "health circuit breaker changed state"
		attrs = append(attrs, slog.String("from", ev.Breaker.From.String()), slog.String("to", ev.Breaker.To.String()))
		if ev.Breaker.To != gobreaker.StateClosed {
			level = slog.LevelWarn
		}
	case ev.Err == ErrPending:
		// Not news of an outage: the check has not run yet.
		msg = "health check waiting for its first result"
		attrs = append(attrs, slog.String("assumed", ev.To.String()))
	default:
		attrs = append(attrs, slog.String("from", ev.From.String()), slog.String("to", ev.To.String()))
		if ev.To == StatusWarn || ev.To == StatusFail {
			level = slog.LevelWarn
		}
		if ev.msg != "" {
			attrs = append(attrs, slog.String("error", ev.msg))
		} else if ev.Err != nil {
			attrs = append(attrs, slog.String("error", safeError(ev.Err)))
		}
	}
	r.logger.LogAttrs(context.Background(), level, msg, attrs...)
}
