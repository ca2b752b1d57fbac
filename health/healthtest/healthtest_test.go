package healthtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a testing.TB that records failures instead of failing the
// real test, so that the helpers' failure paths can be asserted on.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errs   []string
	fatals []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls fn with a recorder on a goroutine of its own, as the testing
// package does, so that Fatalf can end it; it reports whether fn returned.
func run(t *testing.T, fn func(tb testing.TB)) (rec *recorder, returned bool) {
	rec = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(rec)
		returned = true
	}()
	<-done
	return rec, returned
}

func newMux(t *testing.T, reg *health.Registry) *http.ServeMux {
	t.Helper()
	mux := http.NewServeMux()
	require.NoError(t, reg.Mount(mux))
	return mux
}

func closeReg(t *testing.T, reg *health.Registry) {
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
}

func TestGetDecodesReport(t *testing.T) {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	closeReg(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "db", healthtest.Fixed(errors.New("dial tcp 10.0.0.7:5432: refused"))))
	require.NoError(t, reg.Register(health.Liveness, "goroutines", healthtest.Fixed(nil)))
	mux := newMux(t, reg)

	r := healthtest.Get(t, mux, "/ready")
	assert.Equal(t, http.StatusServiceUnavailable, r.Code)
	assert.Equal(t, "fail", r.Status)
	assert.Equal(t, "fail", r.Checks["ready"].Status)
	assert.Equal(t, "fail", r.Checks["db"].Status)
	assert.Equal(t, "reason withheld", r.Checks["db"].Output, "reasons stay out of HTTP bodies by default")
	assert.Equal(t, "pass", r.Checks["liveness"].Status)
	assert.Empty(t, r.Checks["db"].Breaker, "not a dependency")

	r = healthtest.Get(t, mux, "/")
	assert.Equal(t, http.StatusOK, r.Code)
	assert.Equal(t, "pass", r.Status)
	assert.Equal(t, "pass", r.Checks["goroutines"].Status)

	r = healthtest.Get(t, mux, "/readyz?exclude=db&exclude=nope")
	assert.Equal(t, []string{"some health checks cannot be excluded: no matches for \"nope\"", "excluded: db"}, r.Notes)
	assert.NotContains(t, r.Checks, "db")
}

func TestGetShowsBreaker(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "cache", health.DependencyFunc(func(ctx context.Context) error {
		return nil
	})))
	r := healthtest.Get(t, reg.Handler(health.Readiness), "/")
	require.Equal(t, http.StatusOK, r.Code)
	assert.Equal(t, "closed", r.Checks["cache"].Breaker)
}

func TestGetLeavesTextAlone(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	r := healthtest.Get(t, reg.Handler(health.Liveness), "/livez?verbose")
	assert.Equal(t, http.StatusOK, r.Code)
	assert.Empty(t, r.Status)
	assert.Nil(t, r.Checks)
	assert.Contains(t, string(r.Body), "[+]alive ok")
	assert.Equal(t, "text/plain; charset=utf-8", r.Header.Get("Content-Type"))
}

func TestDoOtherMethods(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	req, err := http.NewRequest(http.MethodPost, "/ready", nil)
	require.NoError(t, err)
	r := healthtest.Do(t, reg.Handler(health.Readiness), req)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Code)
	assert.Equal(t, "GET, HEAD", r.Header.Get("Allow"))
	assert.Empty(t, r.Status)
}

func TestGetFailsOnBadTargetAndBadReport(t *testing.T) {
	rec, returned := run(t, func(tb testing.TB) {
		healthtest.Get(tb, http.NotFoundHandler(), "://nope")
	})
	assert.False(t, returned)
	require.Len(t, rec.fatals, 1)
	assert.Contains(t, rec.fatals[0], "://nope")

	broken := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/health+json")
		_, _ = w.Write([]byte(`{"status":`))
	})
	rec, returned = run(t, func(tb testing.TB) { healthtest.Get(tb, broken, "/") })
	assert.False(t, returned)
	require.Len(t, rec.fatals, 1)
	assert.Contains(t, rec.fatals[0], "not a health report")

	rec, returned = run(t, func(tb testing.TB) { healthtest.Get(tb, nil, "/") })
	assert.False(t, returned)
	assert.Len(t, rec.fatals, 1)
}

