package grpchealth_test

import (
	"context"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// gracefulStop calls srv.GracefulStop on a goroutine and returns a channel
// closed when it returns.
func gracefulStop(srv *grpc.Server) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	return done
}

// TestShutdownLetsGracefulStopReturn is grpc-go issues #8776 and #8882:
// an open Watch stream holds GracefulStop for as long as the client likes,
// until Shutdown ends it.
func TestShutdownLetsGracefulStopReturn(t *testing.T) {
	reg := openRegistry(t)
	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{})
	require.NoError(t, err)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Stop() // in case the test fails before GracefulStop returns

	client := healthpb.NewHealthClient(dial(t, ln.Addr().String()))
	w, live := watch(t, client, ""), watch(t, client, "liveness")
	require.Equal(t, serving, w.next(t))
	require.Equal(t, serving, live.next(t))

	require.NoError(t, reg.Drain(context.Background(), 0))
	assert.Equal(t, notServing, w.next(t), "Drain: NOT_SERVING at once")

	stopped := gracefulStop(srv)
	select {
	case <-stopped:
		t.Fatal("GracefulStop returned with a Watch stream open: the trap this package works around is gone?")
	case <-time.After(300 * time.Millisecond): // a stream held open holds it forever
	}

	hs.Shutdown()
	// The stream already said NOT_SERVING: it only ends.
	_, err = w.recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	// Liveness was SERVING: it hears NOT_SERVING before the end.
	assert.Equal(t, notServing, live.next(t))
	_, err = live.recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)

	select {
	case <-stopped:
	case <-time.After(waitLimit):
		t.Fatal("GracefulStop did not return after Shutdown")
	}
	assert.NoError(t, <-served)
}

func TestAfterShutdown(t *testing.T) {
	tg := newThreeGroups(t)
	e := serve(t, tg.reg, grpchealth.Settings{})
	e.hs.Shutdown()
	e.hs.Shutdown() // harmless

	// New watches end at once, without a message, so that clients back
	// off rather than loop.
	w := watch(t, e.client, "")
	_, err := w.recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)

	runs := tg.ready.Runs()
	for _, name := range []string{"", "liveness", "readiness", "startup", "db"} {
		assert.Equal(t, notServing, e.mustCheck(t, name), "Check %q", name)
	}
	_, err = e.check(t, "nope")
	assert.Equal(t, codes.NotFound, status.Code(err))
	got, err := list(t, e)
	require.NoError(t, err)
	assert.Len(t, got, 7)
	for name, st := range got {
		assert.Equal(t, notServing, st, "List %q", name)
	}
	assert.Equal(t, runs, tg.ready.Runs(), "nothing runs after Shutdown")
	healthtest.WaitStatus(t, tg.reg, health.Liveness, health.StatusPass) // the registry itself is untouched
}

// TestSIGTERMSequence runs the shutdown of the package documentation on a
// real SIGTERM sent to the process: a connected watcher hears NOT_SERVING
// as soon as Drain starts, while Check still answers; Shutdown ends its
// stream, and GracefulStop returns.
func TestSIGTERMSequence(t *testing.T) {
	sigCtx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	reg := openRegistry(t)
	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{})
	require.NoError(t, err)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Stop()
	client := healthpb.NewHealthClient(dial(t, ln.Addr().String()))
	w := watch(t, client, "")
	require.Equal(t, serving, w.next(t))

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case <-sigCtx.Done():
	case <-time.After(waitLimit):
		t.Fatal("SIGTERM never arrived")
	}
	drained := make(chan error, 1)
	go func() { drained <- reg.Drain(context.Background(), 100*time.Millisecond) }()
	assert.Equal(t, notServing, w.next(t), "NOT_SERVING at once, during the drain")
	resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "liveness"})
	require.NoError(t, err, "still serving during the drain")
	assert.Equal(t, serving, resp.GetStatus())
	require.NoError(t, <-drained)
	hs.Shutdown()
	_, err = w.recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	select {
	case <-gracefulStop(srv):
	case <-time.After(waitLimit):
		t.Fatal("GracefulStop did not return after Shutdown")
	}
	assert.NoError(t, <-served)
}

// TestShutdownEndsWatcherWaitingForARun: a watcher whose first message
// waits for the first run of a hung on-request check ends at Shutdown,
// not at the check's timeout.
func TestShutdownEndsWatcherWaitingForARun(t *testing.T) {
	reg := openRegistry(t)
	started, release := make(chan struct{}), make(chan struct{})
	require.NoError(t, reg.Register(health.Readiness, "hung", health.CheckFunc(func(ctx context.Context) error {
		close(started)
		<-release // ignores its context
		return nil
	}), health.CheckOptions{Timeout: time.Hour}))
	defer close(release)
	e := serve(t, reg, grpchealth.Settings{})
	w := watch(t, e.client, "hung")
	<-started
	e.hs.Shutdown()
	assert.Equal(t, notServing, w.next(t))
	_, err := w.recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	select {
	case <-gracefulStop(e.srv):
	case <-time.After(waitLimit):
		t.Fatal("GracefulStop did not return after Shutdown")
	}
}
