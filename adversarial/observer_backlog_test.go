package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/probekit/probekit/health"
)

// TestStalledObserverHearsTheLatestState: an observer that stalls while
// the registry changes a great deal may miss changes (runs are dropped,
// events coalesced), but once it catches up it must know the current
// state: the change made last, while it was stalled, cannot be the one it
// loses.
func TestStalledObserverHearsTheLatestState(t *testing.T) {
	gate := make(chan struct{})
	var stalled atomic.Bool
	slow := new(eventLog)
	rg := newRig(t)
	rg.reg.AddObserver(funcObserver{event: func(ev health.Event) {
		stalled.Store(true)
		<-gate
		slow.ObserveEvent(ev)
	}})
	t.Cleanup(func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	})
	// Far more change than any queue keeps: a liveness check flapping with
	// reasons of 2 KiB. Readiness's own switch is untouched until the end.
	reason := strings.Repeat("worker wedged; ", 140)
	var failing atomic.Bool
	rg.register(t, health.Liveness, "worker", health.CheckFunc(func(context.Context) error {
		if failing.Load() {
			return errors.New(reason)
		}
		return nil
	}))
	if !eventually(settle, stalled.Load) {
		t.Fatal("the observer never got its first event")
	}
	for i := range 5000 {
		failing.Store(i%2 == 0)
		if _, err := rg.reg.Check(context.Background(), health.Liveness); err != nil {
			t.Fatal(err)
		}
	}
	rg.reg.MarkNotReady("the last change") // made while the observer is still stalled
	close(gate)
	if _, ok := slow.await(0, statusOf("ready", health.StatusFail)); !ok {
		t.Errorf("the observer caught up but never heard the last change (ready failing): the newest events were dropped; log:\n%s", tailString(rg.logs.String()))
	}
}

// TestBlockedObserverMemoryBounded: "an observer that blocks forever must
// not make memory grow without bound while checks keep changing state".
// Each of the 6000 changes makes events and a run carrying a fresh 4 KiB
// reason, so keeping them all retains tens of MiB; the heap after GC must
// stay within 8 MiB of where it started. A bound on the number of queued
// items alone is not enough: an error's text is user data of any size.
func TestBlockedObserverMemoryBounded(t *testing.T) {
	for _, how := range []string{"switch", "check"} {
		t.Run(how, func(t *testing.T) {
			inChild(t, func(t *testing.T) { blockedObserverMemory(t, how) })
		})
	}
}

