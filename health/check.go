package health

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/probekit/probekit/internal/redact"
)

// This file is the middle of a probe's path (see handler.go): evaluate
// starts the runs a probe needs, or joins those in flight; each run calls
// the check on a goroutine of its own (exec) and gets its verdict there or
// at its deadline (expire); conclude and record store the verdict, update
// the group's tally and tell the waiting probes.

// CheckFunc is a health check: it returns nil when what it checks is
// healthy and an error saying what is wrong otherwise. It must honour ctx,
// which carries the check's timeout; a check that ignores it is still
// reported as failed when the timeout fires, but its goroutine lingers until
// it returns, and it is not started again until then.
//
// A check may call Observe to report a measurement and may return an error
// wrapped with Warn to report a degraded (200) rather than failed (503)
// state. Method values such as (*sql.DB).PingContext are CheckFuncs.
//
// The registry calls a check only on a goroutine of its own, and contains
// whatever the check does there: a panic, a runtime.Goexit, or a returned
// error whose methods panic is a failed run (ErrPanic), never a crash.
type CheckFunc func(ctx context.Context) error

// check is one registered check and its latest result.
type check struct {
	r       *Registry
	name    string
	group   Group
	fn      CheckFunc
	cfg     checkConfig
	breaker *Breaker // nil unless cfg.dependency

	mu      sync.Mutex
	cur     *run // the run awaiting its verdict
	busy    *run // the run whose fn is executing, maybe past its verdict
	last    result
	has     bool // last holds a real result
	latched bool // startup checks: passed once, never run again
	status  Status
	real    bool        // a real (not pending) status has been announced
	timer   *time.Timer // fires at the current run's deadline
	execFn  func()      // c.exec, made once, so that starting a run allocates only the run
	sched   *time.Timer // background checks: starts the next run

	// The last error text exec redacted, and the result: a failing check
	// usually fails the same way run after run. Only exec touches them, and
	// one exec runs at a time.
	rawMsg, redactedMsg string
	timeout             error // the verdict of a run that overran, made at the first
}

// result is the verdict of one run.
type result struct {
	status Status
	kind   RunResult
	err    error
	msg    string // err's text, taken once on the run's goroutine, redacted and clipped
	pinned int    // the length of err's own text
	at     time.Time
	dur    time.Duration
	obs    *Observation
	raw    []byte // obs.Value as JSON
}

func newCheck(r *Registry, g Group, name string, fn CheckFunc, cfg checkConfig) *check {
	c := &check{r: r, name: name, group: g, fn: fn, cfg: cfg}
	if cfg.dependency {
		c.breaker = newBreaker(r, c, cfg.breaker)
	}
	return c
}

func (c *check) background() bool { return c.cfg.interval > 0 }

func (c *check) isLatched() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latched
}

func (c *check) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.busy != nil
}

// flight is one evaluation that probes wait on. pending counts the
// verdicts still to come, plus one held by whoever starts the runs. It is
// what singleflight.DoChan would be, shaped for this one use: a probe of n
// checks costs one flight and n runs, with no goroutine, channel or call
// record per check beyond the run itself.
type flight struct {
	r       *Registry
	g       Group
	shared  bool // registered in r.flights
	pending atomic.Int32
	done    chan struct{}
	// The runs the starter began, whose timeouts the flight's one timer
	// gives (see watch): a probe of n checks arms one timer, not n.
	runs  []*run
	timer *time.Timer
}

func newFlight(r *Registry, g Group, shared bool) *flight {
	f := &flight{r: r, g: g, shared: shared, done: make(chan struct{})}
	f.pending.Store(1)
	return f
}

