package health_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// observerLog is an Observer that records what it is told.
type observerLog struct {
	mu     sync.Mutex
	runs   []health.Run
	events []health.Event
	notify chan struct{}
}

func newObserverLog() *observerLog { return &observerLog{notify: make(chan struct{}, 1)} }

func (o *observerLog) ObserveRun(run health.Run) {
	o.mu.Lock()
	o.runs = append(o.runs, run)
	o.mu.Unlock()
	o.poke()
}

func (o *observerLog) ObserveEvent(ev health.Event) {
	o.mu.Lock()
	o.events = append(o.events, ev)
	o.mu.Unlock()
	o.poke()
}

func (o *observerLog) poke() {
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

// waitRuns waits (at most waitLimit) until at least n runs are recorded.
func (o *observerLog) waitRuns(t *testing.T, n int) []health.Run {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		o.mu.Lock()
		runs := append([]health.Run(nil), o.runs...)
		o.mu.Unlock()
		if len(runs) >= n {
			return runs
		}
		select {
		case <-o.notify:
		case <-deadline:
			require.FailNow(t, "timed out waiting for runs", "have %d of %d: %+v", len(runs), n, runs)
		}
	}
}

func TestObserverSeesRunsAndEvents(t *testing.T) {
	r := openRegistry(t)
	obs := newObserverLog()
	remove := r.AddObserver(obs)
	var mode atomic.Int32
	returned := make(chan struct{}, 1)
	mustRegister(t, r, health.Readiness, "db", func(ctx context.Context) error {
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
	}, health.Timeout(20*time.Millisecond))
	want := []health.RunResult{health.RunPass, health.RunFail, health.RunTimeout, health.RunPanic, health.RunWarn}
	probes := 0
	for i := range want {
		mode.Store(int32(i))
		for {
			probes++
			e, _ := entry(report(t, r, health.Readiness), "db")
			// After a timeout the verdict is in before the check returns: the
			// next probes find it still running until it has.
			if !errors.Is(e.Err, health.ErrStillRunning) {
				break
			}
		}
		if i == 2 {
			<-returned
		}
	}
	all := obs.waitRuns(t, probes)
	var runs []health.Run
	for _, run := range all {
		if !errors.Is(run.Err, health.ErrStillRunning) {
			runs = append(runs, run)
		}
	}
	require.Len(t, runs, len(want))
	for i, run := range runs {
		assert.Equal(t, want[i], run.Result, "run %d: %+v", i, run)
		assert.Equal(t, "db", run.Check)
		assert.Equal(t, health.Readiness, run.Group)
		assert.False(t, run.Start.IsZero())
		assert.Positive(t, run.Duration)
		assert.Equal(t, run.Result == health.RunPass, run.Err == nil, "run %d", i)
	}
	assert.Equal(t, "breaker-open", health.RunBreakerOpen.String())
	obs.mu.Lock()
	var transitions []string
	for _, ev := range obs.events {
		if ev.Check == "db" {
			transitions = append(transitions, ev.From.String()+"->"+ev.To.String())
		}
	}
	obs.mu.Unlock()
	// Registration announces the pending status; the timeout and the panic
	// change nothing (fail to fail).
	assert.Equal(t, []string{"unknown->fail", "fail->pass", "pass->fail", "fail->warn"}, transitions)

	remove()
	remove() // harmless
	mode.Store(0)
	_ = report(t, r, health.Readiness)
	time.Sleep(10 * time.Millisecond) // nothing to wait for: a removed observer hears nothing
	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Len(t, obs.runs, probes)
}

func TestLatestRunsNothing(t *testing.T) {
	r := openRegistry(t)
	var runs atomic.Int32
	mustRegister(t, r, health.Readiness, "db", func(context.Context) error {
		runs.Add(1)
		return nil
	})
	rep := r.Latest(health.Readiness)
	assert.Equal(t, health.StatusFail, rep.Status, "pending until something runs it")
	e, ok := entry(rep, "db")
	require.True(t, ok)
	assert.ErrorIs(t, e.Err, health.ErrPending)
	assert.Zero(t, runs.Load())

	_ = report(t, r, health.Readiness)
	for range 100 {
		rep = r.Latest(health.Readiness)
	}
	assert.Equal(t, int32(1), runs.Load())
	assert.Equal(t, health.StatusPass, rep.Status)
	assert.Equal(t, health.StatusUnknown, r.Latest(health.Group(9)).Status)
}

