package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/probe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// script is a real HTTP server that answers its n-th request with steps[n]
// and then with final. A step is a status code, "warn" (a 302 to another
// host name: a Warning) or "abort" (headers, then the body breaks off: an
// errored probe).
type script struct {
	URL    string
	served atomic.Int32
}

func newScript(t *testing.T, final string, steps ...string) *script {
	t.Helper()
	s := &script{}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step := final
		if n := int(s.served.Add(1)); n <= len(steps) {
			step = steps[n-1]
		}
		switch step {
		case "warn":
			w.Header().Set("Location", "http://localhost/elsewhere")
			w.WriteHeader(http.StatusFound)
		case "abort":
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, "partial")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // net/http closes the connection, quietly
		default:
			code, err := strconv.Atoi(step)
			if err != nil {
				panic("bad step " + step)
			}
			w.WriteHeader(code)
		}
	}))
	s.URL = srv.URL
	return s
}

// seen is a transition and how many requests the server had answered when
// it was reported. The loop is sequential, so that count is exact.
type seen struct {
	from, to probe.Result
	at       int
}

func (s seen) String() string { return fmt.Sprintf("%v->%v@%d", s.from, s.to, s.at) }

// record returns settings whose OnTransition feeds a channel.
func record(s *script, set probe.Settings) (probe.Settings, <-chan seen) {
	ch := make(chan seen, 100)
	set.OnTransition = func(t probe.Transition) {
		ch <- seen{t.From, t.To, int(s.served.Load())}
	}
	return set, ch
}

// next returns the next transition or fails the test at its deadline.
func next(t *testing.T, ctx context.Context, ch <-chan seen) seen {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-ctx.Done():
		t.Fatal("no transition before the deadline")
		return seen{}
	}
}

func TestProberReadinessThresholds(t *testing.T) {
	t.Parallel()
	// worker.go:366-377: only consecutive results count. Success needs 2
	// in a row, Failure 3; a Warning (302 elsewhere) counts as a success
	// (prober.go:117-120).
	s := newScript(t, "200",
		"503",        // 1: not ready yet (readiness starts as Failure)
		"200", "503", // 2-3: one success is not enough
		"200", "warn", // 4-5: two in a row: Success at 5
		"503", "503", "200", // 6-8: two failures, then the run is broken
		"503", "503", "503", // 9-11: three in a row: Failure at 11
		"200", "200", // 12-13: Success again at 13
	)
	set, ch := record(s, probe.Settings{Timeout: generous, Period: 5 * time.Millisecond, SuccessThreshold: 2, FailureThreshold: 3})
	p, err := probe.NewProber(probe.Readiness, probe.HTTPGet{URL: s.URL}, set)
	require.NoError(t, err)
	assert.Equal(t, probe.Failure, p.State(), "initial state before Run")

	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	var got []string
	for range 4 {
		got = append(got, next(t, ctx, ch).String())
	}
	assert.Equal(t, []string{
		"unknown->failure@0", // worker.go:112-117: readiness starts Failure
		"failure->success@5",
		"success->failure@11",
		"failure->success@13",
	}, got)
	assert.Equal(t, probe.Success, p.State())
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "readiness never stops by itself")
}

func TestProberLiveness(t *testing.T) {
	t.Parallel()
	s := newScript(t, "503", "200", "503", "503", "200")
	set, ch := record(s, probe.Settings{Timeout: generous, Period: 5 * time.Millisecond}) // FailureThreshold 3 by default
	p, err := probe.NewProber(probe.Liveness, probe.HTTPGet{URL: s.URL}, set)
	require.NoError(t, err)
	ctx := testCtx(t)

	// worker.go:118-120: liveness starts as Success. worker.go:381-391:
	// once it fails, the container is restarted and probing stops, so Run
	// returns nil, with no probe after the third failure in a row.
	require.NoError(t, p.Run(ctx))
	assert.Equal(t, "unknown->success@0", next(t, ctx, ch).String())
	assert.Equal(t, "success->failure@7", next(t, ctx, ch).String())
	assert.EqualValues(t, 7, s.served.Load())
	assert.Equal(t, probe.Failure, p.State())

	// A new Run is a new container: it starts from Success again.
	require.NoError(t, p.Run(ctx))
	assert.Equal(t, "unknown->success@7", next(t, ctx, ch).String())
	assert.Equal(t, "success->failure@10", next(t, ctx, ch).String())
}

