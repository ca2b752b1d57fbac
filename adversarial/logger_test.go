package adversarial_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// hostileHandler is a slog.Handler that performs its act in the one
// method named in (Enabled, Handle, WithAttrs or WithGroup), at every call
// or only at the first (once).
type hostileHandler struct {
	in    string
	do    act
	once  bool
	calls *atomic.Int32
}

func (h *hostileHandler) strike(method string) {
	if method != h.in {
		return
	}
	if n := h.calls.Add(1); !h.once || n == 1 {
		h.do()
	}
}

func (h *hostileHandler) Enabled(context.Context, slog.Level) bool {
	h.strike("Enabled")
	return true
}

func (h *hostileHandler) Handle(context.Context, slog.Record) error {
	h.strike("Handle")
	return nil
}

func (h *hostileHandler) WithAttrs([]slog.Attr) slog.Handler {
	h.strike("WithAttrs")
	return h
}

func (h *hostileHandler) WithGroup(string) slog.Handler {
	h.strike("WithGroup")
	return h
}

// derefHandler dereferences its receiver everywhere: a typed nil
// (*derefHandler)(nil) passes slog.New's nil check and panics at once.
type derefHandler struct{ level slog.Level }

func (h *derefHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *derefHandler) Handle(context.Context, slog.Record) error    { _ = h.level; return nil }
func (h *derefHandler) WithAttrs([]slog.Attr) slog.Handler           { _ = h.level; return h }
func (h *derefHandler) WithGroup(string) slog.Handler                { _ = h.level; return h }

type loggerAttack struct {
	name    string
	handler func(rg *rig) slog.Handler
}

func loggerAttacks() []loggerAttack {
	var attacks []loggerAttack
	for _, method := range []string{"Enabled", "Handle", "WithAttrs", "WithGroup"} {
		for _, b := range []struct {
			name string
			do   func(*rig) act
			once bool
		}{
			{"panics", func(*rig) act { return panics(marker("logger")) }, false},
			{"calls_Goexit", func(*rig) act { return goexits() }, false},
			{"hangs_once", func(rg *rig) act { return hangs(rg) }, true},
		} {
			attacks = append(attacks, loggerAttack{name: method + "_" + b.name, handler: func(rg *rig) slog.Handler {
				return &hostileHandler{in: method, do: b.do(rg), once: b.once, calls: new(atomic.Int32)}
			}})
		}
	}
	attacks = append(attacks, loggerAttack{name: "Handle_slow", handler: func(*rig) slog.Handler {
		// A log shipper that takes its time with every record.
		return &hostileHandler{in: "Handle", do: func() { time.Sleep(2 * time.Millisecond) }, calls: new(atomic.Int32)}
	}})
	return append(attacks, loggerAttack{name: "typed_nil_handler", handler: func(*rig) slog.Handler {
		var h *derefHandler
		return h
	}})
}

// attackLogger gives the registry the hostile logger and makes it log
// everything it logs: a panicking check, status changes of on-request,
// background and dependency checks, breaker changes, MarkReady after
// Drain. The registry must keep working: checks run and recover,
// observers hear every change, probes are answered, no call into the
// registry panics or hangs.
func attackLogger(t *testing.T, a loggerAttack) {
	var rg *rig
	var handler slog.Handler
	lazy := &lazyHandler{get: func() slog.Handler { return handler }}
	rg = newRigWith(t, rigConfig{logger: slog.New(lazy)})
	handler = a.handler(rg)
	lazy.ready.Store(true)

	var flakyRuns, bgRuns atomic.Int32
	rg.register(t, health.Readiness, "flaky", health.CheckFunc(func(context.Context) error {
		if flakyRuns.Add(1)%2 == 1 {
			panic(marker("flaky"))
		}
		return nil
	}), health.CheckOptions{Timeout: checkTimeout})
	rg.register(t, health.Readiness, "bg", health.CheckFunc(func(context.Context) error {
		if bgRuns.Add(1) <= 3 {
			return errCheckFailed
		}
		return nil
	}), health.CheckOptions{Timeout: checkTimeout, Every: tick})
	var depDown atomic.Bool
	depDown.Store(true)
	rg.register(t, health.Readiness, "dep", health.DependencyFunc(func(context.Context) error {
		if depDown.Load() {
			return errCheckFailed
		}
		return nil
	}), health.CheckOptions{Timeout: checkTimeout, Breaker: health.BreakerSettings{Open: breakerOpen}})

	for round := range 2 {
		from := rg.events.mark()
		if res, ok := rg.result(t, health.Readiness, "flaky"); ok && !safeIs(res.Err, health.ErrPanic) {
			t.Errorf("round %d: the panicking run of flaky reported %v (%s), want ErrPanic", round, res.Status, safeText(res.Err))
		}
		rg.expectPass(t, "flaky", from)
		rg.probeAll(t, "flaky", http.StatusOK, http.StatusServiceUnavailable)
		if t.Failed() {
			return
		}
	}
	if _, ok := rg.events.await(0, statusOf("bg", health.StatusPass)); !ok {
		t.Errorf("the background check's recovery never reached the observers; events: %s", rg.events.describe("bg"))
	}
	opened := eventually(settle, func() bool {
		rg.result(t, health.Readiness, "dep")
		for _, ev := range rg.events.snapshot() {
			if breakerTo("dep", "open")(ev) {
				return true
			}
		}
		return t.Failed()
	})
	if !opened {
		t.Errorf("the dependency's breaker never opened (or no observer heard it); events: %s", rg.events.describe("dep"))
	}
	depDown.Store(false)
	rg.expectPass(t, "dep", rg.events.mark())
	rg.responsive(t, "")
	rg.unblock() // a hanging logger has had its chance to wedge things
	mustReturn(t, "Drain", answerBound, func() { _ = rg.reg.Drain(context.Background(), 0) })
	mustReturn(t, "MarkReady after Drain (which logs)", answerBound, rg.reg.MarkReady)
	if a := rg.get(t, "/readyz"); a.ok && a.code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d after Drain, want 503", a.code)
	}
}

// lazyHandler forwards to a handler made once the rig exists (a hanging
// handler hangs on the rig's release), and is itself benign until then.
type lazyHandler struct {
	ready atomic.Bool
	get   func() slog.Handler
}

func (l *lazyHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return l.ready.Load() && l.get().Enabled(ctx, lv)
}

func (l *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	if !l.ready.Load() {
		return nil
	}
	return l.get().Handle(ctx, r)
}

func (l *lazyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if !l.ready.Load() {
		return l
	}
	return l.get().WithAttrs(as)
}

func (l *lazyHandler) WithGroup(g string) slog.Handler {
	if !l.ready.Load() {
		return l
	}
	return l.get().WithGroup(g)
}

// TestHostileLogger: "logger misbehaviour → registry keeps working,
// probes unaffected", for a slog.Handler whose methods panic, call
// Goexit or block, and for a typed-nil handler. (The registry calls only
// Enabled and Handle; the WithAttrs and WithGroup rows hold it to that.)
func TestHostileLogger(t *testing.T) {
	for _, a := range loggerAttacks() {
		t.Run(a.name, func(t *testing.T) {
			inChild(t, func(t *testing.T) { attackLogger(t, a) })
		})
	}
}
