package health

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// evaluate, the middle of a probe's path (handler.go to render.go), starts
// or joins the runs a probe needs and waits for their verdicts. Sharing a
// run is singleflight.DoChan's job, written out because DoChan per check
// misses the allocation budget (docs/performance.md); whole-group probes
// share one evaluation through singleflight (report.go).

// flight is one probe's (or background tick's) wait for the verdicts of
// the runs it needs, and the runs it starts.
type flight struct {
	r       *Registry
	now     time.Time
	pending atomic.Int32  // verdicts still to come, plus one until armed
	done    chan struct{} // closed when pending reaches zero
	first   sharedContext // the runs it starts with the first timeout it meets
	more    []*sharedContext
}

func newFlight(r *Registry) *flight {
	f := &flight{r: r, now: time.Now(), done: make(chan struct{})}
	f.pending.Store(1)
	return f
}

func (f *flight) arrive() {
	if f.pending.Add(-1) == 0 {
		close(f.done)
	}
}

// arm starts the timers of the runs f started, once all are, and lets go
// of the hold.
func (f *flight) arm() {
	if f.first.ctx != nil {
		f.first.arm()
	}
	for _, s := range f.more {
		s.arm()
	}
	f.arrive()
}

func (f *flight) context(timeout time.Duration) *sharedContext {
	s := &f.first
	if s.ctx != nil && s.timeout != timeout {
		s = nil
		for _, m := range f.more {
			if m.timeout == timeout {
				s = m
			}
		}
		if s == nil {
			s = new(sharedContext)
			f.more = append(f.more, s)
		}
	}
	if s.ctx == nil {
		s.timeout, s.deadline, s.live = timeout, f.now.Add(timeout), 1
		s.ctx, s.cancel = context.WithDeadline(f.r.base, s.deadline)
	}
	return s
}

// sharedContext is the standard deadline context of the runs one probe
// starts with one timeout, so one deadline (contexts derived from it report
// DeadlineExceeded then); it is done then, when the registry closes, or
// once every run has its verdict. At the deadline, one timer gives the
// runs still without a verdict their timeout verdicts.
type sharedContext struct {
	ctx      context.Context
	cancel   context.CancelFunc
	timeout  time.Duration
	deadline time.Time

	mu    sync.Mutex
	runs  []*run // fixed once armed
	live  int    // runs without a verdict, plus one until armed
	timer *time.Timer
	buf   [4]*run
}

func (s *sharedContext) add(x *run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == nil {
		s.runs = s.buf[:0]
	}
	s.runs = append(s.runs, x)
	s.live++
}

// arm sets the timer once every run is added, under the lock that release
// takes, so that it never finds the timer half set; and lets go of the hold.
func (s *sharedContext) arm() {
	s.mu.Lock()
	if s.live > 1 {
		s.timer = time.AfterFunc(time.Until(s.deadline), s.expire)
	}
	s.mu.Unlock()
	s.release()
}

func (s *sharedContext) release() {
	s.mu.Lock()
	s.live--
	last := s.live == 0
	if last && s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	if last && time.Now().Before(s.deadline) { // else its own timer ends it, with DeadlineExceeded
		s.cancel()
	}
}

// expire gives every run without a verdict its timeout verdict.
func (s *sharedContext) expire() {
	s.mu.Lock()
	runs := s.runs
	s.mu.Unlock()
	for _, x := range runs {
		x.c.expire(x)
	}
}

// evaluate waits for the verdicts of due's runs, or for ctx to end.
func (r *Registry) evaluate(ctx context.Context, due []*check) {
	if len(due) == 0 {
		return
	}
	f := newFlight(r)
	for _, c := range due {
		c.join(f)
	}
	f.arm()
	select {
	case <-f.done:
	case <-ctx.Done():
	}
}

// join makes f wait for c's run in flight, or for a run it starts, and
// reports whether it does: none starts when c has latched or its last run,
// abandoned at its timeout, has not returned (c keeps its timeout verdict;
// the refusal makes no call and counts nothing). The caller arms f.
func (c *check) join(f *flight) bool {
	c.mu.Lock()
	if x := c.cur; x != nil {
		x.waiters = append(x.waiters, f)
		f.pending.Add(1)
		c.mu.Unlock()
		return true
	}
	if c.latched || c.runs.Busy() {
		c.mu.Unlock()
		return false
	}
	s := f.context(c.opts.Timeout)
	x := &run{Context: s.ctx, c: c, start: f.now}
	x.waiters = append(x.wbuf[:0], f)
	f.pending.Add(1)
	c.cur = x
	c.mu.Unlock()

	if c.r.closed.Load() || !c.r.tasks.Add() {
		c.settleWithout(x, outcome{err: ErrClosed, msg: ErrClosed.Error(), kind: RunFail, closed: true})
		return true
	}
	if c.breaker != nil {
		allow, err := c.breaker.admit()
		if err != nil {
			c.r.tasks.Done()
			c.settleWithout(x, outcome{err: err, msg: err.Error(), kind: RunBreakerOpen})
			return true
		}
		x.allow = allow
	}
	s.add(x)
	x.share = s
	// The run goes to its goroutine through c.next, so that starting it
	// allocates nothing; no other run of c can start before the goroutine
	// has taken it (c.cur or c's bound refuse it until then).
	c.next = x
	go c.execNext()
	return true
}
