package health

import (
	"math/rand/v2"
	"time"
)

// schedule (re)arms the timer of a background check (CheckOptions.Every),
// which starts its next run; each verdict schedules the next.
func (c *check) schedule(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r.closed.Load() {
		return
	}
	if c.scheduled == nil {
		c.scheduled = time.AfterFunc(d, c.tick)
	} else {
		c.scheduled.Reset(d)
	}
}

// scheduleNext schedules the next run after the interval ± jitter or,
// while the breaker is open, at its trial if later: runs in between would
// only read the open breaker, and a trial on the next tick would put a
// fleet's trials back in step. A startup check that has passed runs no
// more.
func (c *check) scheduleNext() {
	c.mu.Lock()
	latched := c.latched
	c.mu.Unlock()
	if latched {
		return
	}
	next := jittered(c.opts.Every)
	if c.breaker != nil {
		if at := c.breaker.status().NextTrial; !at.IsZero() {
			next = max(next, time.Until(at)) // never sooner than the interval
		}
	}
	c.schedule(next)
}

// tick starts a run; if one is in flight (the check was woken), its
// verdict schedules the next, and if none may start (the last hangs), the
// next interval does.
func (c *check) tick() {
	f := newFlight(c.r)
	started := c.join(f)
	f.arm()
	if !started {
		c.scheduleNext()
	}
}

// wake runs a background check now (its breaker was closed by traffic).
func (c *check) wake() {
	if c.background() {
		c.schedule(0)
	}
}

// jittered returns d ± jitter·d at random, at least a millisecond.
func jittered(d time.Duration) time.Duration {
	j := float64(d) * (1 + (rand.Float64()*2-1)*jitter)
	return max(time.Duration(j), minInterval)
}