// watch arms the flight's timer for the first deadline of its runs.
func (f *flight) watch(now time.Time) {
	if len(f.runs) == 0 {
		return
	}
	next := f.runs[0].deadline
	for _, x := range f.runs[1:] {
		if x.deadline.Before(next) {
			next = x.deadline
		}
	}
	f.r.flightMu.Lock() // orders the timer's creation with arrive's Stop
	if f.pending.Load() > 0 {
		f.timer = time.AfterFunc(next.Sub(now), f.expire)
	}
	f.r.flightMu.Unlock()
}

// expire is the flight timer's function: every run past its deadline gets
// its timeout verdict, and the timer is set again for the next deadline.
func (f *flight) expire() {
	now := time.Now()
	var next time.Time
	for _, x := range f.runs {
		if !now.Before(x.deadline) {
			x.c.expireRun(x)
		} else if x.c.pending(x) && (next.IsZero() || x.deadline.Before(next)) {
			next = x.deadline
		}
	}
	if !next.IsZero() {
		f.timer.Reset(next.Sub(now))
	}
}

// arrive counts one verdict (or the starter's hold) in.
func (f *flight) arrive() {
	if f.pending.Add(-1) != 0 {
		return
	}
	if f.shared || len(f.runs) > 0 {
		f.r.flightMu.Lock()
		if f.shared && f.r.flights[f.g] == f {
			f.r.flights[f.g] = nil
		}
		if f.timer != nil {
			f.timer.Stop()
		}
		f.r.flightMu.Unlock()
	}
	close(f.done)
}

// evaluate runs the checks a probe of group g with selection sel must run
// (those that run on request) and returns when all have their verdicts,
// which their timeouts bound, or when ctx is done. Concurrent plain probes
// of a group share one evaluation, and every probe shares the run of a
// check that is already in flight: a check never runs twice at once.
func (r *Registry) evaluate(ctx context.Context, snap *snapshot, g Group, sel *selection) {
	if sel.latest {
		return
	}
	if g == Startup || g == Readiness && sel.wants(EntryStartup) {
		r.completeEmptyStartup()
	}
	due := snap.due[g]
	if len(due) == 0 {
		return
	}
	f, starter := (*flight)(nil), true
	if sel.whole() {
		r.flightMu.Lock()
		if f = r.flights[g]; f != nil {
			starter = false
		} else {
			f = newFlight(r, g, true)
			r.flights[g] = f
		}
		r.flightMu.Unlock()
	} else {
		f = newFlight(r, g, false)
	}
	if starter {
		startupDone := r.startupDone.Load()
		now := time.Now() // one reading for all the runs the probe starts
		// With several runs to start, the flight times them all out with
		// one timer; a single run uses its check's own.
		timer := (*flight)(nil)
		if len(due) > 1 {
			timer, f.runs = f, make([]*run, 0, len(due))
		}
		for _, c := range due {
			wanted := sel.wants(c.name)
			switch {
			case c.group == g:
			case c.group == Liveness:
				wanted = sel.wants(EntryLiveness)
			case c.group == Startup:
				wanted = sel.wants(EntryStartup) && !startupDone
			}
			if !wanted {
				continue
			}
			f.pending.Add(1)
			if !c.start(f, now, timer) {
				f.pending.Add(-1) // cannot reach 0: the starter's hold is still in
			}
		}
		f.watch(now)
		f.arrive()
	}
	r.await(ctx, f)
}

// await waits for f's verdicts, or for ctx to end.
func (r *Registry) await(ctx context.Context, f *flight) {
	select {
	case <-f.done:
	case <-ctx.Done():
	}
}

// outcome is what a run produced, before it is judged.
type outcome struct {
	start    time.Time
	err      error
	msg      string
	pinned   int       // len(err.Error()), before redaction and clipping
	kind     RunResult // RunFail stands for "pass, warn or fail by judgement"
	warn     bool      // the error is a Warn
	canceled bool      // the error says the context was cancelled
	obs      *Observation
	raw      []byte
	stage    stage // how far exec got
}

type stage uint8

const (
	inCheck stage = iota
	inErrorMethods
	finished
)