func TestCheckEntry(t *testing.T) {
	r := openRegistry(t)
	var runs atomic.Int32
	mustRegister(t, r, health.Readiness, "db", func(context.Context) error {
		runs.Add(1)
		return errors.New("down")
	})
	mustRegister(t, r, health.Readiness, "cache", passing)
	ctx := context.Background()
	res, err := r.CheckEntry(ctx, health.Readiness, "db")
	require.NoError(t, err)
	assert.Equal(t, health.StatusFail, res.Status)
	assert.Equal(t, int32(1), runs.Load())
	res, err = r.CheckEntry(ctx, health.Readiness, health.EntryReady)
	require.NoError(t, err)
	assert.Equal(t, health.StatusPass, res.Status)
	assert.Equal(t, int32(1), runs.Load(), "the switch entry runs no check")
	_, err = r.CheckEntry(ctx, health.Liveness, "db")
	assert.ErrorIs(t, err, health.ErrUnknownCheck)
	_, err = r.CheckEntry(ctx, health.Group(0), "db")
	assert.ErrorIs(t, err, health.ErrInvalidGroup)
}

// Check tells a caller whose context ended from a report that is complete.
func TestCheckReportsItsContext(t *testing.T) {
	r := openRegistry(t)
	release := make(chan struct{})
	defer close(release)
	mustRegister(t, r, health.Readiness, "slow", func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}, health.Timeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	rep, err := r.Check(ctx, health.Readiness)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	e, _ := entry(rep, "slow")
	assert.ErrorIs(t, e.Err, health.ErrPending, "the run has not finished")

	_, err = r.WaitFor(context.Background(), health.Readiness, health.StatusUnknown)
	assert.ErrorIs(t, err, health.ErrInvalidOption, "nothing is ever unknown: waiting for it would never end")
}

func TestChangedCloses(t *testing.T) {
	r := openRegistry(t)
	for _, change := range []func(){
		func() { r.SetReady(false) },
		func() { r.SetReady(true) },
		func() { mustRegister(t, r, health.Readiness, "late", passing) },
		func() { _ = report(t, r, health.Readiness) }, // late: pending -> pass
		func() { r.MarkBroken("wedged") },
	} {
		ch := r.Changed()
		select {
		case <-ch:
			t.Fatal("closed before any change")
		default:
		}
		change()
		select {
		case <-ch:
		case <-time.After(waitLimit):
			t.Fatal("not closed by the change")
		}
	}
	ch := r.Changed()
	_ = report(t, r, health.Readiness) // no change
	select {
	case <-ch:
		t.Fatal("closed without a change")
	default:
	}
}

func TestChecksListsWithoutRunning(t *testing.T) {
	r := openRegistry(t)
	var runs atomic.Int32
	count := func(context.Context) error { runs.Add(1); return nil }
	mustRegister(t, r, health.Readiness, "db", count, health.Dependency(), health.Timeout(time.Second),
		health.WithBreaker(gobreaker.Settings{MaxRequests: 2}))
	mustRegister(t, r, health.Liveness, "loop", count, health.Every(time.Hour), health.InitialDelay(time.Hour), health.Jitter(0.2))
	mustRegister(t, r, health.Readiness, "cache", count, health.NonCritical())
	list := r.Checks()
	require.Len(t, list, 3)
	assert.Equal(t, []string{"cache", "db", "loop"}, []string{list[0].Name, list[1].Name, list[2].Name})
	cache, db, loop := list[0], list[1], list[2]
	assert.True(t, cache.NonCritical)
	assert.Equal(t, health.DefaultTimeout, cache.Timeout)
	assert.Zero(t, cache.Interval)
	assert.Nil(t, cache.Breaker)
	assert.True(t, db.Dependency)
	require.NotNil(t, db.Breaker)
	assert.Equal(t, uint32(2), db.Breaker.MaxRequests)
	assert.Equal(t, health.DefaultBreakerOpen, db.Breaker.Timeout)
	assert.Equal(t, "db", db.Breaker.Name)
	assert.Equal(t, time.Second, db.Timeout)
	assert.Equal(t, health.Liveness, loop.Group)
	assert.Equal(t, time.Hour, loop.Interval)
	assert.Equal(t, time.Hour, loop.InitialDelay)
	assert.InDelta(t, 0.2, loop.Jitter, 1e-9)
	assert.Zero(t, runs.Load())
}

