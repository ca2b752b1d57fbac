package health_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// waitUntil polls cond until it holds or the deadline passes. It is for
// state that announces itself in no other way (goroutines parked in a
// select); the deadline bounds the test, never decides it.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// goroutinesIn counts goroutines whose stack mentions fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn)) {
			n++
		}
	}
	return n
}

func TestChecksOfAGroupRunConcurrently(t *testing.T) {
	// Each check waits until all ten have started: run one after the
	// other, the first would wait for ever (bounded by its timeout) and
	// the group would fail.
	const n = 10
	r := openRegistry(t)
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	for i := range n {
		require.NoError(t, r.Register(health.Readiness, fmt.Sprintf("c%d", i), func(ctx context.Context) error {
			started.Done()
			select {
			case <-all:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, health.Timeout(5*time.Second)))
	}
	rep := report(t, r, health.Readiness)
	assert.Equal(t, health.StatusPass, rep.Status)
}

func TestConcurrentProbesShareOneRun(t *testing.T) {
	const requests = 200
	r := openRegistry(t)
	var runs atomic.Int32
	release := make(chan struct{})
	require.NoError(t, r.Register(health.Readiness, "slow", func(ctx context.Context) error {
		runs.Add(1)
		<-release
		return nil
	}, health.Timeout(10*time.Second)))
	srv := httptest.NewServer(r.Handler(health.Readiness))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: requests, MaxIdleConnsPerHost: requests}}
	defer client.CloseIdleConnections()

	codes := make(chan int, requests)
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	// Release the check only once every request is waiting for its run.
	waitUntil(t, "200 probes waiting on one run", func() bool {
		return goroutinesIn("health.(*Registry).await(") == requests
	})
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Equal(t, http.StatusOK, code)
	}
	assert.Equal(t, int32(1), runs.Load(), "200 concurrent probes ran the check once")
}

func TestTimeoutFailsAtOnceAndCancelsContext(t *testing.T) {
	r := openRegistry(t)
	ctxErr := make(chan error, 1)
	require.NoError(t, r.Register(health.Readiness, "slow", func(ctx context.Context) error {
		<-ctx.Done()
		ctxErr <- ctx.Err()
		return ctx.Err()
	}, health.Timeout(20*time.Millisecond)))
	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status)
	e, _ := entry(rep, "slow")
	require.ErrorIs(t, e.Err, health.ErrTimeout)
	require.ErrorIs(t, e.Err, context.DeadlineExceeded)
	assert.ErrorIs(t, <-ctxErr, context.DeadlineExceeded, "the check's context was cancelled")
}

func TestHungCheckCostsOneGoroutine(t *testing.T) {
	r := openRegistry(t)
	release := make(chan struct{})
	var inside, maxInside atomic.Int32
	require.NoError(t, r.Register(health.Readiness, "hung", func(context.Context) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		for {
			m := maxInside.Load()
			if n <= m || maxInside.CompareAndSwap(m, n) {
				break
			}
		}
		<-release // ignores its context
		return nil
	}, health.Timeout(5*time.Millisecond)))
	h := r.Handler(health.Readiness)

	first := true
	for range 1000 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ready?verbose", nil))
		require.Equal(t, http.StatusServiceUnavailable, w.Code)
		rep := report(t, r, health.Readiness)
		e, _ := entry(rep, "hung")
		if first {
			first = false
		} else {
			require.ErrorIs(t, e.Err, health.ErrStillRunning)
		}
	}
	assert.Equal(t, int32(1), maxInside.Load(), "1000 probes of a hung check started it once")
	assert.Equal(t, 1, goroutinesIn("TestHungCheckCostsOneGoroutine.func1("), "one goroutine is stuck in the check")
	close(release)
	waitUntil(t, "the hung check to return", func() bool { return inside.Load() == 0 })
	// Once it returns, the check runs again.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := r.WaitFor(ctx, health.Readiness, health.StatusPass)
	require.NoError(t, err)
}

func TestPanicIsAFailedCheck(t *testing.T) {
	var logs lockedBuffer
	r := openRegistry(t, health.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, r.Register(health.Readiness, "on-request", func(context.Context) error { panic("boom") }))
	require.NoError(t, r.Register(health.Readiness, "background", func(context.Context) error {
		var m map[string]int
		//lint:ignore SA5000 the check must fail with a runtime error, not just a panic value
		m["x"] = 1
		return nil
	}, health.Every(time.Hour)))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := r.WaitFor(ctx, health.Readiness, health.StatusFail)
	require.NoError(t, err)
	waitUntil(t, "the background check to run", func() bool {
		e, _ := entry(report(t, r, health.Readiness), "background")
		return !errors.Is(e.Err, health.ErrPending)
	})
	rep := report(t, r, health.Readiness)
	for _, name := range []string{"on-request", "background"} {
		e, _ := entry(rep, name)
		require.ErrorIs(t, e.Err, health.ErrPanic, name)
		var pe *health.PanicError
		require.ErrorAs(t, e.Err, &pe)
		assert.NotEmpty(t, pe.Stack)
	}
	waitUntil(t, "the stacks in the log", func() bool {
		s := logs.String()
		return strings.Contains(s, "boom") && strings.Contains(s, "assignment to entry in nil map") &&
			strings.Contains(s, "goroutine")
	})
}

