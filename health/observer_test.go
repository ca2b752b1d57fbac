package health_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestObserverSeesRunsAndEventsInOrder(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	var mode atomic.Int32
	returned := make(chan struct{}, 1)
	mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(ctx context.Context) error {
		switch mode.Load() {
		case 1:
			return errors.New("down")
		case 2:
			defer func() { returned <- struct{}{} }()
			<-ctx.Done()
			return ctx.Err()
		case 3:
			panic("boom")
		case 4:
			return health.Warn(errors.New("slow"))
		}
		return nil
	}), health.CheckOptions{Timeout: 20 * time.Millisecond})
	want := []health.RunResult{health.RunPass, health.RunFail, health.RunTimeout, health.RunPanic, health.RunWarn}
	wantStatus := []health.Status{health.StatusPass, health.StatusFail, health.StatusFail, health.StatusFail, health.StatusWarn}
	var last time.Time
	for i := range want {
		mode.Store(int32(i))
		// Each mode's probe must make a run. After the hung run returns,
		// its bound is released a moment later: a probe before that is
		// refused (no run, the timeout verdict kept), so probe again.
		for start := time.Now(); ; time.Sleep(time.Millisecond) {
			if at := entry(t, report(t, r, health.Readiness), "db").Time; !at.Equal(last) {
				last = at
				break
			}
			require.Less(t, time.Since(start), waitLimit, "run %d: every probe refused", i)
		}
		if i == 2 {
			<-returned // the verdict came at the timeout; the next run waits for the check to return
		}
	}
	runs := rec.runsOf(t, "db", len(want))
	require.Len(t, runs, len(want))
	for i, run := range runs {
		assert.Equal(t, want[i], run.Result, "run %d: %+v", i, run)
		assert.Equal(t, wantStatus[i], run.Status, "run %d", i)
		assert.Equal(t, "db", run.Check)
		assert.Equal(t, health.Readiness, run.Group)
		assert.False(t, run.Start.IsZero())
		assert.Positive(t, run.Duration)
		assert.Equal(t, run.Result == health.RunPass, run.Err == nil, "run %d", i)
		if i > 0 {
			assert.False(t, run.Start.Before(runs[i-1].Start), "in order")
		}
	}
	assert.ErrorIs(t, runs[2].Err, health.ErrTimeout)
	assert.ErrorIs(t, runs[3].Err, health.ErrPanic)
	_, all, _ := rec.snapshot()
	// Registration announces the pending status; the timeout and the panic
	// change nothing (fail to fail).
	assert.Equal(t, []string{"unknown->fail", "fail->pass", "pass->fail", "fail->warn"}, checkEvents(all, "db"))
	first := all[0]
	assert.ErrorIs(t, first.Err, health.ErrPending)
	for i := 1; i < len(all); i++ {
		assert.False(t, all[i].Time.Before(all[i-1].Time), "events in order")
	}
	for _, ev := range all {
		if ev.Check == "" {
			assert.NoError(t, ev.Err, "a group's change carries no Err: %+v", ev)
			continue
		}
		assert.Equal(t, ev.To == health.StatusPass, ev.Err == nil, "Err is an entry's reason for warn or fail, nil otherwise: %+v", ev)
	}
}

// A check whose first result confirms the failing status it was assumed to
// have while pending is announced from fail to fail, with its reason.
func TestFirstFailureIsAnnouncedWithItsReason(t *testing.T) {
	for _, opts := range []health.CheckOptions{{}, {Every: time.Hour}} {
		logs, logger := newLog()
		r := openRegistry(t, health.Options{Logger: logger})
		rec := observe(r)
		mustRegister(t, r, health.Readiness, "db", health.CheckFunc(func(context.Context) error { return errSecret }), opts)
		_ = report(t, r, health.Readiness)
		evs := rec.waitEvents(t, "db's reason", func(evs []health.Event) bool {
			for _, ev := range evs {
				if ev.Check == "db" && errors.Is(ev.Err, errSecret) {
					return true
				}
			}
			return false
		})
		assert.Equal(t, []string{"unknown->fail", "fail->fail"}, checkEvents(evs, "db"))
		logs.wait(t, "the reason, redacted, in the log", func(rec map[string]any) bool {
			return rec["check"] == "db" && rec["from"] == "fail" && rec["to"] == "fail" && rec["error"] == shownSecret &&
				rec["level"] == "WARN"
		})
		logs.wait(t, "the pending check in the log", func(rec map[string]any) bool {
			return rec["check"] == "db" && rec["msg"] == "health check waiting for its first result" && rec["level"] == "INFO"
		})
	}
}