func TestGetToleratesOtherJSON(t *testing.T) {
	other := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[1,2]`))
	})
	r := healthtest.Get(t, other, "/")
	assert.Equal(t, http.StatusOK, r.Code)
	assert.Empty(t, r.Status)
	assert.Equal(t, "[1,2]", string(r.Body))
}

func TestAssertStatus(t *testing.T) {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	closeReg(t, reg)
	h := reg.Handler(health.Readiness)

	rec, returned := run(t, func(tb testing.TB) {
		r := healthtest.AssertStatus(tb, h, "/", http.StatusServiceUnavailable)
		assert.Equal(t, "fail", r.Status)
	})
	assert.True(t, returned)
	assert.Empty(t, rec.errs)

	rec, returned = run(t, func(tb testing.TB) { healthtest.AssertStatus(tb, h, "/", http.StatusOK) })
	assert.True(t, returned, "AssertStatus lets the test go on")
	require.Len(t, rec.errs, 1)
	assert.Contains(t, rec.errs[0], "= 503 Service Unavailable, want 200 OK")
	assert.Contains(t, rec.errs[0], `"status":"fail"`, "the body is shown")
}

func TestWaitStatusFollowsBackgroundCheck(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	var sw healthtest.Switch
	sw.Set(healthtest.ErrSwitchedOff)
	require.NoError(t, reg.Register(health.Readiness, "queue", &sw, health.CheckOptions{Every: 5 * time.Millisecond}))

	rep := healthtest.WaitStatus(t, reg, health.Readiness, health.StatusFail)
	assert.Equal(t, health.StatusFail, rep.Status)

	sw.Set(nil)
	rep = healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
	assert.Equal(t, health.StatusPass, rep.Status)
	assert.Positive(t, sw.Runs())

	sw.Set(health.Warn(errors.New("slow")))
	rep = healthtest.WaitStatus(t, reg, health.Readiness, health.StatusWarn)
	assert.Equal(t, health.StatusWarn, rep.Status)
}

func TestWaitStatusFailsWithReasons(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "db", healthtest.Fixed(errors.New("connection refused"))))
	reg.MarkNotReady("maintenance")

	rec, returned := run(t, func(tb testing.TB) {
		healthtest.WaitStatusWithin(tb, reg, health.Readiness, health.StatusPass, 30*time.Millisecond)
	})
	assert.False(t, returned)
	require.Len(t, rec.fatals, 1)
	msg := rec.fatals[0]
	assert.Contains(t, msg, "readiness did not become pass within 30ms")
	assert.Contains(t, msg, "db: fail: connection refused")
	assert.Contains(t, msg, "ready: fail: not ready: maintenance")
	assert.NotContains(t, msg, "liveness:", "passing entries are not listed")
}

func TestWaitStatusRejectsMisuse(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	for name, fn := range map[string]func(tb testing.TB){
		"nil registry": func(tb testing.TB) { healthtest.WaitStatus(tb, nil, health.Readiness, health.StatusPass) },
		"zero wait":    func(tb testing.TB) { healthtest.WaitStatusWithin(tb, reg, health.Readiness, health.StatusPass, 0) },
		"bad group":    func(tb testing.TB) { healthtest.WaitStatus(tb, reg, health.Group(0), health.StatusPass) },
	} {
		t.Run(name, func(t *testing.T) {
			rec, returned := run(t, fn)
			assert.False(t, returned)
			assert.Len(t, rec.fatals, 1)
		})
	}
}

func TestSwitchCountsRuns(t *testing.T) {
	var sw healthtest.Switch
	assert.NoError(t, sw.Check(t.Context()), "the zero value passes")
	sw.Set(healthtest.ErrSwitchedOff)
	assert.ErrorIs(t, sw.Check(t.Context()), healthtest.ErrSwitchedOff)
	assert.Equal(t, 2, sw.Runs())

	reg := health.New()
	closeReg(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "flag", &sw))
	h := reg.Handler(health.Readiness)
	healthtest.AssertStatus(t, h, "/", http.StatusServiceUnavailable)
	sw.Set(nil)
	healthtest.AssertStatus(t, h, "/", http.StatusOK)
	assert.Equal(t, 4, sw.Runs(), "an on-request check runs once per probe")
}

func TestSwitchIsSafeForConcurrentUse(t *testing.T) {
	var sw healthtest.Switch
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				if i%2 == 0 {
					sw.Set(nil)
				} else {
					_ = sw.Check(context.Background())
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 400, sw.Runs())
}

func TestDescribe(t *testing.T) {
	assert.Empty(t, healthtest.Describe(health.Report{Checks: []health.CheckResult{{Name: "a", Status: health.StatusPass}}}))
	got := healthtest.Describe(health.Report{Checks: []health.CheckResult{
		{Name: "a", Status: health.StatusPass},
		{Name: "b", Status: health.StatusWarn, Err: errors.New("slow")},
		{Name: "c", Status: health.StatusFail},
	}})
	assert.Equal(t, "\n\tb: warn: slow\n\tc: fail", got)
	assert.False(t, strings.Contains(got, "a:"))
}
