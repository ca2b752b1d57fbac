package grpchealth

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// sendGate lets a stream's first message through and holds the later
// ones until released: a client whose reading (or whose network) is
// slower than the changes.
type sendGate struct {
	blocked chan struct{} // receives once a Send is held
	release chan struct{} // closed to let every Send through
}

func (g *sendGate) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &gatedStream{ServerStream: ss, g: g})
}

type gatedStream struct {
	grpc.ServerStream
	g    *sendGate
	sent int
}

func (s *gatedStream) SendMsg(m any) error {
	if s.sent++; s.sent > 1 {
		select {
		case s.g.blocked <- struct{}{}:
		default:
		}
		<-s.g.release
	}
	return s.ServerStream.SendMsg(m)
}

// TestSlowReaderGetsLatest holds the stream's second message while the
// status flips a hundred times: once the stream moves again, the watcher
// gets the latest status, not the flips in between.
func TestSlowReaderGetsLatest(t *testing.T) {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	defer func() { assert.NoError(t, reg.Close()) }()
	hs, err := NewServer(reg, Settings{})
	require.NoError(t, err)
	gate := &sendGate{blocked: make(chan struct{}, 1), release: make(chan struct{})}
	srv := grpc.NewServer(grpc.StreamInterceptor(gate.intercept))
	healthpb.RegisterHealthServer(srv, hs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	conn, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: ""})
	require.NoError(t, err)
	recv := func() healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		resp, err := stream.Recv()
		require.NoError(t, err)
		return resp.GetStatus()
	}
	require.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, recv())

	reg.MarkReady()
	select {
	case <-gate.blocked: // SERVING is being sent, and held
	case <-ctx.Done():
		t.Fatal("the change was never sent")
	}
	for range 50 {
		reg.MarkNotReady("flap")
		reg.MarkReady()
	}
	reg.MarkNotReady("settled")
	close(gate.release)

	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, recv(), "the message held")
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, recv(), "then the latest, and only it")
	reg.MarkReady()
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, recv(), "the next change comes next")
}

// TestProbeVerdictCountsAsFresh: a watched on-request check is re-run
// only once its latest verdict, whoever's run took it, is WatchPoll old,
// so watchers add no runs to a check that probes run often enough.
func TestProbeVerdictCountsAsFresh(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	var sw healthtest.Switch
	require.NoError(t, reg.Register(health.Readiness, "db", &sw))
	ctx := context.Background()
	db := onRequest{group: health.Readiness, name: "db"}

	hs, err := NewServer(reg, Settings{WatchPoll: time.Hour})
	require.NoError(t, err)
	_, due := hs.nextPoll([]onRequest{db})
	assert.Equal(t, pollFirst, due, "never run")
	require.NoError(t, hs.poll(ctx, db))
	assert.Equal(t, 1, sw.Runs())
	next, due := hs.nextPoll([]onRequest{db})
	assert.Equal(t, pollLater, due, "just ran")
	assert.WithinDuration(t, time.Now().Add(time.Hour), next, time.Minute)

	// A probe's run, not the server's, is as fresh.
	hs2, err := NewServer(reg, Settings{WatchPoll: time.Hour})
	require.NoError(t, err)
	_, err = reg.Check(ctx, health.Readiness, "db") // what an HTTP or gRPC probe does
	require.NoError(t, err)
	require.NoError(t, hs2.poll(ctx, db))
	assert.Equal(t, 2, sw.Runs(), "a probe ran it just now: the poll did not")
	_, due = hs2.nextPoll([]onRequest{db})
	assert.Equal(t, pollLater, due)

	// Once the verdict is WatchPoll old, it is due, and run.
	hs3, err := NewServer(reg, Settings{WatchPoll: time.Millisecond})
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond) // the probe's verdict ages past WatchPoll
	require.NoError(t, hs3.poll(ctx, db))
	assert.Equal(t, 3, sw.Runs())
}

// TestViewRunsOnlyWhatIsDue: a name is answered from the view unless it
// rests on checks that run on request, startup checks that latched
// excepted; and the view follows registrations.
func TestViewRunsOnlyWhatIsDue(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	ok := healthtest.Fixed(nil)
	require.NoError(t, reg.Register(health.Readiness, "db", ok, health.CheckOptions{Every: time.Hour}))
	require.NoError(t, reg.Register(health.Startup, "warmup", ok))
	hs, err := NewServer(reg, Settings{})
	require.NoError(t, err)
	mustRun := func(name string) bool {
		t.Helper()
		v := hs.view()
		svc, _ := v.lookup(name)
		require.NotNil(t, svc, name)
		return v.mustRun(svc)
	}
	assert.False(t, mustRun("db"))
	assert.False(t, mustRun("liveness"))
	assert.True(t, mustRun(""), "readiness runs startup's checks until startup passes")
	assert.True(t, mustRun("startup"))
	assert.True(t, mustRun("warmup"))

	_, err = reg.Check(context.Background(), health.Startup)
	require.NoError(t, err)
	for _, name := range []string{"", "readiness", "startup", "warmup"} {
		assert.False(t, mustRun(name), "%q: startup latched", name)
	}

	require.NoError(t, reg.Register(health.Liveness, "loop", ok))
	assert.True(t, mustRun("loop"))
	assert.True(t, mustRun("liveness"))
	assert.True(t, mustRun(""), "readiness runs liveness's checks")
	assert.False(t, mustRun("db"))
}
