package adversarial_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// hostileCtx is a context.Context implementation (not built with package
// context) whose method named in misbehaves. It ends when end is called.
type hostileCtx struct {
	in      string // Deadline, Done, Err or Value; or "" for none
	do      act
	done    chan struct{}
	endOnce sync.Once
	// lie: Deadline reports a deadline 1 ms away that Done never honours.
	lie bool
	// nilErr: Err returns nil even after Done is closed.
	nilErr bool
}

func (c *hostileCtx) end() { c.endOnce.Do(func() { close(c.done) }) }

func (c *hostileCtx) Deadline() (time.Time, bool) {
	if c.in == "Deadline" {
		c.do()
	}
	if c.lie {
		return time.Now().Add(time.Millisecond), true
	}
	return time.Time{}, false
}

func (c *hostileCtx) Done() <-chan struct{} {
	if c.in == "Done" {
		c.do()
	}
	return c.done
}

func (c *hostileCtx) Err() error {
	if c.in == "Err" {
		c.do()
	}
	select {
	case <-c.done:
		if c.nilErr {
			return nil
		}
		return context.Canceled
	default:
		return nil
	}
}

func (c *hostileCtx) Value(any) any {
	if c.in == "Value" {
		c.do()
	}
	return nil
}

// TestHostileContext: health.WithContext(ctx) with a hostile context
// implementation. New must return (no panic, no hang), probes must be
// answered within the check's timeout, and when the context ends (for
// those whose Done works) the registry stops: an on-request check no
// longer passes.
func TestHostileContext(t *testing.T) {
	for _, c := range []struct {
		name string
		ctx  func(release <-chan struct{}) *hostileCtx
		ends bool // Done works, so the registry must notice the end
	}{
		{name: "control", ends: true, ctx: func(<-chan struct{}) *hostileCtx { return &hostileCtx{} }},
		{name: "Value_panics", ends: true, ctx: func(<-chan struct{}) *hostileCtx {
			return &hostileCtx{in: "Value", do: panics(marker("ctx-value"))}
		}},
		{name: "Value_hangs", ends: true, ctx: func(r <-chan struct{}) *hostileCtx {
			return &hostileCtx{in: "Value", do: func() { <-r }}
		}},
		{name: "Err_panics", ends: true, ctx: func(<-chan struct{}) *hostileCtx {
			return &hostileCtx{in: "Err", do: panics(marker("ctx-err"))}
		}},
		{name: "Err_nil_after_Done", ends: true, ctx: func(<-chan struct{}) *hostileCtx { return &hostileCtx{nilErr: true} }},
		{name: "Deadline_panics", ends: true, ctx: func(<-chan struct{}) *hostileCtx {
			return &hostileCtx{in: "Deadline", do: panics(marker("ctx-deadline"))}
		}},
		{name: "Deadline_lies", ends: true, ctx: func(<-chan struct{}) *hostileCtx { return &hostileCtx{lie: true} }},
		{name: "Done_panics", ctx: func(<-chan struct{}) *hostileCtx {
			return &hostileCtx{in: "Done", do: panics(marker("ctx-done"))}
		}},
		{name: "Done_hangs", ctx: func(r <-chan struct{}) *hostileCtx {
			return &hostileCtx{in: "Done", do: func() { <-r }}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			knownBrokenRow(t)
			inChild(t, func(t *testing.T) {
				release := make(chan struct{})
				t.Cleanup(func() { close(release) })
				hc := c.ctx(release)
				hc.done = make(chan struct{})
				t.Cleanup(hc.end)
				attackContext(t, hc, c.ends)
			})
		})
	}
}

func attackContext(t *testing.T, hc *hostileCtx, ends bool) {
	rg := newRig(t, health.WithContext(hc))
	// A check that ignores its context: only the check's own timeout
	// (not a deadline the parent context claims) ends its runs.
	rg.register(t, health.Readiness, "stubborn", func(context.Context) error { rg.hang(); return nil }, health.Timeout(checkTimeout))
	rg.register(t, health.Readiness, "victim", func(context.Context) error { return nil }, health.Timeout(checkTimeout))
	rg.register(t, health.Liveness, "bg", func(context.Context) error { return nil }, health.Timeout(checkTimeout), health.Every(tick))
	if a := rg.get(t, "/readyz/victim"); a.ok && a.code != http.StatusOK {
		t.Errorf("/readyz/victim answered %d, want 200", a.code)
	}
	for range 3 {
		if a := rg.get(t, "/readyz"); a.ok && a.code != http.StatusServiceUnavailable {
			t.Errorf("/readyz answered %d with a check that hangs, want 503", a.code)
		}
	}
	if a := rg.get(t, "/livez"); a.ok && a.code != http.StatusOK {
		t.Errorf("/livez answered %d, want 200", a.code)
	}
	if t.Failed() || !ends {
		return
	}
	hc.end()
	stopped := eventually(settle, func() bool {
		res, ok := rg.result(t, health.Readiness, "victim")
		return !ok || res.Status != health.StatusPass
	})
	if !stopped {
		t.Errorf("the WithContext context ended but the on-request check still passes: want ErrClosed, as after Close")
	}
}
