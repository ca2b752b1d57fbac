package health

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Event is a change the registry announces to OnStatusChange hooks and its
// logger: a check's or a group's status changed, or (Breaker != nil) a
// dependency's circuit breaker changed state.
type Event struct {
	Time  time.Time
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
	// Err is the reason for To when it is not pass. Unlike HTTP output it
	// is never withheld: hooks and logs are inside the trust boundary.
	Err error
	// Breaker is set for a breaker state change.
	Breaker *BreakerChange
}

// dispatcher delivers events one at a time, in order, on a goroutine that
// exists only while events are pending, so that a slow hook never delays a
// probe and an idle registry holds no goroutine.
type dispatcher struct {
	hooks   []func(Event)
	mu      sync.Mutex
	queue   []Event
	running bool
}

func (r *Registry) emit(evs ...Event) {
	d := &r.events
	if len(evs) == 0 || len(d.hooks) == 0 && !r.logs {
		return
	}
	d.mu.Lock()
	d.queue = append(d.queue, evs...)
	if d.running {
		d.mu.Unlock()
		return
	}
	if !r.tasks.add() { // closed: nobody is left to tell
		d.queue = nil
		d.mu.Unlock()
		return
	}
	d.running = true
	d.mu.Unlock()
	go r.drain()
}

func (r *Registry) drain() {
	defer r.tasks.done()
	d := &r.events
	for {
		d.mu.Lock()
		batch := d.queue
		d.queue = nil
		if len(batch) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		for _, ev := range batch {
			r.deliver(ev)
		}
	}
}

func (r *Registry) deliver(ev Event) {
	r.log(ev)
	for _, hook := range r.events.hooks {
		func() {
			defer func() {
				if v := recover(); v != nil {
					r.logger.Error("health status hook panicked", "panic", fmt.Sprint(v))
				}
			}()
			hook(ev)
		}()
	}
}

func (r *Registry) log(ev Event) {
	if !r.logs {
		return
	}
	attrs := []slog.Attr{slog.String("group", ev.Group.String())}
	if ev.Check != "" {
		attrs = append(attrs, slog.String("check", ev.Check))
	}
	level, msg := slog.LevelInfo, "health status changed"
	if ev.Breaker != nil {
		msg = "health circuit breaker changed state"
		attrs = append(attrs, slog.String("from", ev.Breaker.From.String()), slog.String("to", ev.Breaker.To.String()))
		if ev.Breaker.To != 0 { // not closed
			level = slog.LevelWarn
		}
	} else {
		attrs = append(attrs, slog.String("from", ev.From.String()), slog.String("to", ev.To.String()))
		if ev.To == StatusWarn || ev.To == StatusFail {
			level = slog.LevelWarn
		}
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	}
	r.logger.LogAttrs(context.Background(), level, msg, attrs...)
}

// breakerChanged is the breaker's onChange: it runs outside gobreaker's lock.
func (r *Registry) breakerChanged(c *check, ch BreakerChange) {
	r.emit(Event{Time: time.Now(), Group: c.group, Check: c.name, Breaker: &ch})
	r.changed(c.group)
	if ch.To == gobreaker.StateClosed && c.wake != nil {
		// Closed by application traffic while the check slept until its
		// trial: check now rather than report a stale failure.
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}
