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

// hookAttack is a hostile OnStatusChange hook.
type hookAttack struct {
	name string
	// hook returns the hostile hook; calls counts its invocations.
	hook func(rg *rig, calls *atomic.Int32) func(health.Event)
	// logs are substrings one log line must contain.
	logs []string
	// blocks: the hook blocks (until released) on its first event.
	blocks bool
}

func hookAttacks() []hookAttack {
	every := func(do func(*rig) act) func(*rig, *atomic.Int32) func(health.Event) {
		return func(rg *rig, calls *atomic.Int32) func(health.Event) {
			d := do(rg)
			return func(health.Event) { calls.Add(1); d() }
		}
	}
	once := func(do func(*rig) act) func(*rig, *atomic.Int32) func(health.Event) {
		return func(rg *rig, calls *atomic.Int32) func(health.Event) {
			d := do(rg)
			return func(health.Event) {
				if calls.Add(1) == 1 {
					d()
				}
			}
		}
	}
	return []hookAttack{
		{name: "panics_at_every_event", logs: []string{"hook", "adversarial-hook"},
			hook: every(func(*rig) act { return panics(marker("hook")) })},
		{name: "panics_with_value_whose_String_panics", logs: []string{"hook", "panic"},
			hook: every(func(*rig) act { return panics(actStringer{panics("String")}) })},
		{name: "panics_with_value_whose_String_calls_Goexit",
			hook: once(func(*rig) act { return panics(actStringer{goexits()}) })},
		{name: "panics_with_value_whose_String_hangs", blocks: true,
			hook: once(func(rg *rig) act { return panics(actStringer{hangs(rg)}) })},
		{name: "calls_Goexit_once", logs: []string{"hook", "goexit"},
			hook: once(func(*rig) act { return goexits() })},
		{name: "calls_Goexit_at_every_event",
			hook: every(func(*rig) act { return goexits() })},
		{name: "blocks_on_its_first_event", blocks: true,
			hook: once(func(rg *rig) act { return hangs(rg) })},
		{name: "reenters_the_registry",
			hook: func(rg *rig, calls *atomic.Int32) func(health.Event) {
				return func(health.Event) {
					n := calls.Add(1)
					_, _ = rg.reg.Check(context.Background(), health.Liveness)
					if n == 1 {
						_ = rg.reg.Register(health.Liveness, "registered-by-hook", func(context.Context) error { return nil })
					}
				}
			}},
	}
}

// attackHook installs the hostile hook between two recording hooks and
// makes state change several times: both recorders must hear every change
// (a blocked hook delays nobody else), probes must be answered, the hostile
// hook must keep being called (once released, it hears the latest state),
// and its misbehaviour must be logged.
func attackHook(t *testing.T, a hookAttack) {
	var calls atomic.Int32
	after := new(eventLog)
	var hostile atomic.Pointer[func(health.Event)]
	rg := newRig(t,
		health.OnStatusChange(func(ev health.Event) {
			if h := hostile.Load(); h != nil {
				(*h)(ev)
			}
		}),
		health.OnStatusChange(after.record))
	h := a.hook(rg, &calls)
	hostile.Store(&h)
	var failing atomic.Bool
	rg.register(t, health.Readiness, "flapper", func(context.Context) error {
		if failing.Load() {
			return errCheckFailed
		}
		return nil
	})
	const flips = 6
	for i := range flips {
		failing.Store(i%2 == 0)
		want := health.StatusPass
		if failing.Load() {
			want = health.StatusFail
		}
		from, fromAfter := rg.events.mark(), after.mark()
		if res, ok := rg.result(t, health.Readiness, "flapper"); ok && res.Status != want {
			t.Fatalf("flip %d: flapper is %v, want %v", i, res.Status, want)
		}
		for _, l := range []*eventLog{rg.events, after} {
			f := from
			if l == after {
				f = fromAfter
			}
			if _, ok := l.await(f, statusOf("flapper", want)); !ok {
				t.Fatalf("flip %d: a well-behaved hook never heard flapper become %v (it must not wait for the hostile hook)", i, want)
			}
		}
		if a := rg.get(t, "/readyz"); a.ok && (a.code == 200) != (want == health.StatusPass) {
			t.Errorf("flip %d: /readyz answered %d with flapper %v", i, a.code, want)
		}
	}
	rg.responsive(t, "")
	if len(a.logs) > 0 && !rg.logs.await(a.logs...) {
		t.Errorf("no log line mentions %q; the log:\n%s", a.logs, tailString(rg.logs.String()))
	}
	if a.blocks {
		rg.unblock()
	}
	// The hostile hook is still called for new events.
	before := calls.Load()
	failing.Store(!failing.Load())
	rg.result(t, health.Readiness, "flapper")
	if !eventually(settle, func() bool { return calls.Load() > before }) {
		t.Errorf("the hostile hook was called %d times and never again after misbehaving: later events are lost for it", before)
	}
}

// TestHostileHook: a panic or Goexit in a hook is logged and recovered,
// and that hook and the others keep getting later events; a blocked hook
// delays no probe and no other hook.
func TestHostileHook(t *testing.T) {
	for _, a := range hookAttacks() {
		t.Run(a.name, func(t *testing.T) {
			knownBrokenRow(t)
			inChild(t, func(t *testing.T) { attackHook(t, a) })
		})
	}
}

