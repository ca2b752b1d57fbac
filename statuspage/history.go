package statuspage

import (
	"sync"
	"time"

	"github.com/probekit/probekit/health"
)

// The bounds of what the page remembers of each entry (a check, a switch
// or a group), whatever the uptime. The package doc states them.
const (
	// maxChanges is how many of an entry's latest changes are kept: its
	// status changes, and its breaker's openings and closings.
	maxChanges = 100
	// window is how far back the timeline and the run summaries go, and
	// bucketWidth how much time one run summary covers.
	window      = time.Hour
	bucketWidth = time.Minute
	numBuckets  = int(window / bucketWidth)
	// flapping is how many status changes within the window make an entry
	// flapping.
	flapping = 4
)

// changeKind says what a change records.
type changeKind uint8

const (
	statusChange  changeKind = iota + 1 // from → to
	breakerOpened                       // the breaker left closed
	breakerClosed                       // the breaker closed again
)

// change is one recorded change of an entry.
type change struct {
	at       int64 // unix nanoseconds
	kind     changeKind
	from, to health.Status
	pending  bool   // to is assumed: the check has no result yet
	reason   string // redacted and clipped; for a status change to warn or fail
}

// bucket sums the runs of one check that ended within one minute.
type bucket struct {
	minute      int64 // unix minute; 0 while unused
	runs        uint32
	failed      uint32 // runs that gave fail
	warned      uint32 // runs that gave warn
	sum, maxDur time.Duration
}

// history is what the page remembers of one entry: a ring of its latest
// changes and a ring of per-minute run summaries. Its size is fixed.
type history struct {
	mu      sync.Mutex
	changes [maxChanges]change
	next    int // where the next change goes
	count   int // how many changes the ring holds
	buckets [numBuckets]bucket
	breaker bool // the breaker is not closed
}

type key struct {
	group health.Group
	name  string // "" for the group itself
}

// recorder is the page's observer: it files every run and event of the
// registry into the history of its entry. Its methods are called by the
// registry one at a time; readers take each history's lock.
type recorder struct {
	started time.Time

	mu      sync.RWMutex
	entries map[key]*history
	notify  chan struct{} // closed and replaced when a change is recorded
}

func newRecorder(now time.Time) *recorder {
	return &recorder{started: now, entries: make(map[key]*history), notify: make(chan struct{})}
}

// get returns the history of k, or nil if nothing was recorded for it.
func (rec *recorder) get(k key) *history {
	rec.mu.RLock()
	defer rec.mu.RUnlock()
	return rec.entries[k]
}

// changed returns a channel closed when the next change is recorded.
func (rec *recorder) changed() <-chan struct{} {
	rec.mu.RLock()
	defer rec.mu.RUnlock()
	return rec.notify
}

func (rec *recorder) entry(k key) *history {
	if h := rec.get(k); h != nil {
		return h
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	h := rec.entries[k]
	if h == nil {
		h = new(history)
		rec.entries[k] = h
	}
	return h
}

func (rec *recorder) wake() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	close(rec.notify)
	rec.notify = make(chan struct{})
}

// ObserveRun files the run into its minute.
func (rec *recorder) ObserveRun(r health.Run) {
	rec.entry(key{r.Group, r.Check}).addRun(r.Start.Add(r.Duration), r.Status, r.Duration)
}

// ObserveEvent files status changes and the breaker's openings and
// closings. A breaker's moves between open and half-open (its trials) are
// not changes of the entry's: its current state comes from the registry.
func (rec *recorder) ObserveEvent(ev health.Event) {
	h := rec.entry(key{ev.Group, ev.Check})
	c := change{at: ev.Time.UnixNano(), kind: statusChange, from: ev.From, to: ev.To, pending: ev.Err == health.ErrPending}
	switch {
	case ev.Breaker != nil:
		closed := ev.Breaker.State.String() == "closed"
		if !h.setBreaker(!closed) {
			return
		}
		c = change{at: c.at, kind: breakerOpened}
		if closed {
			c.kind = breakerClosed
		}
	case ev.To == health.StatusWarn || ev.To == health.StatusFail:
		c.reason = reasonOf(ev.Reason)
	}
	h.add(c)
	rec.wake()
}

// setBreaker records whether the breaker is open (or half-open), and
// reports whether that changed.
func (h *history) setBreaker(open bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.breaker == open {
		return false
	}
	h.breaker = open
	return true
}

func (h *history) add(c change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Keep one copy of a reason that repeats, as a flapping check's does.
	for i := 1; i <= h.count && i <= 4 && c.reason != ""; i++ {
		if prev := &h.changes[(h.next-i+maxChanges)%maxChanges]; prev.reason == c.reason {
			c.reason = prev.reason
			break
		}
	}
	h.changes[h.next] = c
	h.next = (h.next + 1) % maxChanges
	h.count = min(h.count+1, maxChanges)
}

func (h *history) addRun(end time.Time, s health.Status, d time.Duration) {
	minute := end.Unix() / 60
	h.mu.Lock()
	defer h.mu.Unlock()
	b := &h.buckets[minute%int64(numBuckets)]
	if b.minute != minute {
		if b.minute > minute {
			return // older than the window the ring holds
		}
		*b = bucket{minute: minute}
	}
	b.runs++
	switch s {
	case health.StatusFail:
		b.failed++
	case health.StatusWarn:
		b.warned++
	}
	b.sum += d
	b.maxDur = max(b.maxDur, d)
}

// snapshot is a copy of a history, in order, for rendering.
type snapshot struct {
	changes []change // oldest first
	buckets []bucket // of the window ending at the snapshot's time, oldest first; unused ones zero
	breaker bool
}

// snapshot copies h's changes and the buckets of the window that ends at
// now. A nil h gives an empty snapshot.
func (h *history) snapshot(now time.Time) snapshot {
	var s snapshot
	s.buckets = make([]bucket, numBuckets)
	if h == nil {
		return s
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.breaker = h.breaker
	s.changes = make([]change, h.count)
	for i := range h.count {
		s.changes[i] = h.changes[(h.next-h.count+i+maxChanges)%maxChanges]
	}
	last := now.Unix() / 60
	for i := range numBuckets {
		minute := last - int64(numBuckets-1-i)
		if b := h.buckets[minute%int64(numBuckets)]; b.minute == minute {
			s.buckets[i] = b
		}
	}
	return s
}