func blockedObserverMemory(t *testing.T, how string) {
	const (
		changes = 6000
		payload = 4 << 10
		bound   = 8 << 20
	)
	// No rig: its recording observer and log buffer would keep every reason
	// alive themselves. The logger keeps short lines only.
	var blocked atomic.Bool
	release := make(chan struct{})
	notes := new(shortLog)
	reg := health.New(health.Options{Logger: slog.New(notes)})
	reg.AddObserver(funcObserver{
		event: func(health.Event) { blocked.Store(true); <-release },
		run:   func(health.Run) { blocked.Store(true); <-release },
	})
	t.Cleanup(func() {
		close(release)
		mustReturn(t, "Close", answerBound, func() { _ = reg.Close() })
	})
	var reason atomic.Pointer[string]
	if err := reg.Register(health.Readiness, "flapper", health.CheckFunc(func(context.Context) error {
		if r := reason.Load(); r != nil {
			return errors.New(*r)
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	reg.MarkNotReady("warming up")
	if !eventually(settle, blocked.Load) {
		t.Fatal("the observer never got its first event")
	}
	start := heapAfterGC()
	for i := range changes {
		// A fresh payload per change: nothing shared keeps it small.
		big := fmt.Sprintf("%06d %s", i, strings.Repeat("x", payload))
		switch how {
		case "switch":
			if i%2 == 0 {
				reg.MarkNotReady(big)
			} else {
				reg.MarkReady()
			}
		case "check":
			if i%2 == 0 {
				reason.Store(&big)
			} else {
				reason.Store(nil)
			}
			if _, err := reg.Check(context.Background(), health.Readiness); err != nil {
				t.Fatalf("Check: %v", err)
			}
		}
	}
	grown := int64(heapAfterGC()) - int64(start)
	t.Logf("heap grew by %d KiB over %d changes with a blocked observer", grown>>10, changes)
	if grown > bound {
		t.Errorf("the heap grew by %d MiB over %d changes while an observer was blocked (bound %d MiB): items pile up without bound", grown>>20, changes, bound>>20)
	}
	req := newRequest(t, "GET", "/readyz")
	if a := serve(t, reg.Handler(health.Readiness), req, answerBound); a.ok {
		checkAnswer(t, req, a)
	}
	if !eventually(settle, func() bool { return notes.has("drop") || notes.has("behind") }) {
		t.Errorf("no log line says items were dropped for the blocked observer; the log:\n%s", notes)
	}
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// shortLog is a slog.Handler that keeps every line about lost items
// (dropped, coalesced, fell behind) and the last few others, each cut
// short, so that logging costs the heap nothing worth measuring.
type shortLog struct {
	mu     sync.Mutex
	losses []string
	recent []string
}

func (l *shortLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *shortLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *shortLog) WithGroup(string) slog.Handler            { return l }

func (l *shortLog) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return len(line) < 200
	})
	line = strings.Clone(line[:min(len(line), 200)])
	l.mu.Lock()
	defer l.mu.Unlock()
	if lower := strings.ToLower(line); strings.Contains(lower, "drop") || strings.Contains(lower, "coalesc") ||
		strings.Contains(lower, "behind") || strings.Contains(lower, "lost") {
		if len(l.losses) < 100 {
			l.losses = append(l.losses, line)
		}
		return nil
	}
	l.recent = append(l.recent, line)
	if len(l.recent) > 20 {
		l.recent = append(l.recent[:0], l.recent[1:]...)
	}
	return nil
}

func (l *shortLog) has(word string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.losses {
		if strings.Contains(strings.ToLower(line), word) {
			return true
		}
	}
	return false
}

func (l *shortLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(append(append([]string(nil), l.losses...), l.recent...), "\n")
}

// TestObserverLastEventIsTheLatest: an observer that fell behind hears,
// once it catches up, the latest status of every entry last. Made
// deterministic: the observer is held at its first item, its queue is
// filled with runs, readiness turns off (the queue is full: the event is
// kept as its entry's latest), the observer takes one item (one place
// frees up), readiness turns on again, and the observer is let go. The
// last event it hears for "ready" must say pass, as Latest does.
//
// Found by this suite on the v1.0 engine and fixed in c20870f: the
// mailbox appended an item to its queue whenever there was room, even
// with an older item of the same key waiting in its map of latest items,
// which it delivered after the queue: the observer heard "ready" pass,
// then fail, and kept the stale fail for good (TestEventsAgreeWithReport
// found it by chance in about one run in three).
func TestObserverLastEventIsTheLatest(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	entered := make(chan struct{}, 16)
	proceed, free := make(chan struct{}), make(chan struct{})
	wait := func() { // each call waits for the test, until free
		select {
		case <-free:
			return
		default:
		}
		entered <- struct{}{}
		select {
		case <-proceed:
		case <-free:
		}
	}
	heard := new(eventLog)
	reg.AddObserver(funcObserver{
		event: func(ev health.Event) { wait(); heard.ObserveEvent(ev) },
		run:   func(health.Run) { wait() },
	})
	var once sync.Once
	release := func() { once.Do(func() { close(free) }) }
	defer release()
	if err := reg.Register(health.Liveness, "loop", passing); err != nil { // an event: the observer's first item
		t.Fatal(err)
	}
	<-entered
	for range 5000 { // runs: far more than the queue holds
		if _, err := reg.Check(context.Background(), health.Liveness); err != nil {
			t.Fatal(err)
		}
	}
	reg.MarkNotReady("off while the observer is behind") // kept as the entry's latest
	proceed <- struct{}{}                                // the observer takes one more item...
	<-entered                                            // ...and is held at it: one place is free
	reg.MarkReady()
	release()
	want, _ := find(t, reg.Latest(health.Readiness), "ready")
	caughtUp := eventually(settle, func() bool {
		last := health.StatusUnknown
		for _, ev := range heard.snapshot() {
			if ev.check == "ready" {
				last = ev.to
			}
		}
		return last == want.Status
	})
	if !caughtUp {
		t.Errorf("the observer caught up hearing %s last for \"ready\", which is %v", describeReady(heard), want.Status)
	}
}

func describeReady(l *eventLog) string {
	var s []string
	for _, ev := range l.snapshot() {
		if ev.check == "ready" {
			s = append(s, ev.to.String())
		}
	}
	return strings.Join(s, " → ")
}

// TestSlowObserverMemoryBounded: an observer that keeps up only partly
// (it takes one item for every new one, so its queue never empties)
// costs bounded memory, as one that is stuck for good does. Made
// deterministic: the observer's queue is filled, then 100,000 times it
// takes one run and a probe posts one; the heap after GC must grow by
// less than 8 MiB (the queue holds at most 4096 items, about 1 MiB).
//
// Found by this suite on the v1.0 engine and fixed in c20870f: the
// queue's backing array was reset only when the queue emptied, so every
// item taken left its slot behind, and the heap grew by about 240 bytes
// per item for as long as the observer stayed behind (23 MiB after
// 100,000 items here).
func TestSlowObserverMemoryBounded(t *testing.T) {
	inChild(t, func(t *testing.T) {
		reg := health.New()
		defer func() { _ = reg.Close() }()
		token, took, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		reg.AddObserver(funcObserver{run: func(health.Run) {
			select {
			case <-token:
				took <- struct{}{}
			case <-done:
			}
		}})
		defer close(done)
		if err := reg.Register(health.Readiness, "db", passing); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for range 5000 { // fill the queue
			_, _ = reg.Check(ctx, health.Readiness)
		}
		start := heapAfterGC()
		const items = 100000
		for range items {
			token <- struct{}{}
			<-took
			_, _ = reg.Check(ctx, health.Readiness)
		}
		grown := int64(heapAfterGC()) - int64(start)
		t.Logf("heap grew by %d KiB over %d items taken by an observer that stays behind", grown>>10, items)
		if grown > 8<<20 {
			t.Errorf("the heap grew by %d MiB over %d items while an observer stayed behind: its queue grows without bound", grown>>20, items)
		}
	})
}
