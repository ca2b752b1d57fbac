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
	reg := health.New(health.StartNotReady("warming up"))
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

	reg.SetReady(true)
	select {
	case <-gate.blocked: // SERVING is being sent, and held
	case <-ctx.Done():
		t.Fatal("the change was never sent")
	}
	for range 50 {
		reg.MarkNotReady("flap")
		reg.SetReady(true)
	}
	reg.MarkNotReady("settled")
	for hs.feedStatus("") != healthpb.HealthCheckResponse_NOT_SERVING {
		require.NoError(t, ctx.Err(), "the hub never published the last status")
		time.Sleep(time.Millisecond)
	}
	close(gate.release)

	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, recv(), "the message held")
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, recv(), "then the latest, and only it")
	reg.SetReady(true)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, recv(), "the next change comes next")

	cancel()
	_, err = stream.Recv()
	require.Error(t, err)
	for hs.hubRunning() {
		time.Sleep(time.Millisecond) // bounded by the test's timeout: goleak would also catch it
	}
}

// feedStatus returns the published status of the feed of name, or -1.
func (s *Server) feedStatus(name string) healthpb.HealthCheckResponse_ServingStatus {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	if f := s.watch.feeds[name]; f != nil && f.known {
		return f.status
	}
	return -1
}

// hubRunning reports whether the hub goroutine should be running.
func (s *Server) hubRunning() bool {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	return s.watch.cancel != nil
}

// TestProbeVerdictCountsAsFresh: the hub re-runs a watched on-request check
// only once its latest verdict, whoever's run took it, is WatchPoll old, so
// watchers add no runs to a check that probes run often enough.
func TestProbeVerdictCountsAsFresh(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	require.NoError(t, reg.Register(health.Readiness, "db", func(context.Context) error { return nil }))
	const poll = time.Hour
	hs, err := NewServer(reg, Settings{WatchPoll: poll})
	require.NoError(t, err)
	// A feed without a hub, so that refresh runs only when the test says.
	hs.watch.feeds["db"] = &feed{subs: map[*watcher]struct{}{}}
	ctx := context.Background()

	due, _ := hs.refresh(ctx)
	require.Len(t, due, 1, "never run: due at once")
	assert.Equal(t, "db", due[0].Name)
	assert.Equal(t, healthpb.HealthCheckResponse_ServingStatus(-1), hs.feedStatus("db"),
		"held: the pending status of a check that never ran is not published")
	hs.poll(ctx, due)
	due, _ = hs.refresh(ctx)
	assert.Empty(t, due, "just ran")
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, hs.feedStatus("db"))

	// A probe's run, not the hub's, is as fresh.
	hs2, err := NewServer(reg, Settings{WatchPoll: poll})
	require.NoError(t, err)
	hs2.watch.feeds["db"] = &feed{subs: map[*watcher]struct{}{}}
	probed := time.Now()
	_, err = reg.CheckEntry(ctx, health.Readiness, "db") // what an HTTP or gRPC probe does
	require.NoError(t, err)
	due, next := hs2.refresh(ctx)
	assert.Empty(t, due, "a probe ran it just now")
	assert.WithinRange(t, next, probed.Add(poll), time.Now().Add(poll), "due one WatchPoll after the probe's verdict")

	// Once the verdict is WatchPoll old, it is due.
	hs3, err := NewServer(reg, Settings{WatchPoll: time.Millisecond})
	require.NoError(t, err)
	hs3.watch.feeds["db"] = &feed{subs: map[*watcher]struct{}{}}
	time.Sleep(2 * time.Millisecond)
	due, _ = hs3.refresh(ctx)
	assert.Len(t, due, 1)
}
