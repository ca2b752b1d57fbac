package grpchealth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/grpchealth/grpchealthtest"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// run runs check once with a timeout, as the registry would.
func run(check health.Checker, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return check.Check(ctx)
}

func TestClientCheckStatuses(t *testing.T) {
	upstream := newThreeGroups(t)
	e := serve(t, upstream.reg, grpchealth.Settings{})
	conn := dial(t, e.addr)

	assert.NoError(t, run(grpchealth.Check(conn, ""), waitLimit))
	assert.NoError(t, run(grpchealth.Check(conn, "db"), waitLimit))

	upstream.ready.Set(healthtest.ErrSwitchedOff)
	err := run(grpchealth.Check(conn, "readiness"), waitLimit)
	assert.ErrorIs(t, err, grpchealth.ErrNotServing)
	assert.EqualError(t, err, `grpchealth: service "readiness" is NOT_SERVING: service not serving`)
	assert.NoError(t, run(grpchealth.Check(conn, "liveness"), waitLimit))

	err = run(grpchealth.Check(conn, "payments.v1.Payments"), waitLimit)
	assert.ErrorIs(t, err, grpchealth.ErrUnknownService)
	assert.Equal(t, codes.NotFound, status.Code(err))

	// Registered, a run observes the call's latency.
	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Readiness, "upstream", grpchealth.Check(conn, "liveness")))
	rep, err := reg.Check(context.Background(), health.Readiness)
	require.NoError(t, err)
	res := entryOf(t, rep, "upstream")
	assert.Equal(t, health.StatusPass, res.Status)
	assert.Positive(t, res.Duration)

	noHealth := grpchealthtest.Serve(t, grpc.NewServer())
	err = run(grpchealth.Check(dial(t, noHealth), ""), waitLimit)
	assert.ErrorIs(t, err, grpchealth.ErrNoHealthService)
	assert.Equal(t, codes.Unimplemented, status.Code(err))
}

func TestClientCheckConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	err = run(grpchealth.Check(dial(t, addr), ""), waitLimit)
	assert.ErrorIs(t, err, grpchealth.ErrRPC)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Contains(t, err.Error(), "connection refused", "the message says what went wrong")
}

func TestClientCheckTimeout(t *testing.T) {
	hung := new(grpchealthtest.Hung)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hung)
	addr := grpchealthtest.Serve(t, srv)
	err := run(grpchealth.Check(dial(t, addr), ""), 50*time.Millisecond)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, grpchealth.ErrRPC)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
}

// staticCreds are per-RPC credentials that fail the way a token source
// does, quoting its token URL.
type failingCreds struct{ msg string }

func (c failingCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return nil, errors.New(c.msg)
}
func (failingCreds) RequireTransportSecurity() bool { return false }

// TestClientCheckSecretsRedactedByRegistry makes calls fail in the ways
// whose grpc-go messages quote the target, the dialer's error, the
// credentials' error and the server's own message, each holding a secret.
// The check's own error keeps grpc-go's text (and status.Code works); the
// registry it is registered with redacts it wherever it shows it: in HTTP
// responses allowed details, and in its log.
func TestClientCheckSecretsRedactedByRegistry(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	leaky := grpc.NewServer(grpc.UnaryInterceptor(func(context.Context, any, *grpc.UnaryServerInfo, grpc.UnaryHandler) (any, error) {
		return nil, status.Errorf(codes.Internal, "backend postgres://app:%s@db:5432 refused", secret)
	}))
	healthpb.RegisterHealthServer(leaky, new(grpchealthtest.Hung))
	leakyAddr := grpchealthtest.Serve(t, leaky)

	for name, tc := range map[string]struct {
		target string
		opts   []grpc.DialOption
		code   codes.Code
	}{
		"userinfo in target":     {target: "passthrough:///app:" + secret + "@127.0.0.1:1", code: codes.Unavailable},
		"userinfo in dns target": {target: "dns:///app:" + secret + "@localhost:1", code: codes.Unavailable},
		"dialer error": {target: "passthrough:///127.0.0.1:1", code: codes.Unavailable, opts: []grpc.DialOption{
			grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) {
				return nil, errors.New("proxy http://user:" + secret + "@proxy:3128 refused")
			}),
		}},
		"per-RPC credentials": {target: "passthrough:///" + leakyAddr, code: codes.Unauthenticated, opts: []grpc.DialOption{
			grpc.WithPerRPCCredentials(failingCreds{msg: "token endpoint https://auth/?client_secret=" + secret + " failed"}),
		}},
		"server message": {target: "passthrough:///" + leakyAddr, code: codes.Internal},
	} {
		t.Run(name, func(t *testing.T) {
			opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tc.opts...)
			conn, err := grpc.NewClient(tc.target, opts...)
			require.NoError(t, err)
			defer conn.Close()
			check := grpchealth.Check(conn, "payments")
			err = run(check, waitLimit)
			require.Error(t, err)
			assert.ErrorIs(t, err, grpchealth.ErrRPC)
			assert.Equal(t, tc.code, status.Code(err), "%v", err)
			assert.Contains(t, err.Error(), secret, "the test does make grpc-go quote the secret, and the check keeps it")

			var log bytes.Buffer
			reg := health.New(health.Options{
				Logger:      slog.New(slog.NewTextHandler(&syncWriter{w: &log}, nil)),
				ShowDetails: func(*http.Request) bool { return true },
			})
			require.NoError(t, reg.Register(health.Readiness, "payments", check))
			rep, err := reg.Check(context.Background(), health.Readiness)
			require.NoError(t, err)
			require.Equal(t, health.StatusFail, rep.Status)
			res := healthtest.Get(t, reg.Handler(health.Readiness), "/readyz")
			assert.Contains(t, string(res.Body), "health rpc failed", "details are shown")
			assert.NotContains(t, string(res.Body), secret)
			require.NoError(t, reg.Close()) // the log is written
			assert.Contains(t, log.String(), "payments")
			assert.NotContains(t, log.String(), secret)
		})
	}
}

