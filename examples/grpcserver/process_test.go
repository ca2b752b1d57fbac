package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/probekit/probekit/examples/internal/proctest"
)

// waitLimit bounds every wait of these tests: far above what any of them
// needs, so that it only ends a test that would otherwise hang.
const waitLimit = 10 * time.Second

// proc is the example, built and running as a process of its own.
type proc struct {
	*proctest.Process
	grpcAddr, httpAddr string
}

// startBinary builds this package and starts it on loopback ports, with no
// drain delay unless args set one; it returns once both servers listen,
// and is killed at cleanup.
func startBinary(t *testing.T, args ...string) *proc {
	t.Helper()
	var mu sync.Mutex
	var httpAddr string
	p := proctest.Cmd{
		Bin:  proctest.Build(t, "."),
		Args: append([]string{"-grpc-addr=127.0.0.1:0", "-http-addr=127.0.0.1:0", "-drain-delay=0s"}, args...),
		// It prints the HTTP address first, so that line has been seen
		// once the gRPC one is.
		AddrFrom: func(line string) (string, bool) { return after(line, "grpc listening on ") },
		OnLine: func(line string) {
			if addr, ok := after(line, "http listening on "); ok {
				mu.Lock()
				httpAddr = addr
				mu.Unlock()
			}
		},
	}.Start(t)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, httpAddr, "the HTTP address is printed before the gRPC one")
	return &proc{Process: p, grpcAddr: p.Addr(), httpAddr: httpAddr}
}

func after(line, prefix string) (string, bool) {
	_, rest, ok := strings.Cut(line, prefix)
	return strings.TrimSpace(rest), ok
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	p.Signal(syscall.SIGTERM)
	return p.Wait(3 * waitLimit)
}

// httpClient makes one fresh connection per request, as the kubelet does.
var httpClient = &http.Client{Timeout: waitLimit, Transport: &http.Transport{DisableKeepAlives: true}}

// do sends a request to the HTTP side and returns the status code.
func (p *proc) do(t *testing.T, method, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.httpAddr+path, nil)
	require.NoError(t, err)
	res, err := httpClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}

// conn returns a client connection to the gRPC side, closed at cleanup.
func (p *proc) conn(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// hello calls the greeter.
func hello(ctx context.Context, conn grpc.ClientConnInterface, name string) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, helloMethod, wrapperspb.String(name), out)
	return out.GetValue(), err
}

// watchStream is an open Watch call, cancelled at cleanup.
type watchStream struct {
	grpc.ServerStreamingClient[healthpb.HealthCheckResponse]
}

func watch(t *testing.T, conn grpc.ClientConnInterface, service string) watchStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitLimit)
	t.Cleanup(cancel)
	s, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
	require.NoError(t, err)
	return watchStream{s}
}

// next returns the next status; the stream's own deadline bounds the wait.
func (w watchStream) next(t *testing.T) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := w.Recv()
	require.NoError(t, err)
	return resp.GetStatus()
}

// until reads statuses until want arrives, and returns it.
func (w watchStream) until(t *testing.T, want healthpb.HealthCheckResponse_ServingStatus) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	for {
		if st := w.next(t); st == want {
			return st
		}
	}
}
