package grpchealth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// threeGroups is a registry with one check that runs on request in each
// group, each a switch the test sets.
type threeGroups struct {
	reg                *health.Registry
	live, ready, start *healthtest.Switch
}

func newThreeGroups(t *testing.T, opts ...health.Options) threeGroups {
	t.Helper()
	tg := threeGroups{reg: openRegistry(t, opts...), live: new(healthtest.Switch), ready: new(healthtest.Switch), start: new(healthtest.Switch)}
	require.NoError(t, tg.reg.Register(health.Liveness, "loop", tg.live))
	require.NoError(t, tg.reg.Register(health.Readiness, "db", tg.ready))
	require.NoError(t, tg.reg.Register(health.Startup, "warmup", tg.start))
	return tg
}

// httpPath is the HTTP route that answers what a default service name
// answers.
var httpPath = map[string]string{
	"":          "/ready",
	"liveness":  "/livez",
	"readiness": "/readyz",
	"startup":   "/startupz",
	"loop":      "/livez/loop",
	"db":        "/readyz/db",
	"warmup":    "/startupz/warmup",
}

// TestCheckAgreesWithHTTP puts the registry through states where each
// group and check passes or fails, and asks every default name over gRPC
// and its route over HTTP: SERVING must go with 200 and NOT_SERVING with
// 503, every time.
func TestCheckAgreesWithHTTP(t *testing.T) {
	tg := newThreeGroups(t)
	e := serve(t, tg.reg, grpchealth.Settings{})
	fail := healthtest.ErrSwitchedOff
	for _, state := range []struct {
		name              string
		live, ready, warm error
		notReady          bool
		want              map[string]healthpb.HealthCheckResponse_ServingStatus
	}{
		{name: "startup failing", warm: fail, want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": notServing, "liveness": serving, "readiness": notServing, "startup": notServing, "loop": serving, "db": serving, "warmup": notServing}},
		{name: "all pass", want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": serving, "liveness": serving, "readiness": serving, "startup": serving, "loop": serving, "db": serving, "warmup": serving}},
		{name: "dependency fails", ready: fail, want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": notServing, "liveness": serving, "readiness": notServing, "startup": serving, "loop": serving, "db": notServing, "warmup": serving}},
		{name: "liveness fails", live: fail, want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": notServing, "liveness": notServing, "readiness": notServing, "startup": serving, "loop": notServing, "db": serving, "warmup": serving}},
		{name: "switched not ready", notReady: true, want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": notServing, "liveness": serving, "readiness": notServing, "startup": serving, "loop": serving, "db": serving, "warmup": serving}},
		{name: "warmup fails after startup latched", warm: fail, want: map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": serving, "liveness": serving, "readiness": serving, "startup": serving, "loop": serving, "db": serving, "warmup": serving}},
	} {
		t.Run(state.name, func(t *testing.T) {
			tg.live.Set(state.live)
			tg.ready.Set(state.ready)
			tg.start.Set(state.warm)
			if state.notReady {
				tg.reg.MarkNotReady("test")
			} else {
				tg.reg.MarkReady()
			}
			for name, want := range state.want {
				got := e.mustCheck(t, name)
				assert.Equal(t, want, got, "gRPC Check %q", name)
				code := e.httpCode(t, httpPath[name])
				assert.Equal(t, got == serving, code == http.StatusOK, "gRPC %q says %v, HTTP %s says %d", name, got, httpPath[name], code)
			}
		})
	}
}

func TestUnknownServiceIsNotFound(t *testing.T) {
	tg := newThreeGroups(t)
	e := serve(t, tg.reg, grpchealth.Settings{})
	long := strings.Repeat("x", 1<<20)
	for _, name := range []string{"nope", "Readiness", "ready", "alive", " ", long} {
		_, err := e.check(t, name)
		require.Error(t, err, "Check %.20q", name)
		assert.Equal(t, codes.NotFound, status.Code(err), "Check %.20q: %v", name, err)
		assert.Less(t, len(status.Convert(err).Message()), 200, "the error echoes at most a prefix of the name")
	}
}

func TestWarnIsServing(t *testing.T) {
	reg := openRegistry(t)
	require.NoError(t, reg.Register(health.Readiness, "cache", healthtest.Fixed(errors.New("cold")), health.CheckOptions{NonCritical: true}))
	require.NoError(t, reg.Register(health.Readiness, "cert", healthtest.Fixed(health.Warn(errors.New("expires in 5 days")))))
	e := serve(t, reg, grpchealth.Settings{})
	for _, name := range []string{"", "readiness", "cache", "cert"} {
		assert.Equal(t, serving, e.mustCheck(t, name), "Check %q", name)
	}
	assert.Equal(t, http.StatusOK, e.httpCode(t, "/ready"))
}

// A check registered after NewServer is served under its name from then
// on, as CheckHandler does for HTTP.
func TestLateRegistration(t *testing.T) {
	reg := openRegistry(t)
	e := serve(t, reg, grpchealth.Settings{})
	_, err := e.check(t, "late")
	assert.Equal(t, codes.NotFound, status.Code(err))
	require.NoError(t, reg.Register(health.Readiness, "late", healthtest.Fixed(errors.New("down"))))
	assert.Equal(t, notServing, e.mustCheck(t, "late"))
	assert.Equal(t, notServing, e.mustCheck(t, ""))
}

// A pending background check answers as over HTTP: failing in readiness,
// passing in liveness.
func TestPendingAnswersAsHTTP(t *testing.T) {
	reg := openRegistry(t)
	release := make(chan struct{})
	defer close(release)
	block := health.CheckFunc(func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	bg := health.CheckOptions{Every: time.Hour, Timeout: time.Hour}
	require.NoError(t, reg.Register(health.Liveness, "live-bg", block, bg))
	require.NoError(t, reg.Register(health.Readiness, "ready-bg", block, bg))
	e := serve(t, reg, grpchealth.Settings{})
	assert.Equal(t, serving, e.mustCheck(t, "live-bg"))
	assert.Equal(t, serving, e.mustCheck(t, "liveness"))
	assert.Equal(t, notServing, e.mustCheck(t, "ready-bg"))
	assert.Equal(t, notServing, e.mustCheck(t, ""))
	assert.Equal(t, http.StatusServiceUnavailable, e.httpCode(t, "/ready"))
	assert.Equal(t, http.StatusOK, e.httpCode(t, "/"))
}

// A check stuck past its timeout is not started again until it returns,
// so any number of gRPC and HTTP probes meanwhile cost no second run, and
// each is answered (NOT_SERVING, 503) within the check's timeout.
func TestStuckCheckRunsOnceForBothProtocols(t *testing.T) {
	reg := openRegistry(t)
	var mu sync.Mutex
	runs := 0
	release := make(chan struct{})
	require.NoError(t, reg.Register(health.Readiness, "stuck", health.CheckFunc(func(context.Context) error {
		mu.Lock()
		runs++
		mu.Unlock()
		<-release // ignores its context
		return nil
	}), health.CheckOptions{Timeout: 50 * time.Millisecond}))
	e := serve(t, reg, grpchealth.Settings{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { assert.Equal(t, notServing, e.mustCheck(t, "")) })
		wg.Go(func() { assert.Equal(t, http.StatusServiceUnavailable, e.httpCode(t, "/ready")) })
		wg.Go(func() { assert.Equal(t, notServing, e.mustCheck(t, "stuck")) })
	}
	wg.Wait()
	mu.Lock()
	assert.Equal(t, 1, runs)
	mu.Unlock()
	close(release)
	healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
	assert.Equal(t, serving, e.mustCheck(t, ""))
}

// The caller's deadline ends Check with DEADLINE_EXCEEDED; the check's
// run goes on and its verdict is recorded.
func TestCheckHonoursDeadline(t *testing.T) {
	reg := openRegistry(t)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	require.NoError(t, reg.Register(health.Readiness, "slow", health.CheckFunc(func(ctx context.Context) error {
		select {
		case started <- struct{}{}:
		default: // a later run: nobody waits for it
		}
		<-release
		return nil
	}), health.CheckOptions{Timeout: time.Hour}))
	e := serve(t, reg, grpchealth.Settings{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.client.Check(ctx, &healthpb.HealthCheckRequest{Service: "slow"})
		errc <- err
	}()
	<-started
	cancel()
	assert.Equal(t, codes.Canceled, status.Code(<-errc))

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.client.Check(ctx, &healthpb.HealthCheckRequest{Service: ""})
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	close(release)
	healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
	assert.Equal(t, serving, e.mustCheck(t, "slow"))
}

func TestCustomServices(t *testing.T) {
	tg := newThreeGroups(t)
	services := grpchealth.DefaultServices()
	services["helloworld.Greeter"] = grpchealth.GroupTarget(health.Readiness)
	services["database"] = grpchealth.CheckTarget("db")
	services["later"] = grpchealth.CheckTarget("not-yet")
	services["loop"] = grpchealth.GroupTarget(health.Readiness) // wins over the check called loop
	e := serve(t, tg.reg, grpchealth.Settings{Services: services, HideChecks: true})
	services["added-after"] = grpchealth.GroupTarget(health.Readiness) // the map was copied

	tg.ready.Set(healthtest.ErrSwitchedOff)
	for name, want := range map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": notServing, "readiness": notServing, "helloworld.Greeter": notServing, "database": notServing,
		"liveness": serving, "loop": notServing,
	} {
		assert.Equal(t, want, e.mustCheck(t, name), "Check %q", name)
	}
	for _, hidden := range []string{"db", "warmup", "later", "added-after"} {
		_, err := e.check(t, hidden)
		assert.Equal(t, codes.NotFound, status.Code(err), "Check %q", hidden)
	}
	require.NoError(t, tg.reg.Register(health.Readiness, "not-yet", healthtest.Fixed(nil)))
	assert.Equal(t, serving, e.mustCheck(t, "later"))
	_, err := e.check(t, "not-yet")
	assert.Equal(t, codes.NotFound, status.Code(err), "hidden under its own name")
}

// Exposing only "": the one name some load balancers ask.
func TestOnlyServerName(t *testing.T) {
	tg := newThreeGroups(t)
	e := serve(t, tg.reg, grpchealth.Settings{
		Services:   map[string]grpchealth.Target{"": grpchealth.GroupTarget(health.Readiness)},
		HideChecks: true,
	})
	assert.Equal(t, serving, e.mustCheck(t, ""))
	for _, name := range []string{"liveness", "readiness", "startup", "db"} {
		_, err := e.check(t, name)
		assert.Equal(t, codes.NotFound, status.Code(err), "Check %q", name)
	}
}

func TestNewServerRefusesBadSettings(t *testing.T) {
	reg := openRegistry(t)
	for name, st := range map[string]grpchealth.Settings{
		"zero target":      {Services: map[string]grpchealth.Target{"x": {}}},
		"invalid group":    {Services: map[string]grpchealth.Target{"x": grpchealth.GroupTarget(health.Group(9))}},
		"zero group":       {Services: map[string]grpchealth.Target{"x": grpchealth.GroupTarget(0)}},
		"empty check name": {Services: map[string]grpchealth.Target{"x": grpchealth.CheckTarget("")}},
		"negative poll":    {WatchPoll: -time.Second},
		"sub-ms poll":      {WatchPoll: time.Microsecond},
		"negative list":    {MaxList: -1},
	} {
		hs, err := grpchealth.NewServer(reg, st)
		assert.ErrorIs(t, err, grpchealth.ErrInvalidSettings, name)
		assert.Nil(t, hs, name)
	}
	_, err := grpchealth.NewServer(nil, grpchealth.Settings{})
	assert.ErrorIs(t, err, grpchealth.ErrInvalidSettings)
	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{Services: map[string]grpchealth.Target{}})
	require.NoError(t, err, "an empty map is valid: only checks by name")
	require.NotNil(t, hs)
}
