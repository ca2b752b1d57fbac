// Package mailbox delivers items to one consumer, in order, on a goroutine
// that exists only while items wait (and Gather beyond): an idle mailbox
// holds no goroutine, and a slow consumer delays nobody but itself. The
// goroutine takes what waits in batches, a burst at a time, so that the
// posters (a probe's runs) keep the cores while they post. Posting never
// waits for the consumer and costs O(1) however many items wait. A full mailbox keeps
// memory bounded: a new item with a key (a state, such as a status change)
// replaces the waiting item of the same key in a map, delivered once the
// queue has drained, so a consumer that catches up ends with the latest
// state of every key; a new item without a key (a count, such as a run) is
// dropped and counted. The health registry gives one to each observer and
// to its logger.
package mailbox

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound what a mailbox holds before it drops or replaces items.
const (
	Len   = 4096    // items waiting
	Bytes = 1 << 20 // their sizes (each counts for at most Bytes/16)
)

// Gather is how long the delivery goroutine waits for more items before it
// takes what waits, unless Len/8 already wait (a poster that brings them
// there wakes it): the delay a consumer sees, at most, beyond its own.
const Gather = time.Millisecond

// Mailbox delivers items of type T; K is the type of their keys. Set the
// functions before the first Post; Deliver is required, the others may be
// nil. It is safe for concurrent use.
type Mailbox[T any, K comparable] struct {
	// Deliver hands one item to the consumer, on the mailbox's goroutine.
	Deliver func(T)
	// Key returns the key of an item that keeps only its latest when the
	// mailbox is full (ok), and Merge folds an older such item into the
	// newer that replaces it.
	Key   func(T) (key K, ok bool)
	Merge func(older, newer T) T
	// Size estimates the memory an item holds.
	Size func(T) int
	// Start asks leave to start a delivery goroutine; false means the
	// mailbox is closed, and what waits is discarded. Done says that a
	// goroutine Start allowed has ended.
	Start func() bool
	Done  func()
	// Dropped is called on the poster's goroutine when the mailbox fills
	// up (first, n is 0: from now on items are dropped or replaced), and
	// on the mailbox's goroutine before the next delivery with how many
	// items were dropped.
	Dropped func(n int, first bool)
	// Failed is called when Deliver panicked with v (nil: it called
	// runtime.Goexit), with the stack; the mailbox goes on delivering.
	Failed func(v any, stack []byte)

	mu      sync.Mutex
	queue   []slot[T] // posted, not yet taken by the delivering goroutine
	latest  map[K]T   // items with a key that did not fit
	running bool      // a goroutine is delivering
	dropped int       // since the last report
	warned  bool      // the current run of drops has been reported

	// What waits, in the queue and the batch: posters add under mu, the
	// delivering goroutine subtracts as it takes items, without the lock.
	waiting, bytes atomic.Int64

	// The delivering goroutine's: what it took from the queue, under one
	// lock, and how far it has delivered; its Gather timer. It takes a
	// whole queue at a time so that posters and the deliverer meet once
	// per batch, not per item.
	batch []slot[T]
	pos   int
	timer *time.Timer
	hurry chan struct{} // a poster's wake-up: Len/8 wait
}

type slot[T any] struct {
	item T
	size int64
}

