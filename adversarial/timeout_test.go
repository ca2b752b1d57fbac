package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// TestTimeoutIsAlwaysErrTimeout: "a timeout is always reported as
// ErrTimeout (errors.Is), whichever branch noticed it", as for a check that
// returns ctx.Err() the instant its deadline passes; it also matches
// context.DeadlineExceeded, as documented.
func TestTimeoutIsAlwaysErrTimeout(t *testing.T) {
	addr := silentServer(t)
	for _, ret := range []struct {
		name    string
		fn      func(context.Context) error
		timeout time.Duration
	}{
		{"ctx_Err", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, time.Millisecond},
		{"wrapped_ctx_Err", func(ctx context.Context) error { <-ctx.Done(); return fmt.Errorf("query: %w", ctx.Err()) }, time.Millisecond},
		{"context_Cause", func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) }, time.Millisecond},
		// Returns the instant the deadline passes, so that its verdict and
		// the timeout's are ready together.
		{"spins_until_deadline", func(ctx context.Context) error {
			for ctx.Err() == nil {
			}
			return ctx.Err()
		}, time.Millisecond},
		// A driver that turns the context's deadline into a socket deadline
		// returns "i/o timeout" exactly when the check's timeout fires.
		{"socket_deadline", func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			if dl, ok := ctx.Deadline(); ok {
				_ = c.SetReadDeadline(dl)
			}
			_, err = c.Read(make([]byte, 1))
			return fmt.Errorf("read reply: %w", err)
		}, 20 * time.Millisecond},
	} {
		for _, dep := range []bool{false, true} {
			name := "on_request"
			if dep {
				name = "dependency"
			}
			t.Run(ret.name+"/"+name, func(t *testing.T) {
				reg := health.New()
				defer func() { _ = reg.Close() }()
				var calls, returned atomic.Int64
				fn := func(ctx context.Context) error {
					calls.Add(1)
					defer returned.Add(1)
					return ret.fn(ctx)
				}
				var check health.Checker = health.CheckFunc(fn)
				opts := health.CheckOptions{Timeout: ret.timeout}
				if dep {
					// A breaker that never opens within the test's runs.
					check, opts.Breaker = health.DependencyFunc(fn), health.BreakerSettings{Failures: 1000}
				}
				if err := reg.Register(health.Readiness, "slow", check, opts); err != nil {
					t.Fatal(err)
				}
				bad, counted := 0, 0
				var example error
				const runs = 100
				deadline := time.Now().Add(30 * time.Second)
				for counted < runs && time.Now().Before(deadline) {
					before := calls.Load()
					res, ok := entryOf(t, reg, health.Readiness, "slow")
					if !ok {
						return
					}
					if calls.Load() == before {
						// No run was made: the previous one had not returned
						// (the refusal keeps its timeout verdict). Wait for it.
						eventually(settle, func() bool { return returned.Load() == calls.Load() })
						runtime.Gosched()
						continue
					}
					counted++
					if !(errors.Is(res.Err, health.ErrTimeout) && errors.Is(res.Err, context.DeadlineExceeded)) {
						bad++
						example = res.Err
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d timed-out runs did not report ErrTimeout and DeadlineExceeded, such as %q", bad, counted, example)
				}
				if counted < runs {
					t.Errorf("only %d of %d runs were made in 30 s", counted, runs)
				}
			})
		}
	}
}

// silentServer listens on loopback and accepts connections without ever
// writing to them; it returns the address.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}
