package health_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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

func readinessEntry(t *testing.T, r *health.Registry, name string) health.CheckResult {
	t.Helper()
	rep, err := r.Check(context.Background(), health.Readiness)
	require.NoError(t, err)
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	require.FailNow(t, "no entry "+name)
	return health.CheckResult{}
}

func TestDependencyOutageOpensBreaker(t *testing.T) {
	r := openRegistry(t)
	dep := newDependency(t)
	var runs atomic.Int64
	mustRegister(t, r, health.Liveness, "loop", passing)
	mustRegister(t, r, health.Readiness, "dep", dep.check(&runs), health.Dependency())
	p := serveProbes(t, r)
	b, err := r.Breaker("dep")
	require.NoError(t, err)
	assert.Equal(t, "dep", b.Name())
	liveOK := func() {
		t.Helper()
		assert.Equal(t, http.StatusOK, p.get("/").code, "liveness never follows a dependency")
		assert.Equal(t, http.StatusOK, p.get("/livez").code)
	}

	resp := p.get("/readyz")
	require.Equal(t, http.StatusOK, resp.code)
	assert.Equal(t, "closed", decodeHealth(t, resp).only(t, "dep").Breaker)

	dep.down.Store(true)
	for i := 1; i <= health.DefaultBreakerFailures; i++ {
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code, "readiness fails from the first failure")
		want := "closed"
		if i == health.DefaultBreakerFailures {
			want = "open"
		}
		assert.Equal(t, want, decodeHealth(t, resp).only(t, "dep").Breaker, "after %d failures", i)
		liveOK()
	}
	assert.Equal(t, gobreaker.StateOpen, b.State())
	callsAtOpen, runsAtOpen := dep.calls.Load(), runs.Load()
	assert.Equal(t, int64(1+health.DefaultBreakerFailures), runsAtOpen)

	// Concurrent probes of every kind: the open breaker answers them all.
	var wg sync.WaitGroup
	targets := []string{"/readyz", "/ready", "/readyz/dep", "/readyz?verbose", "/readyz?exclude=nosuch"}
	codes := make(chan int, 50)
	for i := range 50 {
		wg.Go(func() {
			resp, err := p.try(http.MethodGet, targets[i%len(targets)])
			if err != nil {
				t.Error(err)
				return
			}
			codes <- resp.code
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Equal(t, http.StatusServiceUnavailable, code)
	}
	assert.Equal(t, callsAtOpen, dep.calls.Load(), "the dependency was called while the breaker was open")
	assert.Equal(t, runsAtOpen, runs.Load(), "the check ran while the breaker was open")
	liveOK()

	res := readinessEntry(t, r, "dep")
	assert.ErrorIs(t, res.Err, health.ErrBreakerOpen)
	assert.ErrorIs(t, res.Err, gobreaker.ErrOpenState)
	assert.Equal(t, gobreaker.StateOpen, res.Breaker.State)
	assert.False(t, res.Breaker.LastSuccess.IsZero())
	assert.Equal(t, runsAtOpen, runs.Load())
}

func TestBreakerRecoversAfterOpenPeriod(t *testing.T) {
	const (
		open     = 100 * time.Millisecond
		interval = 20 * time.Millisecond
	)
	events := newEventLog()
	r := openRegistry(t, health.OnStatusChange(events.hook))
	dep := newDependency(t)
	var runs atomic.Int64
	mustRegister(t, r, health.Readiness, "dep", dep.check(&runs),
		health.Dependency(), health.WithBreaker(gobreaker.Settings{Timeout: open}), health.Every(interval))
	p := serveProbes(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, err := r.WaitFor(ctx, health.Readiness, health.StatusPass)
	require.NoError(t, err)

	dep.down.Store(true)
	events.waitUntil(t, "the breaker to open", func(evs []health.Event) bool {
		return len(breakerChanges(evs, "dep")) > 0
	})
	assert.Equal(t, http.StatusOK, p.get("/").code)
	resp := p.get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, resp.code)
	assert.Contains(t, []string{"open", "half-open"}, decodeHealth(t, resp).only(t, "dep").Breaker)

	recovered := time.Now()
	dep.down.Store(false)
	bound := time.Duration(float64(open)*(1+health.BreakerJitter) + float64(interval)*(1+health.DefaultJitter))
	wctx, wcancel := context.WithDeadline(ctx, recovered.Add(3*bound))
	defer wcancel()
	_, err = r.WaitFor(wctx, health.Readiness, health.StatusPass)
	require.NoError(t, err, "readiness did not recover within 3×%v of the dependency", bound)
	t.Logf("readiness recovered %v after the dependency (bound %v)", time.Since(recovered), bound)
	resp = p.get("/readyz")
	assert.Equal(t, http.StatusOK, resp.code)
	assert.Equal(t, "closed", decodeHealth(t, resp).only(t, "dep").Breaker)
	assert.Equal(t, http.StatusOK, p.get("/").code)

	evs := events.waitUntil(t, "the breaker to close", func(evs []health.Event) bool {
		ch := breakerChanges(evs, "dep")
		return len(ch) > 0 && ch[len(ch)-1] == "half-open->closed"
	})
	ch := breakerChanges(evs, "dep")
	require.GreaterOrEqual(t, len(ch), 3, "%v", ch)
	assert.Equal(t, "closed->open", ch[0])
	assert.Equal(t, []string{"open->half-open", "half-open->closed"}, ch[len(ch)-2:])
	for i, c := range ch[1 : len(ch)-2] { // failed trials in between
		want := "open->half-open"
		if i%2 == 1 {
			want = "half-open->open"
		}
		assert.Equal(t, want, c, "%v", ch)
	}
}

func TestHungDependency(t *testing.T) {
	t.Run("check ignores its context", func(t *testing.T) {
		r := openRegistry(t)
		dep := newDependency(t)
		dep.hang.Store(true)
		var runs, inflight, maxInflight atomic.Int64
		mustRegister(t, r, health.Readiness, "dep", func(context.Context) error {
			runs.Add(1)
			n := inflight.Add(1)
			defer inflight.Add(-1)
			for m := maxInflight.Load(); n > m && !maxInflight.CompareAndSwap(m, n); m = maxInflight.Load() {
			}
			return dep.get(context.Background()) // a badly written check
		}, health.Dependency(), health.Timeout(50*time.Millisecond))
		p := serveProbes(t, r)
		b, err := r.Breaker("dep")
		require.NoError(t, err)

		res := readinessEntry(t, r, "dep")
		assert.ErrorIs(t, res.Err, health.ErrTimeout)
		assert.ErrorIs(t, res.Err, context.DeadlineExceeded)
		assert.Equal(t, uint32(1), b.Counts().ConsecutiveFailures, "a timeout is a dependency failure")
		for range health.DefaultBreakerFailures - 1 {
			res = readinessEntry(t, r, "dep")
			assert.ErrorIs(t, res.Err, health.ErrStillRunning)
		}
		assert.Equal(t, gobreaker.StateOpen, b.State())
		res = readinessEntry(t, r, "dep")
		assert.ErrorIs(t, res.Err, health.ErrBreakerOpen)
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		assert.Equal(t, "open", decodeHealth(t, resp).only(t, "dep").Breaker)
		assert.Equal(t, http.StatusOK, p.get("/").code)

		assert.Equal(t, int64(1), runs.Load(), "a new run started while the previous one hung")
		assert.Equal(t, int64(1), maxInflight.Load())
		assert.LessOrEqual(t, dep.calls.Load(), int64(1))
		dep.unblock()
	})

	t.Run("check honours its context", func(t *testing.T) {
		r := openRegistry(t)
		dep := newDependency(t)
		dep.hang.Store(true)
		var runs atomic.Int64
		mustRegister(t, r, health.Readiness, "dep", dep.check(&runs),
			health.Dependency(), health.Timeout(50*time.Millisecond))
		p := serveProbes(t, r)
		for i := range health.DefaultBreakerFailures {
			res := readinessEntry(t, r, "dep")
			if i == 0 {
				assert.ErrorIs(t, res.Err, health.ErrTimeout)
			} else if !errors.Is(res.Err, health.ErrStillRunning) {
				// The verdict is taken when the timeout fires; the check may
				// not have returned by the next run.
				assert.ErrorIs(t, res.Err, health.ErrTimeout)
			}
		}
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, resp.code)
		assert.Equal(t, "open", decodeHealth(t, resp).only(t, "dep").Breaker)
		for range 50 {
			assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz").code)
		}
		assert.ErrorIs(t, readinessEntry(t, r, "dep").Err, health.ErrBreakerOpen)
		assert.LessOrEqual(t, runs.Load(), int64(health.DefaultBreakerFailures), "the check ran while the breaker was open")
		assert.LessOrEqual(t, dep.calls.Load(), runs.Load())
		dep.unblock()
	})
}

