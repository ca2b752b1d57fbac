package adversarial_test

// Issue 20, classes 2 and 4 for the consumers, which have no bound: an
// observer or a logger that is slow or hung costs a probe nothing
// measurable (publishing to its full queue is O(1)), and when it is
// released, the next events reach it. Costs are counted (allocations and
// bytes per probe, testing.AllocsPerRun), never timed.

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/probekit/probekit/health"
)

// stuckObserver blocks in every call until released, counting its calls.
type stuckObserver struct {
	release chan struct{}
	calls   atomic.Int64
}

func (o *stuckObserver) ObserveRun(health.Run)     { o.calls.Add(1); <-o.release }
func (o *stuckObserver) ObserveEvent(health.Event) { o.calls.Add(1); <-o.release }

// probeCost returns the allocations and bytes allocated per probe of reg's
// readiness (reg.Check, in process), over n probes.
func probeCost(t *testing.T, reg *health.Registry, n int) (allocs, bytes float64) {
	t.Helper()
	ctx := context.Background()
	probe := func() {
		if _, err := reg.Check(ctx, health.Readiness); err != nil {
			t.Fatal(err)
		}
	}
	allocs = testing.AllocsPerRun(n, probe)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		probe()
	}
	runtime.ReadMemStats(&after)
	return allocs, float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

// fill makes n probes of reg's readiness, each posting one run.
func fill(t *testing.T, reg *health.Registry, n int) {
	t.Helper()
	for range n {
		if _, err := reg.Check(context.Background(), health.Readiness); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIssue20StuckObserverCostsNothing: a probe costs the same allocations
// and about the same bytes with no observer, with an observer stuck for
// good whose queue holds 100 items, and with one whose queue has been
// offered 10,000 (it keeps at most 4096): posting to a full queue is O(1),
// and drops a run without copying anything.
//
// On 4001f29 every post to a full queue ran the coalescing scan (a map and
// a 4096-bool slice allocated, 4096 items scanned) and dropped the oldest
// item with slices.Delete at index 0, on the probe's goroutine: probes were
// 20.7 and 28.2 times slower with a stuck observer (1.2 µs → 34 µs).
func TestIssue20StuckObserverCostsNothing(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "local", passing); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	fill(t, reg, 100) // warm up
	noneAllocs, noneBytes := probeCost(t, reg, n)

	o := &stuckObserver{release: make(chan struct{})}
	defer close(o.release)
	reg.AddObserver(o)
	fill(t, reg, 100)
	if !eventually(settle, func() bool { return o.calls.Load() > 0 }) {
		t.Fatal("the observer never got its first item")
	}
	// Its queue holds about 100 runs; each probe adds one. Measured over
	// fewer probes than the queue has room for, so that none is dropped.
	fewAllocs, fewBytes := probeCost(t, reg, 1000)
	fill(t, reg, 10000) // offered 10,000 more: full, and dropping
	fullAllocs, fullBytes := probeCost(t, reg, n)
	t.Logf("per probe: no observer %.0f allocs %.0f B; stuck observer, 100 queued %.0f allocs %.0f B; full %.0f allocs %.0f B",
		noneAllocs, noneBytes, fewAllocs, fewBytes, fullAllocs, fullBytes)
	if fullAllocs > noneAllocs || fewAllocs > noneAllocs {
		t.Errorf("a stuck observer costs each probe allocations: %.0f without it, %.0f with 100 items queued, %.0f with its queue full",
			noneAllocs, fewAllocs, fullAllocs)
	}
	// Bytes: a dropped run costs nothing. (A queued one is a slot of a
	// slice that grows by doubling, whose share per probe depends on where
	// the doublings fall: not compared.)
	if fullBytes > noneBytes+256 {
		t.Errorf("a stuck observer with its queue full costs each probe %.0f B, %.0f without it", fullBytes, noneBytes)
	}
	if c := o.calls.Load(); c != 1 {
		t.Errorf("the stuck observer was called %d times, want 1 (it never returned)", c)
	}
}

// blockingHandler is a slog.Handler stuck for good (a blocked stderr pipe)
// until released.
type blockingHandler struct {
	release chan struct{}
	records *atomic.Int64
}

func (h blockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h blockingHandler) Handle(_ context.Context, r slog.Record) error {
	h.records.Add(1)
	<-h.release
	return nil
}
func (h blockingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h blockingHandler) WithGroup(string) slog.Handler      { return h }

// TestIssue20StuckLoggerCostsNothing: a check that panics at every run logs
// its stack each time (log records are never coalesced). With the logger
// stuck for good, a probe costs the same allocations whether its queue
// holds a few records or has been offered 10,000.
//
// On 4001f29 the same mechanism as for observers (scan and copy of the
// full queue on every post) made each panicking probe 1.6 to 2.4 times
// slower once the stuck logger's queue was full.
func TestIssue20StuckLoggerCostsNothing(t *testing.T) {
	h := blockingHandler{release: make(chan struct{}), records: new(atomic.Int64)}
	defer close(h.release)
	reg := health.New(health.Options{Logger: slog.New(h)})
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "bad", health.CheckFunc(func(context.Context) error { panic("boom") })); err != nil {
		t.Fatal(err)
	}
	if !eventually(settle, func() bool { return h.records.Load() > 0 }) {
		t.Fatal("the logger never got its first record")
	}
	fewAllocs, fewBytes := probeCost(t, reg, 500)
	fill(t, reg, 10000)
	fullAllocs, fullBytes := probeCost(t, reg, 500)
	t.Logf("per panicking probe: stuck logger with few records queued %.0f allocs %.0f B; offered 10,000 %.0f allocs %.0f B",
		fewAllocs, fewBytes, fullAllocs, fullBytes)
	if fullAllocs > fewAllocs {
		t.Errorf("a panicking probe costs %.0f allocations with the stuck logger's queue full, %.0f with it nearly empty", fullAllocs, fewAllocs)
	}
	if fullBytes > fewBytes+512 {
		t.Errorf("a panicking probe allocates %.0f B with the stuck logger's queue full, %.0f B with it nearly empty", fullBytes, fewBytes)
	}
	if r := h.records.Load(); r != 1 {
		t.Errorf("the stuck logger was called %d times, want 1", r)
	}
}

