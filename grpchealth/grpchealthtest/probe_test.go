package grpchealthtest_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/grpchealth/grpchealthtest"
	"github.com/probekit/probekit/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

func serve(t *testing.T, register func(*grpc.Server), opts ...grpc.ServerOption) *countingListener {
	t.Helper()
	srv := grpc.NewServer(opts...)
	register(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cl := &countingListener{Listener: ln}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(cl) }()
	t.Cleanup(func() {
		srv.Stop()
		assert.NoError(t, <-served)
	})
	return cl
}

func TestProbe(t *testing.T) {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{})
	require.NoError(t, err)
	var mu sync.Mutex
	var agents []string
	ln := serve(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) },
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			md, _ := metadata.FromIncomingContext(ctx)
			mu.Lock()
			agents = append(agents, md.Get("user-agent")...)
			mu.Unlock()
			return h(ctx, req)
		}))
	addr := ln.Addr().String()

	assert.NoError(t, grpchealthtest.Probe(addr, "liveness", 5*time.Second))
	assert.EqualError(t, grpchealthtest.Probe(addr, "", 5*time.Second), `service unhealthy (responded with "NOT_SERVING")`)
	err = grpchealthtest.Probe(addr, "nope", 5*time.Second)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "error: health rpc probe failed: rpc error: code = NotFound"), "%v", err)
	reg.MarkReady()
	assert.NoError(t, grpchealthtest.Probe(addr, "", 5*time.Second))

	assert.EqualValues(t, 4, ln.accepted.Load(), "a new connection per probe")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, agents, 4)
	for _, ua := range agents {
		assert.True(t, strings.HasPrefix(ua, grpchealthtest.UserAgent+" "), "user agent %q", ua)
	}
}

func TestProbeFailures(t *testing.T) {
	noHealth := serve(t, func(*grpc.Server) {})
	err := grpchealthtest.Probe(noHealth.Addr().String(), "", 5*time.Second)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "error: this server does not implement the grpc health protocol"), "%v", err)

	slow := serve(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, new(grpchealthtest.Hung)) })
	assert.EqualError(t, grpchealthtest.Probe(slow.Addr().String(), "", 100*time.Millisecond), "timeout: health rpc did not complete within 100ms")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	err = grpchealthtest.Probe(closed, "", 100*time.Millisecond)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "timeout: failed to connect service \""+closed+"\" within 100ms"),
		"a refused connection is retried until the timeout, as the kubelet's blocking dial does: %v", err)
}
