package health

import (
	"log/slog"
	"time"

	"github.com/probekit/probekit/internal/mailbox"
)

// item is what a consumer (an observer or the logger) is given: an event
// (shared), a run of c, or a log record. It is small because a run's
// goroutine posts it: copies of a larger one grew that goroutine's stack.
type item struct {
	ev     *Event
	log    *logRecord
	c      *check
	err    error
	start  time.Time
	dur    time.Duration
	result RunResult
	status Status
	size   int // the bytes of text it holds
}

// entryKey is what an event is the latest of, when a consumer falls behind.
type entryKey struct {
	g       Group
	check   string
	breaker bool
}

type box = mailbox.Mailbox[item, entryKey]

// newBox returns the mailbox of a consumer: its goroutines count for
// Close, and once it falls behind, runs and log records are dropped and
// each entry's latest event kept.
func (r *Registry) newBox(deliver func(item), failed func(v any, stack []byte)) *box {
	m := &box{Deliver: deliver, Failed: failed, Start: r.tasks.Add, Done: r.tasks.Done,
		Size: func(it item) int { return it.size }}
	m.Key = func(it item) (entryKey, bool) {
		if it.ev == nil {
			return entryKey{}, false
		}
		return entryKey{it.ev.Group, it.ev.Check, it.ev.Breaker != nil}, true
	}
	m.Merge = func(older, newer item) item {
		ev := *newer.ev
		ev.From = older.ev.From // one change, from what the consumer last heard of
		newer.ev = &ev
		return newer
	}
	m.Dropped = func(n int, first bool) {
		switch {
		case m == r.logbox:
		case first:
			r.logf(slog.LevelWarn, "health: an observer is not keeping up: runs are dropped for it, and only the latest event of each entry kept, until it does")
		default:
			r.logf(slog.LevelWarn, "health: a slow observer fell behind; runs were dropped for it", slog.Int("dropped", n))
		}
	}
	return m
}