// TestIssue20ReleasedConsumersHearTheNextEvents: an observer and a logger
// hung for good do not hold up probes (every one of 200 probes of a
// flapping check is answered while both are hung), and once released,
// both hear what happens next.
func TestIssue20ReleasedConsumersHearTheNextEvents(t *testing.T) {
	logs := new(logBuffer)
	release := make(chan struct{})
	var hungLogger atomic.Bool
	reg := health.New(health.Options{Logger: slog.New(gateHandler{slog.NewTextHandler(logs, nil), release, &hungLogger})})
	defer func() { _ = reg.Close() }()
	o := &stuckObserver{release: release}
	heard := new(eventLog)
	reg.AddObserver(funcObserver{event: func(ev health.Event) { o.ObserveEvent(ev); heard.ObserveEvent(ev) }})
	var failing atomic.Bool
	if err := reg.Register(health.Readiness, "flapper", health.CheckFunc(func(context.Context) error {
		if failing.Load() {
			return errCheckFailed
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if !eventually(settle, func() bool { return o.calls.Load() > 0 && hungLogger.Load() }) {
		t.Fatal("the observer and the logger never got their first items")
	}
	for i := range 200 {
		failing.Store(i%2 == 0)
		mustReturn(t, "a probe while the consumers hang", answerBound, func() { fill(t, reg, 1) })
	}
	close(release)
	reg.MarkNotReady("after the release")
	if _, ok := heard.await(0, statusOf("ready", health.StatusFail)); !ok {
		t.Errorf("the released observer never heard the change made after its release")
	}
	if !logs.await("ready", "after the release") {
		t.Errorf("the released logger never wrote the change made after its release; the log:\n%s", tailString(logs.String()))
	}
}

// gateHandler is a slog.Handler that blocks in its first Handle until
// release is closed, then writes through to next.
type gateHandler struct {
	next    slog.Handler
	release chan struct{}
	hung    *atomic.Bool
}

func (h gateHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }
func (h gateHandler) Handle(ctx context.Context, r slog.Record) error {
	h.hung.Store(true)
	<-h.release
	return h.next.Handle(ctx, r)
}
func (h gateHandler) WithAttrs(as []slog.Attr) slog.Handler { return h }
func (h gateHandler) WithGroup(string) slog.Handler         { return h }