func TestCancellationIsNotAFailure(t *testing.T) {
	newBreaker := func(t *testing.T) (*health.Registry, *health.Breaker) {
		r := openRegistry(t)
		mustRegister(t, r, health.Readiness, "dep", passing, health.Dependency())
		b, err := r.Breaker("dep")
		require.NoError(t, err)
		return r, b
	}

	t.Run("canceled", func(t *testing.T) {
		_, b := newBreaker(t)
		for i := range 10 {
			err := context.Canceled
			if i%2 == 1 {
				err = fmt.Errorf("query: %w", context.Canceled)
			}
			assert.ErrorIs(t, b.Execute(func() error { return err }), context.Canceled)
		}
		assert.Equal(t, gobreaker.StateClosed, b.State())
		assert.Equal(t, uint32(10), b.Counts().TotalExclusions)
		assert.Zero(t, b.Counts().TotalFailures)
	})

	t.Run("deadline exceeded counts", func(t *testing.T) {
		_, b := newBreaker(t)
		for range health.DefaultBreakerFailures {
			_ = b.Execute(func() error { return fmt.Errorf("query: %w", context.DeadlineExceeded) })
		}
		assert.Equal(t, gobreaker.StateOpen, b.State())
		called := false
		err := b.Execute(func() error { called = true; return nil })
		assert.ErrorIs(t, err, gobreaker.ErrOpenState)
		assert.False(t, called)
	})

	t.Run("closing the registry", func(t *testing.T) {
		r := openRegistry(t)
		started := make(chan struct{})
		mustRegister(t, r, health.Readiness, "dep", func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}, health.Dependency(), health.Timeout(waitLimit))
		b, err := r.Breaker("dep")
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = r.Check(context.Background(), health.Readiness)
		}()
		<-started
		require.NoError(t, r.Close())
		<-done
		assert.Equal(t, uint32(1), b.Counts().TotalExclusions)
		assert.Zero(t, b.Counts().TotalFailures)
	})
}