// Post queues item, starting the delivery goroutine if none is running.
func (m *Mailbox[T, K]) Post(item T) {
	size := int64(256)
	if m.Size != nil {
		size += int64(min(m.Size(item), Bytes/16))
	}
	m.mu.Lock()
	full := m.waiting.Load() >= Len || m.bytes.Load()+size > Bytes
	first := full && !m.warned
	m.warned = m.warned || full
	if first && m.Dropped != nil {
		defer m.Dropped(0, true) // after the unlock: the consumer fell behind
	}
	switch {
	case m.Key != nil && (full || len(m.latest) > 0) && m.keyed(item, full):
	case !full:
		m.queue = append(m.queue, slot[T]{item, size})
		if m.waiting.Add(1) == Len/8 && m.running {
			select {
			case m.hurry <- struct{}{}:
			default: // already told
			}
		}
		m.bytes.Add(size)
	default:
		m.dropped++
		m.mu.Unlock()
		return
	}
	if m.running {
		m.mu.Unlock()
		return
	}
	if m.Start != nil && !m.Start() {
		m.queue, m.latest = nil, nil
		m.waiting.Store(0)
		m.bytes.Store(0)
		m.mu.Unlock()
		return
	}
	m.running = true
	if m.hurry == nil {
		m.hurry = make(chan struct{}, 1)
	}
	m.mu.Unlock()
	go m.pump()
}

// keyed puts item in the map of latest items if it has a key and the
// mailbox is full, or the map already holds its key (so that nothing of a
// key is delivered after the map, which comes last). m.mu is held.
func (m *Mailbox[T, K]) keyed(item T, full bool) bool {
	k, ok := m.Key(item)
	if !ok {
		return false
	}
	old, found := m.latest[k]
	if !full && !found {
		return false
	}
	if found && m.Merge != nil {
		item = m.Merge(old, item)
	}
	if m.latest == nil {
		m.latest = make(map[K]T)
	}
	m.latest[k] = item
	return true
}

// take makes the queue the next batch, or, if the queue is empty, the
// latest items; ok is false when nothing waits, and then the goroutine
// stops and lets the buffers go. Only the delivering goroutine calls it,
// once its batch is delivered; the two buffers are reused until then.
func (m *Mailbox[T, K]) take() (ok bool, dropped int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dropped, m.dropped = m.dropped, 0
	m.batch, m.pos, m.queue = m.queue, 0, m.batch[:0]
	if len(m.batch) == 0 {
		for _, it := range m.latest {
			m.batch = append(m.batch, slot[T]{item: it})
		}
		m.waiting.Add(int64(len(m.batch)))
		m.latest = nil
	}
	if len(m.batch) == 0 {
		m.batch, m.queue = nil, nil
		m.running, m.warned = false, false
		return false, dropped
	}
	return true, dropped
}

// pump delivers until nothing waits. If Deliver calls runtime.Goexit, this
// goroutine ends there; its deferred function hands the rest (the batch
// and its position, which it owns) to a new one.
func (m *Mailbox[T, K]) pump() {
	finished := false
	defer func() {
		if !finished {
			go m.pump() // still counted by Start: the task moves over
			return
		}
		if m.Done != nil {
			m.Done()
		}
	}()
	for {
		if m.pos == len(m.batch) {
			// Gather a burst before taking it: a probe's runs end
			// together, and a deliverer woken for each took the cores
			// from the runs still going (benchmarks/metrics: a probe of
			// 10 checks 1.3× slower with a no-op observer, 1.07× now).
			// One behind takes what waits at once.
			if m.waiting.Load() < Len/8 {
				if m.timer == nil {
					m.timer = time.NewTimer(Gather)
				} else {
					m.timer.Reset(Gather)
				}
				select {
				case <-m.timer.C:
				case <-m.hurry:
					m.timer.Stop()
				}
			}
			ok, dropped := m.take()
			if dropped > 0 && m.Dropped != nil {
				m.Dropped(dropped, false)
			}
			if !ok {
				finished = true
				return
			}
		}
		s := m.batch[m.pos]
		m.batch[m.pos] = slot[T]{}
		m.pos++
		m.waiting.Add(-1)
		m.bytes.Add(-s.size)
		m.deliver(s.item)
	}
}

// deliver calls Deliver, recovering a panic; a runtime.Goexit is reported
// and then ends the goroutine.
func (m *Mailbox[T, K]) deliver(item T) {
	normal := false
	defer func() {
		if !normal {
			if v := recover(); m.Failed != nil {
				m.Failed(v, debug.Stack())
			}
		}
	}()
	m.Deliver(item)
	normal = true
}
