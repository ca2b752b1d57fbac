package health

import (
	"context"
	"math/rand/v2"
	"time"
)

// scheduleNext schedules a background check's next run: after its
// interval (± jitter) or, while its breaker is open, at the breaker's
// jittered trial time if that is later. Sleeping until the trial rather
// than ticking matters: runs in between would only read the open breaker,
// and a trial on the next tick would undo the jitter, putting a fleet's
// trials back in step. A startup check that has passed runs no more.
func (c *check) scheduleNext() {
	if c.isLatched() {
		return
	}
	next := jittered(c.cfg.interval, c.cfg.jitter)
	if c.breaker != nil {
		if at, open := c.breaker.trialAt(); open {
			// Never sooner than the interval: an open breaker must not
			// make a dead dependency get more calls than a live one.
			next = max(next, time.Until(at))
		}
	}
	c.schedule(next)
}

// schedule (re)arms the timer that starts a background check's next run.
func (c *check) schedule(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r.closed.Load() {
		return
	}
	if c.sched == nil {
		c.sched = time.AfterFunc(d, c.tick)
	} else {
		c.sched.Reset(d)
	}
}

// tick is the background timer's function. If a run is in flight (the
// check was woken early), its verdict schedules the next one.
func (c *check) tick() {
	if !c.r.closed.Load() {
		c.start(nil, time.Now(), nil)
	}
}

// wake runs a background check now: its breaker was closed by application
// traffic while the check slept until its trial, so its failure is stale.
func (c *check) wake() {
	if c.background() {
		c.schedule(0)
	}
}

// stop ends a check's timers and cancels its running run; the registry is
// closing.
func (c *check) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sched != nil {
		c.sched.Stop()
	}
	if c.busy != nil {
		c.busy.cancel(context.Canceled) // lock order: the check's, then the run's
	}
}

// jittered returns d lengthened or shortened by a random fraction of up to
// f, computed so that it can neither overflow nor go below a millisecond.
func jittered(d time.Duration, f float64) time.Duration {
	if f == 0 {
		return d
	}
	j := float64(d) * (1 + (rand.Float64()*2-1)*f)
	return time.Duration(min(max(j, float64(minInterval)), float64(MaxDuration)*1.5))
}
