// Package tasks counts the goroutines an owner must wait for when it
// closes, so that the wait can be bounded. sync.WaitGroup (and errgroup,
// built on it) can neither bound Wait nor refuse new goroutines once the
// wait has begun, and errgroup.Go allocates a closure per goroutine, which
// a probe's runs cannot afford.
package tasks

import (
	"sync"
	"sync/atomic"
)

// Tracker counts running tasks. Make one with New; its methods are safe
// for concurrent use.
type Tracker struct {
	n      atomic.Int64
	closed atomic.Bool
	once   sync.Once
	idle   chan struct{}
}

// New returns a Tracker with no tasks, open.
func New() *Tracker { return &Tracker{idle: make(chan struct{})} }

// Add counts a task about to start and reports true, or reports false,
// counting nothing, once Close has been called: the task must not start.
func (t *Tracker) Add() bool {
	t.n.Add(1)
	if t.closed.Load() {
		t.Done()
		return false
	}
	return true
}

// Done marks a task that Add counted as finished.
func (t *Tracker) Done() {
	if t.n.Add(-1) == 0 && t.closed.Load() {
		t.once.Do(func() { close(t.idle) })
	}
}

// Close refuses new tasks from now on; Idle is closed once those counted
// are done. Calling it again does nothing more.
func (t *Tracker) Close() {
	t.closed.Store(true)
	t.n.Add(1)
	t.Done()
}

// Idle returns a channel closed when Close has been called and every task
// counted is done; select on it with a timer to bound the wait.
func (t *Tracker) Idle() <-chan struct{} { return t.idle }