// start begins a run of c, or joins the run in flight, with f (if not
// nil) waiting for its verdict; it reports whether f will be told of it. A
// run that cannot start (the registry is closed, the previous run has not
// returned, the breaker is open) gets its verdict at once, without user
// code and without waiting.
func (c *check) start(f *flight, now time.Time, timer *flight) bool {
	c.r.parentEnded() // closes the registry if its context has ended
	c.mu.Lock()
	if x := c.cur; x != nil {
		if f != nil {
			x.waiters = append(x.waiters, f)
		}
		c.mu.Unlock()
		return f != nil
	}
	if c.latched { // passed since the caller's snapshot was taken
		c.mu.Unlock()
		return false
	}
	if c.r.closed.Load() || c.busy != nil {
		closed := c.r.closed.Load()
		c.mu.Unlock()
		if closed {
			c.record(&outcome{start: now, err: ErrClosed, msg: ErrClosed.Error(), kind: RunFail}, nil)
		} else {
			o := c.breaker.refuse(outcome{start: now, err: ErrStillRunning, msg: ErrStillRunning.Error(), kind: RunTimeout})
			c.record(&o, nil)
		}
		return false
	}
	x := &run{c: c, start: now, deadline: now.Add(c.cfg.timeout), flightTimed: timer != nil}
	if f != nil {
		x.waiters = append(x.buf[:0], f)
	}
	if timer != nil {
		timer.runs = append(timer.runs, x) // the starter's own flight: no lock needed
	}
	c.cur = x // from now on, others join x
	if c.breaker == nil && c.r.tasks.add() {
		// No breaker to ask: the run starts in this critical section.
		c.launchLocked(x)
		return f != nil
	}
	c.mu.Unlock()

	if c.breaker != nil {
		allow, o := c.breaker.admit(now)
		if allow == nil {
			c.conclude(x, &o, false)
			return f != nil
		}
		x.allow = allow
	}
	if !c.r.tasks.add() {
		c.conclude(x, &outcome{start: now, err: ErrClosed, msg: ErrClosed.Error(), kind: RunFail, canceled: true}, false)
		return f != nil
	}
	c.mu.Lock()
	c.launchLocked(x)
	return f != nil
}

// launchLocked starts run x's goroutine and its timer, and unlocks c.mu,
// which must be held; the registry's tracker has counted the goroutine.
func (c *check) launchLocked(x *run) {
	c.busy = x
	if c.execFn == nil {
		c.execFn = c.exec
	}
	if !x.flightTimed {
		c.armLocked(c.cfg.timeout)
	}
	exec := c.execFn
	c.mu.Unlock()
	go exec() // a func value without arguments: the go statement allocates nothing
}

// pending reports whether run x still awaits its verdict.
func (c *check) pending(x *run) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur == x
}

// armLocked sets the check's timer to fire in d. c.mu must be held.
func (c *check) armLocked(d time.Duration) {
	if c.timer == nil {
		c.timer = time.AfterFunc(d, c.expire)
	} else {
		c.timer.Reset(d)
	}
}

// exec runs the check on its own goroutine. Everything that calls user
// code (the check, its error's methods, its observation's MarshalJSON)
// happens here, so a panic or runtime.Goexit anywhere in it is seen by the
// deferred finish, and a hang costs this goroutine only.
func (c *check) exec() {
	// No lock: c.busy was set before the go statement that started this
	// goroutine, and only this goroutine changes it until it returns.
	x := c.busy
	o := outcome{start: x.start}
	defer c.finish(x, &o)
	o.err = c.fn(x)
	c.judge(x, &o)
}