func TestPassiveHealth(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []health.CheckOption
	}{
		{"on request", nil},
		{"background", []health.CheckOption{health.Every(time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			dep := newDependency(t)
			var runs atomic.Int64
			mustRegister(t, r, health.Readiness, "dep", dep.check(&runs), append(tc.opts, health.Dependency())...)
			p := serveProbes(t, r)
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			_, err := r.WaitFor(ctx, health.Readiness, health.StatusPass)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, p.get("/readyz").code)
			b, err := r.Breaker("dep")
			require.NoError(t, err)

			// Application traffic, not probes, finds the dependency down.
			dep.down.Store(true)
			runsBefore, callsBefore := runs.Load(), dep.calls.Load()
			require.Error(t, b.Execute(func() error { return dep.get(ctx) }))
			_, err = health.Call(b, func() (string, error) { return "", dep.get(ctx) })
			require.Error(t, err)
			require.Error(t, b.Execute(func() error { return dep.get(ctx) }))
			assert.Equal(t, gobreaker.StateOpen, b.State())
			assert.Equal(t, callsBefore+3, dep.calls.Load())

			resp := p.get("/readyz")
			assert.Equal(t, http.StatusServiceUnavailable, resp.code, "the next probe sees the open breaker")
			assert.Equal(t, "open", decodeHealth(t, resp).only(t, "dep").Breaker)
			for range 20 {
				assert.Equal(t, http.StatusServiceUnavailable, p.get("/readyz").code)
			}
			assert.Equal(t, runsBefore, runs.Load(), "the check ran while the breaker was open")
			assert.Equal(t, callsBefore+3, dep.calls.Load())
			v, err := health.Call(b, func() (int, error) { return 1, dep.get(ctx) })
			assert.ErrorIs(t, err, gobreaker.ErrOpenState)
			assert.Zero(t, v)
			assert.Equal(t, callsBefore+3, dep.calls.Load())
		})
	}

	t.Run("lookup errors", func(t *testing.T) {
		r := openRegistry(t)
		mustRegister(t, r, health.Readiness, "plain", passing)
		_, err := r.Breaker("nope")
		assert.ErrorIs(t, err, health.ErrUnknownCheck)
		_, err = r.Breaker("plain")
		assert.ErrorIs(t, err, health.ErrNotDependency)
	})
}