// syncWriter makes a writer safe for the registry's logger and the test.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestClientCheckIsDependency: Check calls another process, so it is a
// health.DependencyFunc: refused outside readiness, and run behind a
// circuit breaker there, which the contract declares.
func TestClientCheckIsDependency(t *testing.T) {
	upstream := openRegistry(t)
	conn := dial(t, serve(t, upstream, grpchealth.Settings{}).addr)
	check := grpchealth.Check(conn, "")
	assert.IsType(t, health.DependencyFunc(nil), check)

	reg := openRegistry(t)
	for _, g := range []health.Group{health.Liveness, health.Startup} {
		err := reg.Register(g, "upstream", check)
		assert.ErrorIs(t, err, health.ErrDependencyGroup, "%v", g)
	}
	require.NoError(t, reg.Register(health.Readiness, "upstream", check))
	b, err := reg.Breaker("upstream")
	require.NoError(t, err, "a dependency has a breaker")
	require.NoError(t, b.Execute(func() error { return nil }))
	c := reg.Contract()
	require.Len(t, c.Checks, 1)
	assert.True(t, c.Checks[0].Dependency)
	assert.NotNil(t, c.Checks[0].Breaker)
	rep, err := reg.Check(context.Background(), health.Readiness, "upstream")
	require.NoError(t, err)
	assert.Equal(t, health.StatusPass, rep.Status)
	require.NotNil(t, rep.Checks[0].Breaker)
}

func TestClientCheckNilConnIsRefused(t *testing.T) {
	reg := openRegistry(t)
	var nilConn *grpc.ClientConn
	for _, conn := range []grpc.ClientConnInterface{nil, nilConn} {
		err := reg.Register(health.Readiness, "upstream", grpchealth.Check(conn, ""))
		assert.ErrorIs(t, err, health.ErrMisconfigured)
	}
}

// TestHungDependencyBreaker: a dependency whose health Check hangs costs
// each probe the check's timeout until the breaker opens; from then on the
// probes are answered without calling it.
func TestHungDependencyBreaker(t *testing.T) {
	hung := new(grpchealthtest.Hung)
	upstream := grpc.NewServer()
	healthpb.RegisterHealthServer(upstream, hung)
	conn := dial(t, grpchealthtest.Serve(t, upstream))

	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Readiness, "upstream", grpchealth.Check(conn, "payments"),
		health.CheckOptions{Timeout: 100 * time.Millisecond}))
	e := serve(t, reg, grpchealth.Settings{})

	// Each probe until the breaker opens waits for the check's timeout
	// (or, right after one, finds the last call still returning).
	deadline := time.Now().Add(waitLimit)
	for !errors.Is(entryOf(t, reg.Latest(health.Readiness), "upstream").Err, health.ErrBreakerOpen) {
		require.True(t, time.Now().Before(deadline), "the breaker never opened")
		assert.Equal(t, notServing, e.mustCheck(t, ""))
	}
	calls := hung.Calls()
	assert.LessOrEqual(t, calls, int64(defaultBreakerFailures), "calls before the breaker opened")

	start := time.Now()
	for range 20 {
		assert.Equal(t, notServing, e.mustCheck(t, ""))
		assert.Equal(t, notServing, e.mustCheck(t, "upstream"))
	}
	t.Logf("40 probes with the breaker open took %v (the check's timeout is 100ms)", time.Since(start))
	assert.Equal(t, calls, hung.Calls(), "no probe reached the hung dependency")
	assert.ErrorIs(t, entryOf(t, reg.Latest(health.Readiness), "upstream").Err, health.ErrBreakerOpen)
}

func entryOf(t *testing.T, rep health.Report, name string) health.CheckResult {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no entry %q in %s", name, rep.Group)
	return health.CheckResult{}
}