func TestProberStartup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		final string
		want  string
	}{
		{"200", "unknown->success@3"},
		{"500", "unknown->failure@3"},
	} {
		t.Run(tc.final, func(t *testing.T) {
			t.Parallel()
			s := newScript(t, tc.final, "503", "503")
			set, ch := record(s, probe.Settings{Timeout: generous, Period: 5 * time.Millisecond})
			p, err := probe.NewProber(probe.Startup, probe.HTTPGet{URL: s.URL}, set)
			require.NoError(t, err)
			assert.Equal(t, probe.Unknown, p.State())
			ctx := testCtx(t)

			// worker.go:121-124: startup starts Unknown; 381-391: it stops
			// at its first verdict either way.
			require.NoError(t, p.Run(ctx))
			assert.Equal(t, "unknown->unknown@0", next(t, ctx, ch).String())
			assert.Equal(t, tc.want, next(t, ctx, ch).String())
			assert.EqualValues(t, 3, s.served.Load())
		})
	}
}

// TestProberRetriesErrors: prober.go:139-150 retries a probe that errors,
// 3 attempts in all, and worker.go:349-353 ignores a probe that kept
// erroring; a Failure, by contrast, is never retried.
func TestProberRetriesErrors(t *testing.T) {
	t.Parallel()
	t.Run("retried at once", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, "200", "abort", "abort")
		// With an hour between probes, only retries within the first
		// probe can reach the 200.
		set, ch := record(s, probe.Settings{Timeout: generous, Period: time.Hour})
		p, err := probe.NewProber(probe.Readiness, probe.HTTPGet{URL: s.URL}, set)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		assert.Equal(t, "unknown->failure@0", next(t, ctx, ch).String())
		assert.Equal(t, "failure->success@3", next(t, ctx, ch).String())
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
	t.Run("errors are not failures", func(t *testing.T) {
		t.Parallel()
		// FailureThreshold 1: had an errored probe counted as a failure,
		// liveness would have failed at request 3 at the latest.
		s := newScript(t, "503", "abort", "abort", "abort", "abort", "200")
		set, ch := record(s, probe.Settings{Timeout: generous, Period: 5 * time.Millisecond, FailureThreshold: 1})
		p, err := probe.NewProber(probe.Liveness, probe.HTTPGet{URL: s.URL}, set)
		require.NoError(t, err)
		ctx := testCtx(t)
		require.NoError(t, p.Run(ctx))
		assert.Equal(t, "unknown->success@0", next(t, ctx, ch).String())
		assert.Equal(t, "success->failure@6", next(t, ctx, ch).String())
	})
	t.Run("failures are not retried", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, "200", "503")
		set, ch := record(s, probe.Settings{Timeout: generous, Period: time.Hour, FailureThreshold: 1})
		p, err := probe.NewProber(probe.Liveness, probe.HTTPGet{URL: s.URL}, set)
		require.NoError(t, err)
		ctx := testCtx(t)
		require.NoError(t, p.Run(ctx))
		assert.Equal(t, "unknown->success@0", next(t, ctx, ch).String())
		assert.Equal(t, "success->failure@1", next(t, ctx, ch).String())
	})
}

