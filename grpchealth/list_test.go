package grpchealth_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func list(t *testing.T, e *env) (map[string]healthpb.HealthCheckResponse_ServingStatus, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	resp, err := e.client.List(ctx, &healthpb.HealthListRequest{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]healthpb.HealthCheckResponse_ServingStatus)
	for name, st := range resp.GetStatuses() {
		out[name] = st.GetStatus()
	}
	return out, nil
}

func TestList(t *testing.T) {
	tg := newThreeGroups(t)
	e := serve(t, tg.reg, grpchealth.Settings{})
	tg.ready.Set(healthtest.ErrSwitchedOff)
	got, err := list(t, e)
	require.NoError(t, err)
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": notServing, "liveness": serving, "readiness": notServing, "startup": serving,
		"loop": serving, "db": notServing, "warmup": serving,
	}, got)
	// Every name List gives answers Check the same way.
	for name, st := range got {
		assert.Equal(t, st, e.mustCheck(t, name), "Check %q", name)
	}
	// List ran each on-request check once, as Check would.
	runs := tg.ready.Runs()
	_, err = list(t, e)
	require.NoError(t, err)
	assert.Equal(t, runs+1, tg.ready.Runs(), "one List, one run of db, though three names rest on it")
}

func TestListRespectsHiddenAndCustomNames(t *testing.T) {
	tg := newThreeGroups(t)
	e := serve(t, tg.reg, grpchealth.Settings{
		Services: map[string]grpchealth.Target{
			"":         grpchealth.GroupTarget(health.Readiness),
			"database": grpchealth.CheckTarget("db"),
			"later":    grpchealth.CheckTarget("not-yet"), // unknown until registered
		},
		HideChecks: true,
	})
	got, err := list(t, e)
	require.NoError(t, err)
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{"": serving, "database": serving}, got)
	require.NoError(t, tg.reg.Register(health.Readiness, "not-yet", healthtest.Fixed(nil)))
	got, err = list(t, e)
	require.NoError(t, err)
	assert.Contains(t, got, "later")
}

func TestListCap(t *testing.T) {
	reg := openRegistry(t)
	for i := range 10 {
		require.NoError(t, reg.Register(health.Readiness, fmt.Sprintf("c%02d", i), healthtest.Fixed(nil)))
	}
	// 4 group names + 10 checks = 14.
	atCap := serve(t, reg, grpchealth.Settings{MaxList: 14})
	got, err := list(t, atCap)
	require.NoError(t, err)
	assert.Len(t, got, 14)

	over := serve(t, reg, grpchealth.Settings{MaxList: 13})
	_, err = list(t, over)
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
}

func TestListDefaultCapIsGRPCGos(t *testing.T) {
	reg := openRegistry(t)
	for i := range grpchealth.DefaultMaxList - 4 {
		require.NoError(t, reg.Register(health.Readiness, fmt.Sprintf("c%03d", i), healthtest.Fixed(nil)))
	}
	e := serve(t, reg, grpchealth.Settings{})
	got, err := list(t, e)
	require.NoError(t, err)
	assert.Len(t, got, grpchealth.DefaultMaxList)
	require.NoError(t, reg.Register(health.Readiness, "one-too-many", healthtest.Fixed(nil)))
	_, err = list(t, e)
	assert.Equal(t, codes.ResourceExhausted, status.Code(err))
}
