package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

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
		fn      health.CheckFunc
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
		for _, m := range []struct {
			name string
			opts []health.CheckOption
		}{
			{"on_request", nil},
			{"dependency", []health.CheckOption{health.Dependency(), health.WithBreaker(gobreaker.Settings{ReadyToTrip: func(gobreaker.Counts) bool { return false }})}},
		} {
			t.Run(ret.name+"/"+m.name, func(t *testing.T) {
				reg := health.New()
				defer func() { _ = reg.Close() }()
				opts := append([]health.CheckOption{health.Timeout(ret.timeout)}, m.opts...)
				if err := reg.Register(health.Readiness, "slow", ret.fn, opts...); err != nil {
					t.Fatal(err)
				}
				bad, counted := 0, 0
				var example error
				const runs = 100
				for attempt := 0; counted < runs && attempt < 20*runs; attempt++ {
					res, ok := entryOf(t, reg, health.Readiness, "slow")
					if !ok {
						return
					}
					if errors.Is(res.Err, health.ErrStillRunning) {
						// Not a timed-out run: the previous one is still being
						// wound up. Try again in a moment.
						time.Sleep(time.Millisecond)
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
					t.Errorf("only %d of %d attempts made a run (the others met ErrStillRunning)", counted, 20*runs)
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
