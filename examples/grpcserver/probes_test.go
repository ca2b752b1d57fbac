package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/grpchealth/grpchealthtest"
)

const (
	serving    = healthpb.HealthCheckResponse_SERVING
	notServing = healthpb.HealthCheckResponse_NOT_SERVING
)

// kubelet probes as the kubelet does (grpchealthtest.Probe follows
// k8s.io/kubernetes pkg/probe/grpc, and grpchealth/kubelettest checks it
// against that code): true for SERVING only.
func kubelet(p *proc, service string) (bool, string) {
	err := grpchealthtest.Probe(p.grpcAddr, service, waitLimit)
	if err != nil {
		return false, err.Error()
	}
	return true, ""
}

// TestProbeEachName probes every name the example serves, and an unknown
// one, as the kubelet would, before and after /make_ready; HTTP agrees.
func TestProbeEachName(t *testing.T) {
	p := startBinary(t)
	for _, step := range []struct {
		name   string
		toggle string
		want   map[string]bool
		ready  int
	}{
		{"at start", "", map[string]bool{
			"": false, "readiness": false, greeterService: false,
			"liveness": true, "startup": true, "goroutines": true, "nope": false}, http.StatusServiceUnavailable},
		{"after /make_ready", "/make_ready", map[string]bool{
			"": true, "readiness": true, greeterService: true, "liveness": true, "nope": false}, http.StatusOK},
		{"after /make_not_ready", "/make_not_ready", map[string]bool{
			"": false, "readiness": false, greeterService: false, "liveness": true}, http.StatusServiceUnavailable},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.toggle != "" {
				require.Equal(t, http.StatusOK, p.do(t, http.MethodPost, step.toggle))
			}
			for service, want := range step.want {
				ok, out := kubelet(p, service)
				assert.Equal(t, want, ok, "service %q: %s", service, out)
			}
			assert.Equal(t, step.ready, p.do(t, http.MethodGet, "/ready"))
			assert.Equal(t, http.StatusOK, p.do(t, http.MethodGet, "/"))
		})
	}

	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	_, err := healthpb.NewHealthClient(p.conn(t)).Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	assert.Equal(t, codes.NotFound, status.Code(err))
	require.NoError(t, p.stop(t))
}

func TestGreeterOverGRPC(t *testing.T) {
	p := startBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	got, err := hello(ctx, p.conn(t), "kube")
	require.NoError(t, err)
	assert.Equal(t, "hello, kube", got)
	require.NoError(t, p.stop(t))
}

// TestWatchSeesToggle: readiness flipped over HTTP reaches a gRPC watcher
// at once, pushed, with no check to wait for.
func TestWatchSeesToggle(t *testing.T) {
	p := startBinary(t)
	conn := p.conn(t)
	w, svc := watch(t, conn, ""), watch(t, conn, greeterService)
	require.Equal(t, notServing, w.next(t))
	require.Equal(t, notServing, svc.next(t))
	for _, step := range []struct {
		method, path string
		want         healthpb.HealthCheckResponse_ServingStatus
	}{
		{http.MethodGet, "/make_ready", serving},
		{http.MethodPost, "/make_not_ready", notServing},
		{http.MethodPost, "/make_ready", serving},
	} {
		start := time.Now()
		require.Equal(t, http.StatusOK, p.do(t, step.method, step.path))
		assert.Equal(t, step.want, w.next(t), "%s %s", step.method, step.path)
		assert.Equal(t, step.want, svc.next(t), "%s %s", step.method, step.path)
		t.Logf("%s %s reached the watchers in %v", step.method, step.path, time.Since(start))
	}
	require.NoError(t, p.stop(t))
}

func TestList(t *testing.T) {
	p := startBinary(t)
	require.Equal(t, http.StatusOK, p.do(t, http.MethodPost, "/make_ready"))
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	resp, err := healthpb.NewHealthClient(p.conn(t)).List(ctx, &healthpb.HealthListRequest{})
	require.NoError(t, err)
	got := make(map[string]healthpb.HealthCheckResponse_ServingStatus)
	for name, st := range resp.GetStatuses() {
		got[name] = st.GetStatus()
	}
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": serving, "liveness": serving, "readiness": serving, "startup": serving,
		"goroutines": serving, greeterService: serving,
	}, got)
	require.NoError(t, p.stop(t))
}

// upstreamBreaker returns the state of the upstream check's breaker, as
// /readyz/upstream reports it.
func upstreamBreaker(t *testing.T, p *proc) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.httpAddr+"/readyz/upstream", nil)
	require.NoError(t, err)
	res, err := httpClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var rep struct {
		Checks map[string][]struct {
			Breaker string `json:"breaker"`
		} `json:"checks"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&rep))
	for name, entries := range rep.Checks {
		if strings.HasPrefix(name, "upstream") && len(entries) > 0 {
			return entries[0].Breaker
		}
	}
	t.Fatalf("no upstream entry in %+v", rep)
	return ""
}

// TestHungUpstream: readiness depends on another gRPC server that accepts
// the call and never answers. Until its breaker opens each probe waits for
// the check's timeout; from then on probes are answered without calling
// it.
func TestHungUpstream(t *testing.T) {
	hung := new(grpchealthtest.Hung)
	upstream := grpc.NewServer()
	healthpb.RegisterHealthServer(upstream, hung)
	addr := grpchealthtest.Serve(t, upstream)

	p := startBinary(t, "-upstream=passthrough:///"+addr, "-upstream-service=payments", "-upstream-timeout=200ms")
	require.Equal(t, http.StatusOK, p.do(t, http.MethodPost, "/make_ready"))
	deadline := time.Now().Add(waitLimit)
	for upstreamBreaker(t, p) != "open" {
		require.True(t, time.Now().Before(deadline), "the breaker never opened")
		ok, out := kubelet(p, "readiness")
		assert.False(t, ok, "readiness with a hung upstream: %s", out)
	}
	calls := hung.Calls()
	assert.Positive(t, calls)

	start := time.Now()
	for range 10 {
		for _, service := range []string{"", "readiness", "upstream"} {
			ok, out := kubelet(p, service)
			assert.False(t, ok, "%q", service)
			assert.Equal(t, `service unhealthy (responded with "NOT_SERVING")`, out, "%q", service)
		}
		ok, _ := kubelet(p, "liveness")
		assert.True(t, ok, "a dependency never fails liveness")
	}
	t.Logf("40 probes with the breaker open took %v (the check's timeout is 200ms)", time.Since(start))
	assert.Equal(t, calls, hung.Calls(), "no probe reached the hung upstream once the breaker opened")
	require.NoError(t, p.stop(t))
}
