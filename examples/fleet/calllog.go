package main

import (
	"context"
	"sync"
	"time"
)

// callLog records the calls the pods' checks make, as the pods see them.
type callLog struct {
	mu    sync.Mutex
	calls map[int][]call // by pod, in the order they returned
}

type call struct {
	start  time.Time
	failed bool
}

// record returns check, recording each of its calls.
func (l *callLog) record(pod int, check func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		start := time.Now()
		err := check(ctx)
		l.mu.Lock()
		if l.calls == nil {
			l.calls = make(map[int][]call)
		}
		l.calls[pod] = append(l.calls[pod], call{start: start, failed: err != nil})
		l.mu.Unlock()
		return err
	}
}

// failedAfter reports whether a call pod started at or after from, and
// before until unless that is zero, failed.
func (l *callLog) failedAfter(pod int, from, until time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.calls[pod] {
		if c.failed && !c.start.Before(from) && (until.IsZero() || c.start.Before(until)) {
			return true
		}
	}
	return false
}

// firsts returns, for each pod, when its first call at or after from
// started.
func (l *callLog) firsts(from time.Time) map[int]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := make(map[int]time.Time)
	for pod, calls := range l.calls {
		for _, c := range calls {
			if f, ok := first[pod]; !c.start.Before(from) && (!ok || c.start.Before(f)) {
				first[pod] = c.start
			}
		}
	}
	return first
}
