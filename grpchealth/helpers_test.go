package grpchealth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/grpchealth/grpchealthtest"
	"github.com/probekit/probekit/health"
)

// defaultBreakerFailures is health.BreakerSettings.Failures's default: the
// consecutive failures that open a dependency's breaker.
const defaultBreakerFailures = 3

// waitLimit bounds every wait of these tests: far above what any of them
// needs, so that it only ends a test that would otherwise hang.
const waitLimit = 10 * time.Second

const (
	serving    = healthpb.HealthCheckResponse_SERVING
	notServing = healthpb.HealthCheckResponse_NOT_SERVING
	svcUnknown = healthpb.HealthCheckResponse_SERVICE_UNKNOWN
)

// openRegistry returns a registry closed (cleanly) when the test ends.
func openRegistry(t testing.TB, opts ...health.Options) *health.Registry {
	t.Helper()
	reg := health.New(opts...)
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	return reg
}

// env is a registry served over gRPC and HTTP on loopback sockets, with a
// gRPC client connected to it.
type env struct {
	reg    *health.Registry
	hs     *grpchealth.Server
	srv    *grpc.Server
	addr   string
	client healthpb.HealthClient
	http   string // base URL of the registry's Mount routes
}

// serve serves reg with st on a new grpc.Server (with srvOpts) and on an
// HTTP server, and connects a client; all are stopped when the test ends.
func serve(t testing.TB, reg *health.Registry, st grpchealth.Settings, srvOpts ...grpc.ServerOption) *env {
	t.Helper()
	hs, err := grpchealth.NewServer(reg, st)
	require.NoError(t, err)
	srv := grpc.NewServer(srvOpts...)
	healthpb.RegisterHealthServer(srv, hs)
	addr := grpchealthtest.Serve(t, srv)
	t.Cleanup(hs.Shutdown) // before Serve's cleanup stops srv

	mux := http.NewServeMux()
	require.NoError(t, reg.Mount(mux))
	hsrv := httptest.NewServer(mux)
	t.Cleanup(hsrv.Close)

	return &env{reg: reg, hs: hs, srv: srv, addr: addr, client: healthpb.NewHealthClient(dial(t, addr)), http: hsrv.URL}
}

// dial returns a plaintext client connection to addr, closed when the test
// ends.
func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// check calls Check for name and returns the status, or the error's code
// as a status error.
func (e *env) check(t testing.TB, name string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	resp, err := e.client.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
	if err != nil {
		return 0, err
	}
	return resp.GetStatus(), nil
}

// mustCheck is check for a name that must be known.
func (e *env) mustCheck(t testing.TB, name string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	st, err := e.check(t, name)
	require.NoError(t, err, "Check %q", name)
	return st
}

// httpCode returns the status code of GET path on the HTTP side.
func (e *env) httpCode(t testing.TB, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.http+path, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}

// watchStream is an open Watch call.
type watchStream struct {
	stream grpc.ServerStreamingClient[healthpb.HealthCheckResponse]
	cancel context.CancelFunc
}

// watch opens a Watch call for name on client; it is cancelled when the
// test ends, or earlier with stop.
func watch(t testing.TB, client healthpb.HealthClient, name string) *watchStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitLimit)
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: name})
	require.NoError(t, err)
	t.Cleanup(cancel)
	return &watchStream{stream: stream, cancel: cancel}
}

// next returns the next status the stream sends, failing the test if none
// comes within waitLimit.
func (w *watchStream) next(t testing.TB) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	st, err := w.recv()
	require.NoError(t, err)
	return st
}

// recv returns the next status or the error that ended the stream; it
// fails with DeadlineExceeded if nothing comes within waitLimit.
func (w *watchStream) recv() (healthpb.HealthCheckResponse_ServingStatus, error) {
	type msg struct {
		st  healthpb.HealthCheckResponse_ServingStatus
		err error
	}
	got := make(chan msg, 1)
	go func() {
		resp, err := w.stream.Recv()
		got <- msg{resp.GetStatus(), err}
	}()
	select {
	case m := <-got:
		return m.st, m.err
	case <-time.After(waitLimit):
		w.cancel() // ends the Recv above
		<-got
		return 0, status.Error(codes.DeadlineExceeded, "no message within the wait limit")
	}
}

// until reads statuses until want arrives and returns the statuses read
// before it.
func (w *watchStream) until(t testing.TB, want healthpb.HealthCheckResponse_ServingStatus) []healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	var before []healthpb.HealthCheckResponse_ServingStatus
	for {
		st := w.next(t)
		if st == want {
			return before
		}
		before = append(before, st)
	}
}

// contractService is the contract's entry for a name answering group g.
func contractService(name string, g health.Group) contract.Service {
	return contract.Service{Name: name, Group: g.String()}
}

// statusCode is the gRPC code of err, as a string.
func statusCode(err error) string { return status.Code(err).String() }
