package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestChecksOfAGroupRunConcurrently(t *testing.T) {
	// Each check waits until all ten have started: run one after the
	// other, the first would wait until its timeout and the group fail.
	const n = 10
	r := openRegistry(t)
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	for i := range n {
		mustRegister(t, r, health.Readiness, fmt.Sprintf("c%d", i), health.CheckFunc(func(ctx context.Context) error {
			started.Done()
			select {
			case <-all:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}), health.CheckOptions{Timeout: waitLimit})
	}
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
}

// 200 concurrent GETs of every kind (whole group, per-check path, verbose,
// an exclusion) on a group whose only check blocks run it once.
func TestConcurrentProbesShareOneRun(t *testing.T) {
	const requests = 200
	r := openRegistry(t)
	slow := newGate(false)
	mustRegister(t, r, health.Readiness, "slow", slow, health.CheckOptions{Timeout: waitLimit})
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: requests, MaxIdleConnsPerHost: requests}}
	defer client.CloseIdleConnections()

	targets := []string{"/readyz", "/ready", "/readyz/slow", "/readyz?verbose", "/readyz?exclude=ready"}
	codes := make(chan int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			resp, err := client.Get(srv.URL + targets[i%len(targets)])
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	// Release the check only once every request waits for its run.
	waitFor(t, "200 probes waiting on one run", func() bool {
		return goroutinesIn("health.(*Registry).probe(") == requests
	})
	slow.open()
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Equal(t, http.StatusOK, code)
	}
	assert.Equal(t, 1, slow.count(), "200 concurrent probes ran the check once")
}

// A check that ignores its context costs one goroutine however many probes
// come, is reported failed at its timeout, and runs again once it returns.
func TestHungCheckCostsOneGoroutine(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	hung := newGate(false)
	mustRegister(t, r, health.Readiness, "hung", hung, health.CheckOptions{Timeout: 5 * time.Millisecond})
	h := r.Handler(health.Readiness)
	for i := range 1000 {
		w := serve(h, http.MethodGet, "/readyz?verbose")
		require.Equal(t, http.StatusServiceUnavailable, w.Code)
		if i%100 == 0 {
			e := entry(t, report(t, r, health.Readiness), "hung")
			require.ErrorIs(t, e.Err, health.ErrTimeout, "it keeps its timeout verdict")
			assert.ErrorIs(t, e.Err, context.DeadlineExceeded)
		}
	}
	assert.Equal(t, 1, hung.count(), "1000 probes of a hung check started it once")
	assert.Equal(t, 1, goroutinesIn("health_test.(*gate).Check("), "one goroutine is stuck in the check")
	runs := rec.runsOf(t, "hung", 1)
	assert.Equal(t, health.RunTimeout, runs[0].Result)

	hung.open()
	// Once it returns, the next probe runs it again.
	waitFor(t, "the hung check to return", func() bool { return goroutinesIn("health_test.(*gate).Check(") == 0 })
	assert.Equal(t, health.StatusPass, report(t, r, health.Readiness).Status)
	assert.Equal(t, 2, hung.count())
}

// Every run has a timeout: a probe of a check that ignores its context
// answers at the timeout, while the check still hangs.
func TestProbeAnswersAtTheTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	r := openRegistry(t)
	hung := newGate(false)
	defer hung.open()
	mustRegister(t, r, health.Readiness, "hung", hung, health.CheckOptions{Timeout: timeout})
	mustRegister(t, r, health.Readiness, "quick", passing)
	start := time.Now()
	w := serve(r.Handler(health.Readiness), http.MethodGet, "/readyz")
	elapsed := time.Since(start)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.GreaterOrEqual(t, elapsed, timeout, "the verdict waits for the timeout")
	select {
	case <-hung.release:
		t.Fatal("released too early")
	default: // the check still hangs: the probe did not wait for it
	}
	rep := r.Latest(health.Readiness)
	e := entry(t, rep, "hung")
	require.ErrorIs(t, e.Err, health.ErrTimeout)
	assert.Contains(t, e.Err.Error(), "50ms")
	assert.GreaterOrEqual(t, e.Duration, timeout)
	assert.Equal(t, health.StatusPass, entry(t, rep, "quick").Status)
}