func TestObserveRecordsAMeasurement(t *testing.T) {
	r := openRegistry(t)
	require.NoError(t, r.Register(health.Liveness, "goroutines", func(ctx context.Context) error {
		health.Observe(ctx, 42, "goroutines")
		return nil
	}))
	e, _ := entry(report(t, r, health.Liveness), "goroutines")
	require.NotNil(t, e.Observation)
	assert.Equal(t, 42, e.Observation.Value)
	assert.Equal(t, "goroutines", e.Observation.Unit)
	health.Observe(context.Background(), 1, "x") // outside a run: no effect, no panic
}

func TestLateObservationIsIgnored(t *testing.T) {
	r := openRegistry(t)
	late := make(chan context.Context, 1)
	done := make(chan struct{})
	require.NoError(t, r.Register(health.Readiness, "slow", func(ctx context.Context) error {
		<-ctx.Done()
		late <- ctx
		<-done
		return nil
	}, health.Timeout(10*time.Millisecond)))
	e, _ := entry(report(t, r, health.Readiness), "slow")
	require.ErrorIs(t, e.Err, health.ErrTimeout)
	health.Observe(<-late, 7, "late") // after the verdict
	close(done)
	e, _ = entry(report(t, r, health.Readiness), "slow")
	assert.Nil(t, e.Observation)
}

func TestHooksSeeTransitionsInOrder(t *testing.T) {
	events := make(chan health.Event, 64)
	var logs lockedBuffer
	r := openRegistry(t,
		health.OnStatusChange(func(ev health.Event) { events <- ev }),
		health.OnStatusChange(func(health.Event) { panic("a broken hook") }),
		health.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	var failing atomic.Bool
	require.NoError(t, r.Register(health.Readiness, "db", func(context.Context) error {
		if failing.Load() {
			return errors.New("connection refused")
		}
		return nil
	}))

	next := func() health.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return health.Event{}
	}
	// New announces every entry's and group's first status, and
	// registration the new check's.
	type change struct {
		entry    string
		from, to health.Status
	}
	var first []change
	for range 7 {
		ev := next()
		first = append(first, change{ev.Group.String() + "/" + ev.Check, ev.From, ev.To})
	}
	assert.Equal(t, []change{
		{"liveness/alive", health.StatusUnknown, health.StatusPass},
		{"readiness/ready", health.StatusUnknown, health.StatusPass},
		{"liveness/", health.StatusUnknown, health.StatusPass},
		{"readiness/", health.StatusUnknown, health.StatusPass},
		{"startup/", health.StatusUnknown, health.StatusPass},
		{"readiness/db", health.StatusUnknown, health.StatusFail}, // pending until run
		{"readiness/", health.StatusPass, health.StatusFail},
	}, first)

	_ = report(t, r, health.Readiness)
	ev := next()
	assert.Equal(t, "db", ev.Check)
	assert.Equal(t, health.StatusFail, ev.From)
	assert.Equal(t, health.StatusPass, ev.To)
	ev = next()
	assert.Equal(t, "", ev.Check)
	assert.Equal(t, health.Readiness, ev.Group)
	assert.Equal(t, health.StatusPass, ev.To)

	failing.Store(true)
	_ = report(t, r, health.Readiness)
	ev = next()
	assert.Equal(t, "db", ev.Check)
	assert.Equal(t, health.StatusFail, ev.To)
	assert.EqualError(t, ev.Err, "connection refused")
	ev = next()
	assert.Equal(t, health.Readiness, ev.Group)
	assert.Equal(t, health.StatusFail, ev.To)

	_ = report(t, r, health.Readiness) // no change, no event
	r.SetReady(false)
	ev = next()
	assert.Equal(t, health.EntryReady, ev.Check)
	assert.Equal(t, health.StatusFail, ev.To)

	waitUntil(t, "the reason and the hook panic in the log", func() bool {
		s := logs.String()
		return strings.Contains(s, `"error":"connection refused"`) && strings.Contains(s, "hook panicked")
	})
}