func TestNonCriticalDependencyWarns(t *testing.T) {
	r := openRegistry(t)
	dep := newDependency(t)
	dep.down.Store(true)
	var runs atomic.Int64
	mustRegister(t, r, health.Readiness, "cache", dep.check(&runs), health.Dependency(), health.NonCritical())
	mustRegister(t, r, health.Readiness, "db", passing)
	p := serveProbes(t, r)
	for i := range health.DefaultBreakerFailures + 5 {
		resp := p.get("/readyz")
		assert.Equal(t, http.StatusOK, resp.code)
		body := decodeHealth(t, resp)
		assert.Equal(t, "warn", body.Status)
		assert.Equal(t, "warn", body.only(t, "cache").Status)
		if i >= health.DefaultBreakerFailures-1 {
			assert.Equal(t, "open", body.only(t, "cache").Breaker)
		}
	}
	assert.Equal(t, int64(health.DefaultBreakerFailures), runs.Load())
	assert.Equal(t, "[+]cache warn: reason withheld\n", firstLine(p.get("/readyz?verbose").body))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line + "\n"
}

func TestUserOnStateChangeMayReadState(t *testing.T) {
	r := openRegistry(t)
	var bp atomic.Pointer[health.Breaker]
	seen := make(chan gobreaker.State, 16)
	mustRegister(t, r, health.Readiness, "dep", failing, health.Dependency(),
		health.WithBreaker(gobreaker.Settings{OnStateChange: func(_ string, _, to gobreaker.State) {
			if b := bp.Load(); b != nil {
				seen <- b.State()
			}
		}}))
	b, err := r.Breaker("dep")
	require.NoError(t, err)
	bp.Store(b)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for range health.DefaultBreakerFailures {
			_, _ = r.Check(context.Background(), health.Readiness)
		}
	}()
	select {
	case <-done:
	case <-time.After(waitLimit):
		require.FailNow(t, "deadlock: OnStateChange calling Breaker.State")
	}
	// OnStateChange runs on a goroutine of the registry's, outside every
	// lock, shortly after the change.
	select {
	case st := <-seen:
		assert.Equal(t, gobreaker.StateOpen, st)
	case <-time.After(waitLimit):
		require.FailNow(t, "OnStateChange was not called")
	}
}

func TestDependencyRegistration(t *testing.T) {
	r := openRegistry(t)
	for _, g := range []health.Group{health.Liveness, health.Startup} {
		err := r.Register(g, "db", passing, health.Dependency())
		require.ErrorIs(t, err, health.ErrDependencyGroup, g.String())
		assert.Contains(t, err.Error(), "restart", "the error says why")
		assert.Contains(t, err.Error(), "Readiness", "the error says what to do")
	}
	err := r.Register(health.Readiness, "db", passing, health.WithBreaker(gobreaker.Settings{}))
	assert.ErrorIs(t, err, health.ErrInvalidOption)
	err = r.Register(health.Readiness, "db", passing, health.Dependency(),
		health.WithBreaker(gobreaker.Settings{Timeout: -time.Second}))
	assert.ErrorIs(t, err, health.ErrInvalidOption)
	_, err = r.Breaker("db")
	assert.ErrorIs(t, err, health.ErrUnknownCheck, "failed registrations leave nothing behind")
	require.NoError(t, r.Register(health.Readiness, "db", passing, health.Dependency(),
		health.WithBreaker(gobreaker.Settings{Timeout: time.Second})))
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := l.Addr().String()
	require.NoError(tb, l.Close())
	return addr
}

func dialCheck(addr string) health.CheckFunc {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

func benchProbe(b *testing.B, h http.Handler, wantCode int) {
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
	if w.code != wantCode || w.n == 0 {
		b.Fatalf("got %d with %d bytes, want %d", w.code, w.n, wantCode)
	}
}

// BenchmarkOpenBreaker is a readiness probe whose only check is an
// on-request dependency that is down, with its breaker open: the probe must
// answer without touching the network.
func BenchmarkOpenBreaker(b *testing.B) {
	r := openRegistry(b)
	mustRegister(b, r, health.Readiness, "db", dialCheck(deadAddr(b)), health.Dependency())
	for range health.DefaultBreakerFailures {
		_, _ = r.Check(context.Background(), health.Readiness)
	}
	br, err := r.Breaker("db")
	require.NoError(b, err)
	require.Equal(b, gobreaker.StateOpen, br.State())
	benchProbe(b, r.Handler(health.Readiness), http.StatusServiceUnavailable)
	require.Equal(b, gobreaker.StateOpen, br.State())
}

// BenchmarkOnRequest is the same probe with a passing on-request check, for
// comparison.
func BenchmarkOnRequest(b *testing.B) {
	r := openRegistry(b)
	mustRegister(b, r, health.Readiness, "db", passing)
	benchProbe(b, r.Handler(health.Readiness), http.StatusOK)
}