// A probe that starts runs with several timeouts gives each its verdict at
// its own deadline: the short one does not wait for the long one.
func TestEachRunTimesOutAtItsOwnDeadline(t *testing.T) {
	r := openRegistry(t)
	rec := observe(r)
	hang := newGate(false)
	defer hang.open()
	mustRegister(t, r, health.Readiness, "short", hang, health.CheckOptions{Timeout: 20 * time.Millisecond})
	mustRegister(t, r, health.Readiness, "long", hang, health.CheckOptions{Timeout: 300 * time.Millisecond})
	mustRegister(t, r, health.Readiness, "quick", passing)
	rep := report(t, r, health.Readiness)
	assert.ErrorIs(t, entry(t, rep, "short").Err, health.ErrTimeout)
	assert.ErrorIs(t, entry(t, rep, "long").Err, health.ErrTimeout)
	assert.GreaterOrEqual(t, entry(t, rep, "long").Duration, 300*time.Millisecond)
	// The observer hears of the short one's verdict before the long one's.
	runs := rec.waitRuns(t, "three runs", func(runs []health.Run) bool { return len(runs) >= 3 })
	var order []string
	for _, run := range runs {
		order = append(order, run.Check)
	}
	assert.Less(t, indexOf(order, "short"), indexOf(order, "long"), "%v", order)
	short := runs[indexOf(order, "short")]
	assert.Less(t, short.Duration, 300*time.Millisecond, "the short timeout waited for the long one")
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func TestTimeoutFailsAtOnceAndEndsTheContext(t *testing.T) {
	r := openRegistry(t)
	ctxErr := make(chan error, 1)
	mustRegister(t, r, health.Readiness, "slow", health.CheckFunc(func(ctx context.Context) error {
		<-ctx.Done()
		ctxErr <- ctx.Err()
		return ctx.Err()
	}), health.CheckOptions{Timeout: 20 * time.Millisecond})
	rep := report(t, r, health.Readiness)
	require.Equal(t, health.StatusFail, rep.Status)
	e := entry(t, rep, "slow")
	require.ErrorIs(t, e.Err, health.ErrTimeout)
	require.ErrorIs(t, e.Err, context.DeadlineExceeded)
	err := <-ctxErr
	require.Error(t, err, "the check's context ended at the timeout")
	failIf(t, err != context.DeadlineExceeded, "the check's context ended with %v at the timeout", err)
}

// A panic, a runtime.Goexit, or an error whose Error method panics is a
// failed run (ErrPanic, RunPanic), never a crash; the stack is logged.
func TestPanicsAreFailedRuns(t *testing.T) {
	logs, logger := newLog()
	r := openRegistry(t, health.Options{Logger: logger})
	rec := observe(r)
	mustRegister(t, r, health.Readiness, "panics", health.CheckFunc(func(context.Context) error { panic("boom") }))
	mustRegister(t, r, health.Readiness, "exits", health.CheckFunc(func(context.Context) error {
		runtime.Goexit()
		return nil
	}))
	mustRegister(t, r, health.Readiness, "bad-error", health.CheckFunc(func(context.Context) error { return panickyError{} }))
	mustRegister(t, r, health.Readiness, "runtime", health.CheckFunc(func(context.Context) error {
		var m map[string]int
		//lint:ignore SA5000 the check must fail with a runtime error
		m["x"] = 1
		return nil
	}), health.CheckOptions{Every: time.Hour})
	rec.runsOf(t, "runtime", 1)
	rep := report(t, r, health.Readiness)
	for _, name := range []string{"panics", "exits", "bad-error", "runtime"} {
		e := entry(t, rep, name)
		assert.ErrorIs(t, e.Err, health.ErrPanic, name)
		assert.Equal(t, health.StatusFail, e.Status, name)
		assert.Equal(t, health.RunPanic, rec.runsOf(t, name, 1)[0].Result, name)
	}
	assert.Contains(t, entry(t, rep, "panics").Err.Error(), "boom")
	assert.Contains(t, entry(t, rep, "exits").Err.Error(), "Goexit")
	assert.Contains(t, entry(t, rep, "bad-error").Err.Error(), "error")
	logs.wait(t, "the stacks in the log", func(rec map[string]any) bool {
		stack, _ := rec["stack"].(string)
		panicMsg, _ := rec["panic"].(string)
		return rec["check"] == "runtime" && containsAll(panicMsg, "assignment to entry in nil map") &&
			containsAll(stack, "goroutine", "health_test")
	})
	assert.NotContains(t, serve(r.Handler(health.Readiness), "GET", "/readyz?verbose").Body.String(), "goroutine",
		"the stack is logged, never served")
}

type panickyError struct{}

func (panickyError) Error() string { panic("Error panicked") }

// The registry calls Check on a goroutine of its own, never the probe's.
func TestChecksRunOnAGoroutineOfTheirOwn(t *testing.T) {
	r := openRegistry(t)
	var probeG, checkG atomic.Pointer[string]
	mustRegister(t, r, health.Readiness, "where", health.CheckFunc(func(context.Context) error {
		s := goroutineID()
		checkG.Store(&s)
		return nil
	}))
	s := goroutineID()
	probeG.Store(&s)
	_ = report(t, r, health.Readiness)
	require.NotNil(t, checkG.Load())
	assert.NotEqual(t, *probeG.Load(), *checkG.Load())
}

// goroutineID returns the number in the first line of the calling
// goroutine's stack ("goroutine 7 [running]:").
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}