func TestProberInitialDelay(t *testing.T) {
	t.Parallel()
	const delay = 60 * time.Millisecond
	first := make(chan time.Duration, 1)
	var start time.Time
	var requests atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			first <- time.Since(start)
		}
	}))
	initialAt := make(chan int32, 1)
	p, err := probe.NewProber(probe.Readiness, probe.HTTPGet{URL: srv.URL}, probe.Settings{
		InitialDelay: delay,
		Period:       10 * time.Millisecond,
		OnTransition: func(tr probe.Transition) {
			if tr.From == probe.Unknown {
				initialAt <- requests.Load()
			}
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	start = time.Now()
	go func() { done <- p.Run(ctx) }()

	assert.EqualValues(t, 0, <-initialAt, "the initial state is reported before any probe")
	select {
	case elapsed := <-first:
		// Timers never fire early, so this lower bound cannot flake.
		assert.GreaterOrEqual(t, elapsed, delay, "probed before InitialDelay")
	case <-ctx.Done():
		t.Fatal("never probed")
	}
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func TestProberInvalidAction(t *testing.T) {
	t.Parallel()
	var reported []probe.Result
	p, err := probe.NewProber(probe.Readiness, probe.HTTPGet{URL: "ftp://127.0.0.1/"}, probe.Settings{
		OnTransition: func(t probe.Transition) { reported = append(reported, t.To) },
	})
	require.NoError(t, err)
	err = p.Run(testCtx(t))
	require.ErrorIs(t, err, probe.ErrInvalid, "Run gives up at once on a bad URL")
	assert.Equal(t, []probe.Result{probe.Failure}, reported, "only the initial state")
}

func TestNewProberInvalid(t *testing.T) {
	t.Parallel()
	a := probe.TCPSocket{Addr: "127.0.0.1:1"}
	tests := []struct {
		name string
		kind probe.Kind
		a    probe.Action
		s    probe.Settings
		msg  string
	}{
		{"zero kind", 0, a, probe.Settings{}, "kind"},
		{"unknown kind", 9, a, probe.Settings{}, "kind"},
		{"nil action", probe.Readiness, nil, probe.Settings{}, "nil Action"},
		{"negative delay", probe.Readiness, a, probe.Settings{InitialDelay: -1}, "InitialDelay"},
		{"negative period", probe.Readiness, a, probe.Settings{Period: -time.Second}, "Period"},
		{"negative timeout", probe.Liveness, a, probe.Settings{Timeout: -time.Second}, "Timeout"},
		{"negative success", probe.Readiness, a, probe.Settings{SuccessThreshold: -1}, "SuccessThreshold"},
		{"negative failure", probe.Startup, a, probe.Settings{FailureThreshold: -3}, "FailureThreshold"},
		// pkg/apis/core/validation/validation.go:3368-3369 and 3394-3395:
		// "must be 1" for liveness and startup.
		{"liveness success 2", probe.Liveness, a, probe.Settings{SuccessThreshold: 2}, "liveness probe: SuccessThreshold must be 1"},
		{"startup success 3", probe.Startup, a, probe.Settings{SuccessThreshold: 3}, "startup probe: SuccessThreshold must be 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := probe.NewProber(tc.kind, tc.a, tc.s)
			require.ErrorIs(t, err, probe.ErrInvalid)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Nil(t, p)
		})
	}
	for _, k := range []probe.Kind{probe.Readiness, probe.Liveness, probe.Startup} {
		_, err := probe.NewProber(k, a, probe.Settings{SuccessThreshold: 1})
		assert.NoError(t, err, "%v with SuccessThreshold 1", k)
		_, err = probe.NewProber(k, a, probe.Settings{}) // zero means the defaults
		assert.NoError(t, err, "%v with zero Settings", k)
	}
	_, err := probe.NewProber(probe.Readiness, a, probe.Settings{SuccessThreshold: 5})
	assert.NoError(t, err, "readiness may need several successes")
}

// TestProberStopsWithContext: canceling ctx interrupts the probe in flight,
// Run returns, and no goroutine is left behind. Not parallel: it checks the
// whole process's goroutines.
func TestProberStopsWithContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	stallReq := stall(t)
	arrived := make(chan struct{}, 1)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		stallReq(r)
	}))
	defer srv.Close()
	p, err := probe.NewProber(probe.Readiness, probe.HTTPGet{URL: srv.URL},
		probe.Settings{Timeout: time.Hour, Period: time.Hour})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-arrived // a probe is in flight and would wait an hour
	err = p.Run(ctx)
	require.Error(t, err, "Run does not overlap itself")
	assert.Contains(t, err.Error(), "already running")
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-testCtx(t).Done():
		t.Fatal("Run did not return after cancel")
	}
}
