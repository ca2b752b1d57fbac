package health

import (
	"context"
	"time"

	"github.com/probekit/probekit/internal/bound"
	"github.com/probekit/probekit/internal/errchain"
)

// run is one run of a check, and the context the check runs with. The
// check runs on a goroutine of its own (exec); the first of its returning
// and its timeout (expire) gives the verdict, under the check's bound, and
// conclude records it and tells the waiting probes.
type run struct {
	// A standard deadline context (sharedContext), so that contexts and
	// AfterFuncs derived from it cost no goroutine.
	context.Context
	share   *sharedContext // nil for a run that never called the check
	waiters []*flight      // the probes waiting for its verdict (guarded by c.mu)
	wbuf    [1]*flight
	c       *check
	call    bound.Call
	start   time.Time
	allow   func(error) // the breaker's report of this call; nil without one
	o       outcome     // the verdict's outcome, written by the winner of call
}

type runKey struct{}

func (x *run) Value(key any) any {
	if key == (runKey{}) {
		return x
	}
	return x.Context.Value(key)
}

type outcome struct {
	err    error
	msg    string
	kind   RunResult // RunFail stands for "pass, warn or fail by judgement"
	warn   bool      // the error is a Warn
	closed bool      // cut short by the registry closing
}

// exec runs on the run's goroutine; user code runs in call, where a panic
// is recovered, and a runtime.Goexit is seen by the deferred finish.
func (c *check) exec() {
	x := c.next
	var o outcome // stays unset (kind 0) only if the check calls runtime.Goexit
	defer c.finish(x, &o)
	if x.call.Abandoned() { // it expired before it started
		o.kind = RunTimeout
		return
	}
	c.call(x, &o)
}

func (c *check) call(x *run, o *outcome) {
	inError := false
	defer func() {
		if v := recover(); v != nil {
			in := "check"
			if inError {
				in = "a method of the check's error"
			}
			*o = c.panicked(in, v)
		}
	}()
	err := c.checker.Check(x)
	inError = true
	*o = c.judge(x, err)
}

func (c *check) finish(x *run, o *outcome) {
	if o.kind == 0 {
		*o = c.panicked("check", nil)
	}
	if c.runs.Returned(&x.call) {
		x.o = *o
		c.conclude(x)
	}
	c.r.tasks.Done()
}

// judge reads the check's error, on the check's goroutine where its
// methods (user code) are contained.
func (c *check) judge(x *run, err error) outcome {
	if err == nil {
		return outcome{kind: RunPass}
	}
	raw := err.Error()
	o := outcome{err: err, msg: c.redacted(raw), kind: RunFail, warn: errchain.Has(err, isWarning)}
	switch {
	case !time.Now().Before(x.share.deadline):
		o.err, o.kind = timeoutFailure(c.opts.Timeout, err, o.msg), RunTimeout
		o.msg = o.err.Error()
	case x.Context.Err() != nil && context.Cause(x.Context) == ErrClosed:
		o.closed = true // the registry cut it short: says nothing about what it checks
	}
	return o
}

// redacted returns msg redacted. One exec of a check runs at a time (its
// bound), so the cache needs no lock.
func (c *check) redacted(msg string) string {
	if msg != c.rawMsg || c.redactedMsg == "" {
		c.rawMsg, c.redactedMsg = msg, redactMsg(msg)
	}
	return c.redactedMsg
}

// panicked is the outcome of a run whose user code panicked with v (nil:
// called runtime.Goexit); it is logged with the stack.
func (c *check) panicked(in string, v any) outcome {
	err := panicFailure(in, v)
	c.r.logPanic(c, err)
	return outcome{err: err, msg: err.Error(), kind: RunPanic}
}

// expire gives x its timeout verdict, unless the check returned first.
func (c *check) expire(x *run) {
	if c.runs.Abandon(&x.call) {
		err := timeoutFailure(c.opts.Timeout, nil, "")
		x.o = outcome{err: err, msg: err.Error(), kind: RunTimeout}
		c.conclude(x)
	}
}

func (c *check) settleWithout(x *run, o outcome) {
	if c.runs.Returned(&x.call) {
		x.o = o
		c.conclude(x)
	}
}

// conclude gives x its verdict x.o; only the winner of x's bound calls it.
// The breaker hears first, so the next probe finds it as this run left it.
func (c *check) conclude(x *run) {
	o := &x.o
	if x.allow != nil {
		err := o.err
		switch {
		case o.closed:
			err = errExcluded
		case o.warn:
			err = nil // degraded, but the dependency answered
		}
		c.breaker.report(x.allow, err, false)
	}
	keep := o.closed && c.background() // closing: a background check keeps its last result
	if o.closed {
		o.err, o.msg, o.kind = ErrClosed, ErrClosed.Error(), RunFail
	}
	waiters := c.record(x, keep)
	for _, f := range waiters {
		f.arrive()
	}
	if x.share != nil {
		x.share.release()
	}
	if c.background() && !keep {
		c.scheduleNext()
	}
}

// record stores x's verdict (unless keep), announces what changed, tells
// the observers, and returns the probes waiting for the verdict.
func (c *check) record(x *run, keep bool) []*flight {
	now := time.Now()
	o := &x.o
	status := StatusFail
	switch {
	case o.err == nil:
		status, o.kind = StatusPass, RunPass
	case c.opts.NonCritical || o.warn:
		status = StatusWarn
		if o.kind == RunFail {
			o.kind = RunWarn
		}
	}
	c.mu.Lock()
	if c.cur == x {
		c.cur = nil
	}
	waiters := x.waiters
	x.waiters = nil
	if keep {
		c.mu.Unlock()
		return waiters
	}
	c.last = result{status: status, kind: o.kind, err: o.err, msg: o.msg, at: now, dur: now.Sub(x.start)}
	c.has = true
	latched := c.group == Startup && status != StatusFail && !c.latched
	c.latched = c.latched || latched
	c.recount()
	c.mu.Unlock()
	if c.background() {
		c.r.version.Add(1) // cached renderings show its time and duration
	}
	if latched {
		c.r.latch(1)
	}
	if len(*c.r.subs.Load()) > 0 && !c.r.closed.Load() { // a closed registry's refusals are no runs
		c.r.publishRun(c, x, status, now.Sub(x.start)) // before the probes are told: in order
	}
	return waiters
}

// recount counts c in its group's tally by its effective status and
// announces it if it changed, or if it is the first real result of a check
// assumed to fail while pending (its reason is news). c.mu must be held,
// so that a check's announcements keep their order.
func (c *check) recount() {
	s, msg, err := c.effective()
	first := c.has && !c.real && s != StatusPass
	c.real = c.real || c.has
	if s == c.status && !first {
		return
	}
	t := &c.r.tally[c.group]
	t.add(c.status, -1)
	t.add(s, 1)
	ev := Event{Group: c.group, Check: c.name, From: c.status, To: s}
	if s != StatusPass {
		ev.Err, ev.Reason = err, msg
	}
	c.status = s
	c.r.settle(&ev)
}
