package grpchealth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// holdSends is a stream interceptor that lets the first message of every
// Watch stream through and holds its later sends until the stream ends,
// except for streams whose metadata carries "reader": a client that
// stopped reading, with its flow-control window full.
func holdSends(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if md, _ := metadata.FromIncomingContext(ss.Context()); len(md.Get("reader")) > 0 {
		return handler(srv, ss)
	}
	return handler(srv, &heldStream{ServerStream: ss})
}

type heldStream struct {
	grpc.ServerStream
	sent int
}

func (s *heldStream) SendMsg(m any) error {
	if s.sent++; s.sent > 1 {
		<-s.Context().Done()
		return s.Context().Err()
	}
	return s.ServerStream.SendMsg(m)
}

// TestNeverReadingWatchersHoldNobody: 2,000 Watch streams whose sends
// block after the first message, as a client that never reads makes them
// block, while another watcher of the same name gets every one of 100
// changes, in order.
func TestNeverReadingWatchersHoldNobody(t *testing.T) {
	reg := openRegistry(t)
	e := serve(t, reg, grpchealth.Settings{}, grpc.StreamInterceptor(holdSends))
	const stuck = 2000
	for range stuck {
		require.Equal(t, serving, watch(t, e.client, "").next(t))
	}
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "reader", "yes"), 3*waitLimit)
	defer cancel()
	stream, err := e.client.Watch(ctx, &healthpb.HealthCheckRequest{Service: ""})
	require.NoError(t, err)
	reader := &watchStream{stream: stream, cancel: cancel}
	require.Equal(t, serving, reader.next(t))
	for i := range 100 {
		want := serving
		if i%2 == 0 {
			reg.MarkNotReady("flap")
			want = notServing
		} else {
			reg.MarkReady()
		}
		require.Equal(t, want, reader.next(t), "change %d", i)
	}
}

// TestIdleWatchersCostNothing: while nothing changes, watchers cost the
// registry nothing, however many they are and though a background check
// keeps running; one change is read from the registry once, not once per
// watcher, and reaches every watcher.
func TestIdleWatchersCostNothing(t *testing.T) {
	reg := openRegistry(t)
	var sw healthtest.Switch
	require.NoError(t, reg.Register(health.Readiness, "cache", &sw, health.CheckOptions{Every: 2 * time.Millisecond}))
	healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
	e := serve(t, reg, grpchealth.Settings{})
	n := 500
	if testing.Short() {
		n = 50
	}
	streams := make([]*watchStream, n)
	for i := range streams {
		streams[i] = watch(t, e.client, []string{"", "readiness", "cache"}[i%3])
		require.Equal(t, serving, streams[i].next(t))
	}
	built, runs := grpchealth.ViewsBuilt(e.hs), sw.Runs()
	for sw.Runs() < runs+20 {
		<-time.After(time.Millisecond) // the background check runs meanwhile
	}
	assert.Equal(t, built, grpchealth.ViewsBuilt(e.hs), "runs that change nothing cost watchers nothing")

	reg.MarkNotReady("one change")
	for i, w := range streams {
		if i%3 != 2 { // the check itself still passes
			require.Equal(t, notServing, w.next(t), "watcher %d", i)
		}
	}
	assert.Equal(t, built+1, grpchealth.ViewsBuilt(e.hs), "one change, one read of the registry for %d watchers", n)
}

// A megabyte service name is answered like any unknown name, and one that
// Settings.Services maps is served and described like any other.
func TestMegabyteNames(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	reg := openRegistry(t)
	services := grpchealth.DefaultServices()
	services[long+"y"] = grpchealth.GroupTarget(health.Liveness)
	e := serve(t, reg, grpchealth.Settings{Services: services})
	w := watch(t, e.client, long)
	assert.Equal(t, svcUnknown, w.next(t))
	assert.Equal(t, serving, e.mustCheck(t, long+"y"))
	mapped := watch(t, e.client, long+"y")
	assert.Equal(t, serving, mapped.next(t))
	reg.MarkBroken("wedged")
	assert.Equal(t, notServing, mapped.next(t))
	got, err := list(t, e)
	require.NoError(t, err)
	assert.Equal(t, notServing, got[long+"y"])
	assert.Contains(t, e.hs.Contract(0).Services, contractService(long+"y", health.Liveness))
	e.hs.Shutdown()
	assert.Equal(t, notServing, w.next(t), "the unknown name's stream stayed open until Shutdown")
	_, err = w.recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
}
