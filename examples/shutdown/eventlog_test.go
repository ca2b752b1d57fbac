package main

import (
	"fmt"
	"sync"
)

// eventLog records events in the order they happen: each is appended, under
// one lock, by the goroutine that saw it, right when it saw it.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

// add appends ev unless it is already there, so that "first X" events can
// be added unconditionally.
func (l *eventLog) add(ev string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e == ev {
			return
		}
	}
	l.events = append(l.events, ev)
}

func (l *eventLog) index(ev string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.events {
		if e == ev {
			return i
		}
	}
	return -1
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%q", l.events)
}