// judge reads the check's error and observation on the check's goroutine,
// where their methods (user code) are contained, and fixes what the run
// reports. It is a function of its own, as are the other steps of a run,
// so that a run's goroutine needs little stack: a run costs no stack growth.
//
//go:noinline
func (c *check) judge(x *run, o *outcome) {
	o.stage = inErrorMethods
	if o.err != nil {
		// Drivers echo their DSNs into errors: the text the registry logs
		// and (with ShowDetails) serves is redacted, whoever made the error.
		raw := o.err.Error()
		o.msg, o.pinned = c.redacted(raw), len(raw)
		o.warn = chainHas(o.err, isWarning)
		o.canceled = chainHas(o.err, is(context.Canceled))
		if !time.Now().Before(x.deadline) || chainHas(o.err, is(context.DeadlineExceeded)) {
			te := newTimeoutError(c.cfg.timeout, o.err, o.msg)
			o.err, o.msg, o.kind = te, te.msg, RunTimeout
		} else {
			o.kind = RunFail
		}
	} else {
		o.kind = RunPass
	}
	obs, raw, pe := x.seal()
	if pe != nil {
		*o = outcome{start: x.start, err: pe, msg: pe.msg, kind: RunPanic}
	}
	o.obs, o.raw = obs, raw
	o.stage = finished
}

// redacted returns msg clipped, with its credentials hidden.
func (c *check) redacted(msg string) string {
	if msg != c.rawMsg || c.redactedMsg == "" {
		c.rawMsg, c.redactedMsg = msg, clip(redact.String(msg))
	}
	return c.redactedMsg
}

// finish is exec's deferred tail: it turns a panic or Goexit into the
// run's verdict and gives the verdict, unless the timeout gave it first.
func (c *check) finish(x *run, o *outcome) {
	if o.stage != finished {
		c.panicked(x, o, recover()) // recover must be called here, by the deferred function itself
	}
	x.cancel(context.Canceled) // the run is over: release what the check derived from ctx
	c.conclude(x, o, true)
	c.r.tasks.done()
}

// panicked makes o the verdict of a run whose user code panicked with v
// (nil: called runtime.Goexit), and logs it.
//
//go:noinline
func (c *check) panicked(x *run, o *outcome, v any) {
	in := "check"
	switch o.stage {
	case inErrorMethods:
		in = "a method of the check's error"
	}
	pe := newPanicError(in, v, debug.Stack())
	c.r.logf(slog.LevelError, "health check panicked", slog.String("group", c.group.String()),
		slog.String("check", c.name), slog.String("panic", pe.msg), slog.String("stack", string(pe.Stack)))
	*o = outcome{start: x.start, err: pe, msg: pe.msg, kind: RunPanic, stage: finished}
}

// expire is the timer's function: it gives an overrunning run its verdict
// at the deadline, whether or not the check ever returns.
func (c *check) expire() {
	c.mu.Lock()
	x := c.cur
	c.mu.Unlock()
	if x != nil {
		c.expireRun(x)
	}
}

// expireRun gives run x its timeout verdict if its deadline has passed and
// it has none yet (a timer may fire late, for an earlier run).
func (c *check) expireRun(x *run) {
	c.mu.Lock()
	if c.cur != x || time.Now().Before(x.deadline) {
		c.mu.Unlock()
		return
	}
	if c.timeout == nil {
		c.timeout = newTimeoutError(c.cfg.timeout, nil, "")
	}
	err := c.timeout
	c.mu.Unlock()
	x.cancel(context.DeadlineExceeded)
	_, _, _ = x.seal() // a run that overran reports nothing it observed
	c.conclude(x, &outcome{start: x.start, err: err, msg: err.Error(), kind: RunTimeout}, false)
}

