package main

import (
	"sync"
	"time"

	"github.com/probekit/probekit/health"
)

// readiness records when each pod's readiness first passed.
type readiness struct {
	mu     sync.Mutex
	passed map[int]time.Time
}

// readyObserver tells r when the readiness of pod's registry goes from
// fail to pass. Readiness passes while the group is empty, then fails once
// the check is registered: the pass that counts follows a failure.
type readyObserver struct {
	pod int
	r   *readiness
}

func (readyObserver) ObserveRun(health.Run) {}

func (o readyObserver) ObserveEvent(ev health.Event) {
	if ev.Group == health.Readiness && ev.Check == "" && ev.From == health.StatusFail && ev.To == health.StatusPass {
		o.r.pass(o.pod, ev.Time)
	}
}

func (r *readiness) pass(pod int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.passed[pod]; !ok {
		r.passed[pod] = at
	}
}

func (r *readiness) get(pod int) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.passed[pod]
	return at, ok
}
