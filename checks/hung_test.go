package checks_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// A client that ignores its context is bounded by the registry, not by the
// check: these tests run Ping and SQL with such clients under a real
// registry.

// hung is a client whose calls ignore their context and block until
// released. It counts the calls that reached it.
type hung struct {
	release chan struct{}
	once    sync.Once
	calls   atomic.Int32
}

func newHung(t *testing.T) *hung {
	h := &hung{release: make(chan struct{})}
	t.Cleanup(h.free) // whatever happens, no goroutine stays blocked
	return h
}

func (h *hung) free() { h.once.Do(func() { close(h.release) }) }

// wait blocks until released, ignoring ctx, and then returns err.
func (h *hung) wait(err error) error {
	h.calls.Add(1)
	<-h.release
	return err
}

func (h *hung) Ping(context.Context) error { return h.wait(nil) }

// hungTimeout is the check timeout of these tests: short, since the probe
// must wait for it.
const hungTimeout = 200 * time.Millisecond

// requireBoundedByRegistry registers check (which calls h) in readiness
// with hungTimeout and proves the registry's bound: the probe answers at
// the check's timeout with ErrTimeout although the call has not returned;
// the next probe makes no new call while it is still blocked; and after it
// returns, the check calls the client again.
func requireBoundedByRegistry(t *testing.T, h *hung, check health.Checker) {
	t.Helper()
	reg := health.New()
	t.Cleanup(func() { reg.Close() })
	if err := reg.Register(health.Readiness, "dep", check, health.CheckOptions{Timeout: hungTimeout}); err != nil {
		t.Fatal(err)
	}
	probe := func() (health.CheckResult, time.Duration) {
		t.Helper()
		start := time.Now()
		rep, err := reg.Check(testCtx(t), health.Readiness, "dep")
		if err != nil {
			t.Fatal(err)
		}
		return rep.Checks[0], time.Since(start)
	}

	r, took := probe()
	if !errors.Is(r.Err, health.ErrTimeout) {
		t.Fatalf("first probe: %v, want health.ErrTimeout", r.Err)
	}
	if took < hungTimeout || took > hungTimeout+slack {
		t.Fatalf("first probe took %v, want its timeout %v (plus at most %v of slack)", took, hungTimeout, slack)
	}
	if n := h.calls.Load(); n != 1 {
		t.Fatalf("the client got %d calls, want 1", n)
	}

	r, _ = probe()
	if !errors.Is(r.Err, health.ErrTimeout) {
		t.Fatalf("probe while the call is hung: %v, want health.ErrTimeout", r.Err)
	}
	if n := h.calls.Load(); n != 1 {
		t.Fatalf("a probe while the call is hung reached the client: %d calls, want 1", n)
	}

	// Once the hung call returns, a probe runs the check again. The
	// registry learns of the return on the call's own goroutine, so poll.
	h.free()
	ctx := testCtx(t)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for h.calls.Load() < 2 {
		probe()
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("the check never called the client again after the hung call returned")
		}
	}
	if n := h.calls.Load(); n != 2 {
		t.Fatalf("the client got %d calls, want 2", n)
	}
}

func TestPingHungClientUnderRegistry(t *testing.T) {
	t.Parallel()
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		h := newHung(t)
		requireBoundedByRegistry(t, h, checks.Ping(h))
	})
	t.Run("PingFunc", func(t *testing.T) {
		t.Parallel()
		h := newHung(t)
		requireBoundedByRegistry(t, h, checks.PingFunc(h.Ping))
	})
}

// hungDriver is a database/sql driver whose every call ignores its context
// and blocks on the hung client named by the DSN; where in the call it
// blocks (connecting, pinging or querying) is the DSN too.
type hungDriver struct{}

var hungClients sync.Map // DSN → *hung

func (hungDriver) Open(name string) (driver.Conn, error) {
	h, _ := hungClients.Load(name)
	if name == "connect" {
		return nil, h.(*hung).wait(errors.New("released"))
	}
	return &hungConn{h: h.(*hung)}, nil
}

type hungConn struct{ h *hung }

func (c *hungConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (c *hungConn) Close() error                        { return nil }
func (c *hungConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (c *hungConn) Ping(context.Context) error          { return c.h.wait(nil) }

func (c *hungConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return nil, c.h.wait(errors.New("released"))
}

func init() { sql.Register("checks-hung", hungDriver{}) }

// TestSQLHungDriverUnderRegistry: connecting, pinging or querying with a
// driver that ignores its context is bounded by the registry.
func TestSQLHungDriverUnderRegistry(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"connect", "ping", "query"} {
		t.Run(where, func(t *testing.T) {
			t.Parallel()
			db, err := sql.Open("checks-hung", where)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			h := newHung(t) // its cleanup frees it before db closes
			hungClients.Store(where, h)
			var opts []checks.SQLOption
			if where == "query" {
				opts = append(opts, checks.SQLQuery("SELECT 1"))
			}
			requireBoundedByRegistry(t, h, checks.SQL(db, opts...))
		})
	}
}
