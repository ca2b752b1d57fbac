package health

import (
	"sync"
	"sync/atomic"
)

// tracker counts the registry's goroutines so that Close can wait for them,
// and refuses new ones once closing has begun (a sync.WaitGroup may not be
// added to while it is being waited on). It takes no lock.
type tracker struct {
	n      atomic.Int64
	closed atomic.Bool
	once   sync.Once
	idle   chan struct{} // closed when closed and n is 0
}

func (t *tracker) init() { t.idle = make(chan struct{}) }

func (t *tracker) add() bool {
	if t.closed.Load() {
		return false
	}
	t.n.Add(1)
	if t.closed.Load() {
		t.done()
		return false
	}
	return true
}

func (t *tracker) done() {
	if t.n.Add(-1) == 0 && t.closed.Load() {
		t.once.Do(func() { close(t.idle) })
	}
}

func (t *tracker) close() {
	t.closed.Store(true)
	if t.n.Load() == 0 {
		t.once.Do(func() { close(t.idle) })
	}
}