// Every duration an option takes is bounded, so no schedule overflows into
// a busy loop.
func TestHugeDurationsAreRefused(t *testing.T) {
	r := openRegistry(t)
	huge := time.Duration(1<<63 - 1)
	for _, opts := range [][]health.CheckOption{
		{health.Timeout(huge)},
		{health.Every(huge)},
		{health.Every(time.Second), health.InitialDelay(huge)},
		{health.Dependency(), health.WithBreaker(gobreaker.Settings{Timeout: huge})},
		{health.Dependency(), health.WithBreaker(gobreaker.Settings{Interval: time.Hour, BucketPeriod: time.Nanosecond})},
		{health.Dependency(), health.WithBreaker(gobreaker.Settings{Interval: -1})},
	} {
		assert.ErrorIs(t, r.Register(health.Readiness, "x", passing, opts...), health.ErrInvalidOption)
	}
	require.NoError(t, r.Register(health.Readiness, "x", passing, health.Every(health.MaxDuration), health.Jitter(0.5)))
}

func TestCloseContextChoosesTheWait(t *testing.T) {
	r := health.New()
	release := make(chan struct{})
	require.NoError(t, r.Register(health.Readiness, "hung", func(context.Context) error {
		<-release
		return nil
	}, health.Timeout(10*time.Millisecond)))
	_ = report(t, r, health.Readiness)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := r.CloseContext(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hung")
	close(release)
	require.NoError(t, r.CloseContext(context.Background()))
	require.NoError(t, r.Close(), "idempotent")
}

// dropCounter blocks on its first call until released, then counts.
type dropCounter struct {
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	runs    int
	dropped int
	events  int
}

func (d *dropCounter) wait() { d.once.Do(func() { <-d.release }) }
func (d *dropCounter) ObserveRun(health.Run) {
	d.wait()
	d.mu.Lock()
	d.runs++
	d.mu.Unlock()
}
func (d *dropCounter) ObserveEvent(health.Event) {
	d.wait()
	d.mu.Lock()
	d.events++
	d.mu.Unlock()
}
func (d *dropCounter) ObserveDropped(n int) {
	d.mu.Lock()
	d.dropped += n
	d.mu.Unlock()
}

// A stuck observer costs at most DefaultQueueLen queued items; once it
// moves again it learns how many it lost, and gets the newest.
func TestStuckObserverLosesTheNewestAndIsToldSo(t *testing.T) {
	r := openRegistry(t)
	d := &dropCounter{release: make(chan struct{})}
	r.AddObserver(d)
	mustRegister(t, r, health.Readiness, "db", passing)
	const runs = health.DefaultQueueLen + 500
	for range runs {
		_ = report(t, r, health.Readiness)
	}
	close(d.release)
	deadline := time.Now().Add(waitLimit)
	for {
		d.mu.Lock()
		got := d.runs + d.events + d.dropped
		d.mu.Unlock()
		if got >= runs+2 { // the runs, the registration's events
			break
		}
		require.True(t, time.Now().Before(deadline), "observer got %d items of %d", got, runs+2)
		time.Sleep(time.Millisecond)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	assert.Positive(t, d.dropped)
	assert.LessOrEqual(t, d.runs+d.events, health.DefaultQueueLen+1, "more items queued than the bound")
	assert.Equal(t, []health.RunResult{health.RunPass, health.RunWarn, health.RunFail, health.RunTimeout, health.RunPanic, health.RunBreakerOpen}, health.RunResults())
}

func TestDoneClosesWhenTheRegistryStops(t *testing.T) {
	r := health.New()
	select {
	case <-r.Done():
		t.Fatal("done before Close")
	default:
	}
	require.NoError(t, r.Close())
	<-r.Done()

	ctx, cancel := context.WithCancel(context.Background())
	r = health.New(health.WithContext(ctx))
	defer r.Close()
	cancel()
	select {
	case <-r.Done():
	case <-time.After(waitLimit):
		t.Fatal("not done when the WithContext context ended")
	}
}

// A probe that starts several runs times them out with one timer, each at
// its own deadline: the short timeout's verdict does not wait for the long.
func TestEachRunTimesOutAtItsOwnDeadline(t *testing.T) {
	r := openRegistry(t)
	release := make(chan struct{})
	defer close(release)
	hang := func(context.Context) error { <-release; return nil }
	mustRegister(t, r, health.Readiness, "short", hang, health.Timeout(20*time.Millisecond))
	mustRegister(t, r, health.Readiness, "long", hang, health.Timeout(2*time.Second))
	mustRegister(t, r, health.Readiness, "quick", passing)
	rep := report(t, r, health.Readiness)
	short, _ := entry(rep, "short")
	long, _ := entry(rep, "long")
	quick, _ := entry(rep, "quick")
	require.ErrorIs(t, short.Err, health.ErrTimeout)
	require.ErrorIs(t, long.Err, health.ErrTimeout)
	assert.Equal(t, health.StatusPass, quick.Status)
	assert.Less(t, short.Duration, time.Second, "the short timeout waited for the long one")
	assert.GreaterOrEqual(t, long.Duration, 2*time.Second)
}
