package kubelettest

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"k8s.io/kubernetes/pkg/probe"
	kubeletgrpc "k8s.io/kubernetes/pkg/probe/grpc"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/grpchealth/grpchealthtest"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestMain(m *testing.M) {
	// klog, which the prober logs with, flushes on a goroutine of its own
	// from init on.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("k8s.io/klog/v2.(*flushDaemon).run.func1"))
}

// serve serves a gRPC server with register's services on a loopback port
// until the test ends, and returns the port.
func serve(t *testing.T, register func(*grpc.Server)) int {
	t.Helper()
	srv := grpc.NewServer()
	register(srv)
	_, port, err := net.SplitHostPort(grpchealthtest.Serve(t, srv))
	require.NoError(t, err)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return n
}

const timeout = 2 * time.Second

// kubelet probes as the kubelet does, with its own code: a grpc: probe
// without TLS (the manifest's default).
func kubelet(port int, service string, timeout time.Duration) (probe.Result, string) {
	res, out, err := kubeletgrpc.New().Probe("127.0.0.1", service, port, timeout, kubeletgrpc.ProbeOptions{})
	if err != nil { // documented never to happen
		return probe.Unknown, err.Error()
	}
	return res, out
}

// agree probes with the kubelet's code and with grpchealthtest.Probe and
// checks they give the same verdict and output; it returns the kubelet's.
func agree(t *testing.T, port int, service string, timeout time.Duration) (probe.Result, string) {
	t.Helper()
	res, out := kubelet(port, service, timeout)
	err := grpchealthtest.Probe(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), service, timeout)
	if res == probe.Success {
		assert.NoError(t, err, "kubelet: %s", out)
		assert.Equal(t, "service healthy", out)
	} else if assert.Error(t, err, "kubelet: %v %s", res, out) {
		assert.Equal(t, out, err.Error(), "grpchealthtest.Probe's output")
	}
	return res, out
}

// TestKubeletSeesRegistry probes every default name of a grpchealth server
// with the kubelet's own prober through the states a pod goes through:
// starting, not ready, ready, a failing dependency, draining.
func TestKubeletSeesRegistry(t *testing.T) {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	var warm, db healthtest.Switch
	warm.Set(healthtest.ErrSwitchedOff)
	require.NoError(t, reg.Register(health.Startup, "warmup", &warm))
	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(db.Check)))
	require.NoError(t, reg.Register(health.Liveness, "loop", healthtest.Fixed(nil)))
	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{})
	require.NoError(t, err)
	port := serve(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) })

	ok, fail := probe.Success, probe.Failure
	for _, step := range []struct {
		name   string
		before func()
		want   map[string]probe.Result
	}{
		{"starting", func() {}, map[string]probe.Result{
			"": fail, "liveness": ok, "readiness": fail, "startup": fail, "warmup": fail, "db": ok, "loop": ok}},
		{"started, not ready", func() { warm.Set(nil) }, map[string]probe.Result{
			"": fail, "liveness": ok, "readiness": fail, "startup": ok, "warmup": ok, "db": ok, "loop": ok}},
		{"ready", func() { reg.MarkReady() }, map[string]probe.Result{
			"": ok, "liveness": ok, "readiness": ok, "startup": ok, "db": ok}},
		{"dependency down", func() { db.Set(healthtest.ErrSwitchedOff) }, map[string]probe.Result{
			"": fail, "liveness": ok, "readiness": fail, "db": fail}},
		// db is back, but the probes while it was down opened its
		// breaker: it fails until the breaker's trial.
		{"draining", func() { db.Set(nil); _ = reg.Drain(context.Background(), 0) }, map[string]probe.Result{
			"": fail, "liveness": ok, "readiness": fail, "startup": ok, "db": fail}},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.before()
			for service, want := range step.want {
				res, out := agree(t, port, service, timeout)
				assert.Equal(t, want, res, "service %q: %s", service, out)
				if want == fail {
					assert.Equal(t, `service unhealthy (responded with "NOT_SERVING")`, out, "service %q", service)
				}
			}
		})
	}

	res, out := agree(t, port, "nope", timeout)
	assert.Equal(t, fail, res)
	assert.Contains(t, out, "code = NotFound")
}

// TestKubeletFailures: the other ways a gRPC probe fails, each answered
// the same by the kubelet and by grpchealthtest.Probe.
func TestKubeletFailures(t *testing.T) {
	noHealth := serve(t, func(*grpc.Server) {})
	res, out := agree(t, noHealth, "", timeout)
	assert.Equal(t, probe.Failure, res)
	assert.Contains(t, out, "does not implement the grpc health protocol")

	slow := serve(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, new(grpchealthtest.Hung)) })
	res, out = agree(t, slow, "", 200*time.Millisecond)
	assert.Equal(t, probe.Failure, res)
	assert.Equal(t, "timeout: health rpc did not complete within 200ms", out)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	res, out = agree(t, closed, "", 200*time.Millisecond)
	assert.Equal(t, probe.Failure, res)
	assert.Contains(t, out, "timeout: failed to connect service")
}