// conclude gives run x its verdict o, unless it already has one; fromExec
// says the check has returned. The breaker hears of the call before anyone
// sees the verdict, so the next probe already finds the breaker as this run
// left it.
func (c *check) conclude(x *run, o *outcome, fromExec bool) {
	c.mu.Lock()
	if fromExec {
		c.busy = nil // before the verdict is out: the next run may start at once
	}
	if c.cur != x {
		c.mu.Unlock()
		return
	}
	c.cur = nil
	if fromExec && !x.flightTimed && c.timer != nil {
		c.timer.Stop()
	}
	waiters := x.waiters
	c.mu.Unlock()
	if x.allow != nil {
		c.reportCall(x, o)
	}
	if c.r.closed.Load() && o.canceled {
		if c.background() { // closing: keep the last real result
			notify(waiters)
			return
		}
		o.err, o.msg, o.kind = ErrClosed, ErrClosed.Error(), RunFail
	}
	c.record(o, waiters)
}

// reportCall tells the breaker how the run's call went.
//
//go:noinline
func (c *check) reportCall(x *run, o *outcome) { *o = c.breaker.report(x.allow, *o) }

// record stores a verdict, announces what changed, tells the waiting probes
// and the observers, and schedules a background check's next run.
func (c *check) record(o *outcome, waiters []*flight) {
	now := time.Now()
	res := result{kind: o.kind, err: o.err, msg: o.msg, pinned: o.pinned, at: now, dur: now.Sub(o.start), obs: o.obs, raw: o.raw}
	switch {
	case o.err == nil:
		res.status, res.kind = StatusPass, RunPass
	case c.cfg.nonCritical || o.warn:
		res.status = StatusWarn
		if res.kind == RunFail {
			res.kind = RunWarn
		}
	default:
		res.status = StatusFail
	}
	c.mu.Lock()
	c.last, c.has = res, true
	latched := c.group == Startup && res.status != StatusFail && !c.latched
	c.latched = c.latched || latched
	c.announce()
	c.mu.Unlock()
	if c.background() {
		// Only renderings of groups without checks that run on request are
		// cached; a verdict of such a check need not invalidate any.
		c.r.version.Add(1)
	}
	if latched {
		c.r.startupLatched()
	}
	// Observers hear of the run before the probes do, so that they hear of
	// a check's runs in the order of their verdicts.
	if c.r.runSubs.Load() > 0 {
		c.observe(&res, o.start)
	}
	notify(waiters)
	if c.background() {
		c.scheduleNext()
	}
}

// observe tells the observers of a recorded run.
//
//go:noinline
func (c *check) observe(res *result, start time.Time) {
	c.r.observeRun(Run{Group: c.group, Check: c.name, Result: res.kind, Status: res.status, Start: start, Duration: res.dur, Err: res.err}, len(res.msg)+res.pinned)
}

func notify(waiters []*flight) {
	for _, f := range waiters {
		f.arrive()
	}
}

// effective is the status c counts with now: its latest result, or the
// status assumed while it has none (pass in liveness, as the kubelet
// assumes; warn if non-critical; fail otherwise), made fail (or warn) by an
// open breaker. c.mu must be held.
func (c *check) effective() (Status, string, error) {
	if !c.has {
		switch {
		case c.group == Liveness:
			return StatusPass, ErrPending.Error(), ErrPending
		case c.cfg.nonCritical:
			return StatusWarn, ErrPending.Error(), ErrPending
		}
		return StatusFail, ErrPending.Error(), ErrPending
	}
	if c.last.status == StatusPass && c.breaker != nil && c.breaker.State() == gobreaker.StateOpen {
		if c.cfg.nonCritical {
			return StatusWarn, errBreakerOpenState.Error(), errBreakerOpenState
		}
		return StatusFail, errBreakerOpenState.Error(), errBreakerOpenState
	}
	return c.last.status, c.last.msg, c.last.err
}

// announce recounts c in its group's tally and announces its status if it
// changed, or if this is the first real result of a check that was assumed
// to fail while pending (its reason is news). c.mu must be held.
func (c *check) announce() {
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
		ev.Err, ev.msg = err, msg
		if c.has && err == c.last.err {
			ev.pinned = c.last.pinned
		}
	}
	c.status = s
	c.r.settle(&ev)
}