func TestHookMayCallTheRegistry(t *testing.T) {
	done := make(chan struct{})
	var r *health.Registry
	r = openRegistry(t, health.OnStatusChange(func(ev health.Event) {
		if ev.Group == health.Liveness && ev.Check == "" && ev.To == health.StatusFail {
			r.SetReady(false) // re-entrant: must not deadlock
			_, _ = r.Check(context.Background(), health.Readiness)
			close(done)
		}
	}))
	r.MarkBroken("wedged")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("hook did not complete")
	}
	ready, _ := entry(report(t, r, health.Readiness), health.EntryReady)
	assert.Equal(t, health.StatusFail, ready.Status)
}

func TestCloseStopsBackgroundChecks(t *testing.T) {
	r := health.New()
	var runs atomic.Int32
	sawCancel := make(chan struct{})
	require.NoError(t, r.Register(health.Readiness, "tick", func(ctx context.Context) error {
		if runs.Add(1) == 3 {
			<-ctx.Done() // still running when Close is called
			close(sawCancel)
		}
		return nil
	}, health.Every(time.Millisecond), health.Jitter(0)))
	waitUntil(t, "three runs", func() bool { return runs.Load() >= 3 })
	require.NoError(t, r.Close())
	<-sawCancel
	after := runs.Load()
	assert.Equal(t, int32(3), after, "no run after Close returned")
	// goleak (TestMain) proves that no goroutine of the registry remains.
}

func TestCloseReportsAHungCheck(t *testing.T) {
	r := health.New()
	release := make(chan struct{})
	started := make(chan struct{})
	require.NoError(t, r.Register(health.Readiness, "stubborn", func(context.Context) error {
		close(started)
		<-release
		return nil
	}, health.Every(time.Hour), health.Timeout(10*time.Millisecond)))
	<-started
	err := r.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stubborn")
	close(release)
	waitUntil(t, "the check goroutine to exit", func() bool {
		return goroutinesIn("TestCloseReportsAHungCheck.func1(") == 0
	})
}

func TestWithContextStopsBackgroundChecks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := health.New(health.WithContext(ctx))
	var runs atomic.Int32
	require.NoError(t, r.Register(health.Readiness, "tick", func(context.Context) error {
		runs.Add(1)
		return nil
	}, health.Every(time.Millisecond)))
	waitUntil(t, "a run", func() bool { return runs.Load() > 0 })
	cancel()
	waitUntil(t, "the loop to stop", func() bool { return goroutinesIn("health.(*Registry).loop") == 0 })
	require.NoError(t, r.Close())
	require.ErrorIs(t, r.Register(health.Readiness, "late", pass), health.ErrClosed)
}

func TestOnRequestCheckAfterCloseReportsClosed(t *testing.T) {
	r := health.New()
	require.NoError(t, r.Register(health.Readiness, "db", pass))
	require.NoError(t, r.Close())
	rep := report(t, r, health.Readiness)
	e, _ := entry(rep, "db")
	assert.ErrorIs(t, e.Err, health.ErrClosed)
	assert.Equal(t, health.StatusFail, rep.Status)
}

func TestDrainFailsReadinessOnlyAndWaits(t *testing.T) {
	r := openRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Drain(ctx, time.Hour) }()
	_, err := r.WaitFor(context.Background(), health.Readiness, health.StatusFail)
	require.NoError(t, err)
	ready, _ := entry(report(t, r, health.Readiness), health.EntryReady)
	assert.Contains(t, ready.Err.Error(), health.ReasonShuttingDown)
	assert.Equal(t, health.StatusPass, report(t, r, health.Liveness).Status)
	select {
	case <-done:
		t.Fatal("Drain returned before its delay")
	default:
	}
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	assert.NoError(t, r.Drain(context.Background(), 0))
}

func TestWaitForTimesOutWithReasons(t *testing.T) {
	r := openRegistry(t)
	require.NoError(t, r.Register(health.Readiness, "db", func(context.Context) error { return errors.New("down") }))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := r.WaitFor(ctx, health.Readiness, health.StatusPass)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "db fail")
}

func TestBackgroundDependencySleepsUntilItsTrial(t *testing.T) {
	const open = 50 * time.Millisecond
	r := openRegistry(t)
	calls := make(chan time.Time, 4)
	require.NoError(t, r.Register(health.Readiness, "db", func(context.Context) error {
		calls <- time.Now()
		return errors.New("down")
	}, health.Dependency(), health.Every(time.Millisecond), health.WithBreaker(gobreaker.Settings{
		Timeout:     open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	})))
	first := <-calls // fails and opens the breaker
	// The trial comes when the breaker allows it: not on the next 1 ms
	// tick, and not never.
	select {
	case trial := <-calls:
		assert.GreaterOrEqual(t, trial.Sub(first), open)
	case <-time.After(10 * time.Second):
		t.Fatal("the trial did not come when the breaker allowed it")
	}
}
