package tasks_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/tasks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestIdleOnlyOnceClosedAndEveryTaskIsDone(t *testing.T) {
	tr := tasks.New()
	assert.True(t, tr.Add())
	assert.True(t, tr.Add())
	tr.Done()
	tr.Done()
	assert.False(t, closed(tr.Idle()), "no task runs, but Close has not been called")
	assert.True(t, tr.Add())
	tr.Close()
	assert.False(t, closed(tr.Idle()), "a task still runs")
	assert.False(t, tr.Add(), "a closed tracker refuses new tasks")
	tr.Done()
	assert.True(t, closed(tr.Idle()))
	tr.Close() // again: nothing more
	assert.True(t, closed(tr.Idle()))
}

func TestCloseWithNoTasksIsIdleAtOnce(t *testing.T) {
	tr := tasks.New()
	tr.Close()
	assert.True(t, closed(tr.Idle()))
}

// Adds racing Close: every Add that reported true is waited for, and Idle
// closes once they are done, never before.
func TestAddsRacingClose(t *testing.T) {
	for range 200 {
		tr := tasks.New()
		var running sync.WaitGroup
		var started, finished sync.Mutex
		n, done := 0, 0
		for range 8 {
			running.Add(1)
			go func() {
				defer running.Done()
				if !tr.Add() {
					return
				}
				started.Lock()
				n++
				started.Unlock()
				time.Sleep(time.Microsecond)
				finished.Lock()
				done++
				finished.Unlock()
				tr.Done()
			}()
		}
		tr.Close()
		<-tr.Idle()
		started.Lock()
		finished.Lock()
		assert.Equal(t, n, done, "Idle closed while an admitted task ran")
		finished.Unlock()
		started.Unlock()
		running.Wait()
	}
}
