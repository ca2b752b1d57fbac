package bound_test

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/bound"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// After any call, however close to its bound it returned, the next call
// made once it has returned behaves as the first did: it is made and its
// value comes back. This is the property whose absence let one slow
// callback wedge a pod (a count left unbalanced when a call returned
// between the bound firing and the waiter recording it).
func TestEveryDurationAcrossTheBoundLeavesTheNextCallAsTheFirst(t *testing.T) {
	const wait = 10 * time.Millisecond
	for _, d := range []time.Duration{0, wait - 2*time.Millisecond, wait - time.Millisecond, wait - 100*time.Microsecond,
		wait, wait + 100*time.Microsecond, wait + time.Millisecond, wait + 2*time.Millisecond, 3 * wait} {
		for i := 0; i < 20; i++ {
			var b bound.Bound
			returned := make(chan struct{})
			_, _ = bound.Do(&b, wait, func() bool {
				defer close(returned)
				time.Sleep(d)
				return true
			})
			<-returned
			require.Eventually(t, func() bool { return !b.Busy() }, 5*time.Second, time.Millisecond,
				"a call of %v has returned, but the bound still counts it as abandoned", d)
			v, err := bound.Do(&b, time.Minute, func() int { return 42 })
			require.NoError(t, err, "after a call of %v", d)
			assert.Equal(t, 42, v)
		}
	}
}

func TestAHungCallIsAbandonedAndTheNextRefusedUntilItReturns(t *testing.T) {
	var b bound.Bound
	release := make(chan struct{})
	calls := 0
	var mu sync.Mutex
	f := func() string {
		mu.Lock()
		calls++
		mu.Unlock()
		<-release
		return "late"
	}
	start := time.Now()
	v, err := bound.Do(&b, 20*time.Millisecond, f)
	assert.ErrorIs(t, err, bound.ErrHung)
	assert.Empty(t, v)
	assert.Less(t, time.Since(start), 5*time.Second)
	for range 5 {
		_, err = bound.Do(&b, time.Minute, f)
		assert.ErrorIs(t, err, bound.ErrRefused, "no second goroutine behind a hung call")
	}
	mu.Lock()
	assert.Equal(t, 1, calls)
	mu.Unlock()
	close(release)
	require.Eventually(t, func() bool { return !b.Busy() }, 5*time.Second, time.Millisecond)
	v, err = bound.Do(&b, time.Minute, func() string { return "again" })
	require.NoError(t, err)
	assert.Equal(t, "again", v)
}

func TestPanicsAndGoexitAreErrors(t *testing.T) {
	var b bound.Bound
	_, err := bound.Do(&b, time.Minute, func() int { panic("boom") })
	var p *bound.Panic
	require.ErrorAs(t, err, &p)
	assert.Equal(t, "boom", p.Value)
	assert.Equal(t, "panicked", err.Error(), "Error never formats the value")

	_, err = bound.Do(&b, time.Minute, func() int { runtime.Goexit(); return 1 })
	require.ErrorAs(t, err, &p)
	assert.Nil(t, p.Value)
	assert.Equal(t, "called runtime.Goexit", err.Error())
	assert.False(t, b.Busy())
}

// Returned and Abandon race for each call; exactly one wins, and once both
// have run (the call has returned) nothing counts as abandoned.
func TestReturnedAndAbandonRace(t *testing.T) {
	var b bound.Bound
	for range 10000 {
		c := new(bound.Call)
		var wg sync.WaitGroup
		var won [2]bool
		wg.Add(2)
		go func() { defer wg.Done(); won[0] = b.Returned(c) }()
		go func() { defer wg.Done(); won[1] = b.Abandon(c) }()
		wg.Wait()
		require.NotEqual(t, won[0], won[1], "exactly one side settles the call")
		assert.Equal(t, won[1], c.Abandoned())
		require.False(t, b.Busy(), "both sides have run: the call has returned")
	}
	assert.False(t, errors.Is(bound.ErrHung, bound.ErrRefused))
}
