package mailbox_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/mailbox"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// item: key "" has no key (a count); any other key keeps its latest.
type item struct {
	key     string
	n, from int
}

type consumer struct {
	started chan struct{} // receives when a delivery begins
	mu      sync.Mutex
	got     []item
	gate    chan struct{} // closed to let deliveries through
	tasks   sync.WaitGroup
}

func newBox(c *consumer) *mailbox.Mailbox[item, string] {
	c.gate, c.started = make(chan struct{}), make(chan struct{}, 1)
	return &mailbox.Mailbox[item, string]{
		Deliver: func(it item) {
			select {
			case c.started <- struct{}{}:
			default:
			}
			<-c.gate
			c.mu.Lock()
			c.got = append(c.got, it)
			c.mu.Unlock()
		},
		Key:   func(it item) (string, bool) { return it.key, it.key != "" },
		Merge: func(older, newer item) item { newer.from = older.from; return newer },
		Start: func() bool { c.tasks.Add(1); return true },
		Done:  c.tasks.Done,
	}
}

func (c *consumer) items() []item {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]item(nil), c.got...)
}

func TestDeliversInOrder(t *testing.T) {
	c := &consumer{}
	m := newBox(c)
	close(c.gate)
	for i := range 100 {
		m.Post(item{n: i})
	}
	c.tasks.Wait()
	got := c.items()
	require.Len(t, got, 100)
	for i, it := range got {
		assert.Equal(t, i, it.n)
	}
}

// A stuck consumer: beyond Len items, counts are dropped (and reported),
// states keep their latest per key, and when the consumer is released it
// gets the queue, then each key's latest, merged.
func TestAFullMailboxDropsCountsAndKeepsLatestStates(t *testing.T) {
	c := &consumer{}
	m := newBox(c)
	var first, total atomic.Int64
	m.Dropped = func(n int, isFirst bool) {
		if isFirst {
			first.Add(1)
		} else {
			total.Add(int64(n))
		}
	}
	m.Post(item{n: -1})
	<-c.started // the consumer holds one item, stuck: Len more fill the mailbox
	for i := range mailbox.Len {
		m.Post(item{n: i})
	}
	for i := range 1000 {
		m.Post(item{n: i})                    // dropped
		m.Post(item{key: "a", n: i, from: i}) // latest of a
		m.Post(item{key: "b", n: i, from: i}) // latest of b
	}
	assert.Equal(t, int64(1), first.Load(), "filling up is reported at once, once")
	close(c.gate)
	c.tasks.Wait()
	got := c.items()
	require.Equal(t, mailbox.Len+3, len(got), "the held item, the queue, and one latest per key")
	latest := map[string]item{}
	for _, it := range got[mailbox.Len+1:] {
		latest[it.key] = it
	}
	assert.Equal(t, item{key: "a", n: 999, from: 0}, latest["a"], "the latest, merged with those it replaced")
	assert.Equal(t, item{key: "b", n: 999, from: 0}, latest["b"])
	assert.Equal(t, int64(1000), total.Load(), "every drop counted when the consumer caught up")
}

// What waits counts exactly, however the deliverer has split it into
// batches: the item being delivered does not, every other undelivered one
// does, whether the deliverer has taken it or not.
func TestWaitingCountsTakenAndUntakenItems(t *testing.T) {
	c := &consumer{}
	m := newBox(c)
	var dropped atomic.Int64
	m.Dropped = func(n int, _ bool) { dropped.Add(int64(n)) }
	for i := range 100 {
		m.Post(item{n: i})
		if i == 0 {
			<-c.started // stuck on item 0, which may be alone in its batch or not
		}
	}
	for i := range mailbox.Len - 99 {
		m.Post(item{n: 100 + i}) // fills the mailbox exactly
	}
	m.Post(item{n: -2}) // dropped
	close(c.gate)
	c.tasks.Wait()
	assert.Len(t, c.items(), mailbox.Len+1)
	assert.Equal(t, int64(1), dropped.Load())
}

// Posting to a full mailbox costs the same whatever it holds: no scan.
func TestPostingToAFullMailboxAllocatesNothing(t *testing.T) {
	c := &consumer{}
	m := newBox(c)
	m.Post(item{n: -1})
	<-c.started
	for i := range mailbox.Len {
		m.Post(item{n: i})
	}
	m.Post(item{key: "a"})
	allocs := testing.AllocsPerRun(1000, func() {
		m.Post(item{n: 1})
		m.Post(item{key: "a"})
	})
	assert.Zero(t, allocs)
	close(c.gate)
	c.tasks.Wait()
}

func TestPanicsAndGoexitInDeliverAreReportedAndDeliveryGoesOn(t *testing.T) {
	var tasks sync.WaitGroup
	var mu sync.Mutex
	var got []int
	var failed []any
	m := &mailbox.Mailbox[int, string]{
		Deliver: func(n int) {
			switch n {
			case 1:
				panic("boom")
			case 2:
				runtime.Goexit()
			}
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		},
		Failed: func(v any, stack []byte) {
			mu.Lock()
			failed = append(failed, v)
			mu.Unlock()
			assert.NotEmpty(t, stack)
		},
		Start: func() bool { tasks.Add(1); return true },
		Done:  tasks.Done,
	}
	for _, n := range []int{0, 1, 2, 3} {
		m.Post(n)
	}
	tasks.Wait()
	assert.Equal(t, []int{0, 3}, got)
	assert.Equal(t, []any{"boom", nil}, failed)
}

func TestAClosedMailboxDiscards(t *testing.T) {
	delivered := false
	m := &mailbox.Mailbox[int, string]{Deliver: func(int) { delivered = true }, Start: func() bool { return false }}
	m.Post(1)
	time.Sleep(10 * time.Millisecond) // nothing may start: there is nothing to wait for
	assert.False(t, delivered)
}