// TestHookClosesRegistry: a hook that calls Close waits at most about the
// longest check timeout (Close cannot wait for the goroutine it runs on),
// and the registry ends closed: on-request checks no longer pass.
func TestHookClosesRegistry(t *testing.T) {
	inChild(t, func(t *testing.T) {
		start := make(chan struct{})
		closed := make(chan error, 1)
		var reg atomic.Pointer[health.Registry]
		var once atomic.Bool
		rg := newRig(t, health.OnStatusChange(func(health.Event) {
			if once.CompareAndSwap(false, true) {
				<-start
				closed <- reg.Load().Close()
			}
		}))
		reg.Store(rg.reg)
		rg.register(t, health.Readiness, "victim", func(context.Context) error { return nil }, health.Timeout(checkTimeout))
		close(start)
		mustReturn(t, "Close called from a hook", 2*checkTimeout+slack, func() { <-closed })
		if res, ok := rg.result(t, health.Readiness, "victim"); ok && res.Status == health.StatusPass {
			t.Errorf("after a hook closed the registry, the on-request check still passes; want ErrClosed")
		}
	})
}

// TestStalledHookHearsTheLatestState: a hook that stalls while the
// registry changes a great deal may miss changes (they are dropped or
// coalesced), but once it catches up it must know the current state: the
// change made last, while it was stalled, cannot be the one it loses.
func TestStalledHookHearsTheLatestState(t *testing.T) {
	gate := make(chan struct{})
	var stalled atomic.Bool
	slow := new(eventLog)
	rg := newRig(t, health.OnStatusChange(func(ev health.Event) {
		stalled.Store(true)
		<-gate
		slow.record(ev)
	}))
	t.Cleanup(func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	})
	if !eventually(settle, stalled.Load) {
		t.Fatal("the hook never got its first event")
	}
	// Far more change than any queue keeps: liveness flapping with reasons
	// of 2 KiB. Readiness's own switch is untouched until the end.
	reason := strings.Repeat("worker wedged; ", 140)
	for range 5000 {
		rg.reg.MarkBroken(reason)
		rg.reg.SetAlive(true)
	}
	rg.reg.MarkNotReady("the last change") // made while the hook is still stalled
	close(gate)
	if _, ok := slow.await(0, statusOf(health.EntryReady, health.StatusFail)); !ok {
		t.Errorf("the hook caught up but never heard the last change (ready failing): the newest events were dropped; log:\n%s", tailString(rg.logs.String()))
	}
}

// TestBlockedHookMemoryBounded: "a hook that blocks forever must not make
// memory grow without bound while checks keep changing state (drop or
// coalesce, and say so in the docs and the log)". Each of the 6000 changes
// makes two events (the entry's and the group's) carrying a fresh 4 KiB
// reason, so keeping them all retains about 50 MiB; the heap after GC must
// stay within 8 MiB of where it started. A bound on the number of queued
// events alone is not enough: an error's text is user data of any size.
func TestBlockedHookMemoryBounded(t *testing.T) {
	for _, how := range []string{"switch", "check"} {
		t.Run(how, func(t *testing.T) {
			inChild(t, func(t *testing.T) { blockedHookMemory(t, how) })
		})
	}
}

func blockedHookMemory(t *testing.T, how string) {
	const (
		changes = 6000
		payload = 4 << 10
		bound   = 8 << 20
	)
	// No rig: its recording hook and log buffer would keep every reason
	// alive themselves. The logger keeps short lines only.
	var blocked atomic.Bool
	release := make(chan struct{})
	notes := new(shortLog)
	reg := health.New(health.WithLogger(slog.New(notes)), health.OnStatusChange(func(health.Event) {
		blocked.Store(true)
		<-release
	}))
	t.Cleanup(func() {
		close(release)
		mustReturn(t, "Close", answerBound, func() { _ = reg.Close() })
	})
	var reason atomic.Pointer[string]
	if err := reg.Register(health.Readiness, "flapper", func(context.Context) error {
		if r := reason.Load(); r != nil {
			return errors.New(*r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reg.SetReady(false)
	if !eventually(settle, blocked.Load) {
		t.Fatal("the hook never got its first event")
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	start := heap()
	for i := range changes {
		// A fresh payload per change: nothing shared keeps it small.
		big := fmt.Sprintf("%06d %s", i, strings.Repeat("x", payload))
		switch how {
		case "switch":
			if i%2 == 0 {
				reg.MarkNotReady(big)
			} else {
				reg.SetReady(true)
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
	grown := int64(heap()) - int64(start)
	t.Logf("heap grew by %d KiB over %d changes with a blocked hook", grown>>10, changes)
	if grown > bound {
		t.Errorf("the heap grew by %d MiB over %d changes while a hook was blocked (bound %d MiB): events pile up without bound", grown>>20, changes, bound>>20)
	}
	req := newRequest(t, "GET", "/readyz")
	if a := serve(t, reg.Handler(health.Readiness), req, answerBound); a.ok {
		checkAnswer(t, req, a)
	}
	if !eventually(settle, func() bool { return notes.has("drop") || notes.has("coalesc") }) {
		t.Errorf("no log line says events were dropped or coalesced for the blocked hook; the log:\n%s", notes)
	}
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