// An observer that panics or calls runtime.Goexit is recovered and logged,
// and still gets later calls.
func TestMisbehavingObserverKeepsGettingCalls(t *testing.T) {
	logs, logger := newLog()
	r := openRegistry(t, health.Options{Logger: logger})
	var calls atomic.Int32
	rec := &recorder{changed: make(chan struct{})}
	r.AddObserver(observerFunc(func(ev health.Event) {
		switch calls.Add(1) {
		case 1:
			panic("observer broke")
		case 2:
			runtime.Goexit()
		}
		rec.ObserveEvent(ev)
	}))
	r.MarkNotReady("one")
	r.MarkReady()
	r.MarkNotReady("three")
	rec.waitEvents(t, "the third change", func(evs []health.Event) bool {
		for _, ev := range evs {
			if ev.Check == "ready" && ev.To == health.StatusFail {
				return true
			}
		}
		return false
	})
	logs.wait(t, "the panic in the log", func(rec map[string]any) bool {
		m, _ := rec["msg"].(string)
		return containsAll(m, "observer panicked", "observer broke") && rec["stack"] != nil
	})
	logs.wait(t, "the Goexit in the log", msgContains("observer called runtime.Goexit"))
}

type observerFunc func(health.Event)

func (f observerFunc) ObserveEvent(ev health.Event) { f(ev) }
func (f observerFunc) ObserveRun(health.Run)        {}

// Observers are called one call at a time, in order, never on a probe's
// goroutine and never under a lock of the registry's: one may call the
// registry back.
func TestObserverCallsAreSerialAndMayCallTheRegistry(t *testing.T) {
	r := openRegistry(t)
	var inside, most atomic.Int32
	probeG := goroutineID()
	var onProbe atomic.Bool
	done := make(chan struct{})
	var once sync.Once
	r.AddObserver(observerFunc(func(ev health.Event) {
		n := inside.Add(1)
		defer inside.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		onProbe.Store(onProbe.Load() || goroutineID() == probeG)
		if ev.Group == health.Liveness && ev.Check == "" && ev.To == health.StatusFail {
			r.MarkNotReady("liveness failed") // re-entrant: must not deadlock
			_, _ = r.Check(context.Background(), health.Readiness)
			_ = r.Latest(health.Liveness)
			once.Do(func() { close(done) })
		}
	}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				if (i+j)%2 == 0 {
					r.MarkReady()
				} else {
					r.MarkNotReady("flap")
				}
			}
		})
	}
	wg.Wait()
	r.MarkBroken("wedged")
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatal("the observer did not complete")
	}
	assert.Equal(t, int32(1), most.Load(), "one call at a time")
	assert.False(t, onProbe.Load())
	waitReport(t, r, health.Readiness, func(rep health.Report) bool {
		return entry(t, rep, "ready").Err != nil && containsAll(entry(t, rep, "ready").Err.Error(), "liveness failed")
	})
}

func TestRemovingAnObserver(t *testing.T) {
	r := openRegistry(t)
	removed := &recorder{changed: make(chan struct{})}
	remove := r.AddObserver(removed)
	stays := observe(r)
	readyEvents := func(n int) func([]health.Event) bool {
		return func(evs []health.Event) bool { return len(checkEvents(evs, "ready")) >= n }
	}
	r.MarkNotReady("first")
	removed.waitEvents(t, "the first change", readyEvents(1))
	remove()
	remove() // harmless
	r.MarkReady()
	r.MarkNotReady("second")
	stays.waitEvents(t, "the later changes", readyEvents(3))
	_, evs, _ := removed.snapshot()
	assert.Equal(t, []string{"pass->fail"}, checkEvents(evs, "ready"), "a removed observer hears nothing more")

	assert.NotPanics(t, func() {
		rm := r.AddObserver(nil) // ignored
		rm()
		rm()
	})
}
