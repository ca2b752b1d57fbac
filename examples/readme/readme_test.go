package readme

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/probekit/probekit/otelmetrics"
	"github.com/probekit/probekit/prommetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newRegistry(t *testing.T) *health.Registry {
	t.Helper()
	reg := health.New()
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	require.NoError(t, reg.Register(health.Readiness, "postgres", healthtest.Fixed(nil)))
	return reg
}

// README, "Other routers".
func mountOnChi(reg *health.Registry) (http.Handler, error) {
	routes, err := reg.Routes(health.MountOptions{Prefix: "/health"})
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	for _, rt := range routes {
		path := rt.Path
		if rt.PerCheck {
			path += "{check}" // gin and echo: ":check"
		}
		r.Handle(path, rt.Handler) // the handlers answer GET and HEAD, and 405 otherwise
	}
	return r, nil
}

func TestOtherRouters(t *testing.T) {
	h, err := mountOnChi(newRegistry(t))
	require.NoError(t, err)
	for _, path := range []string{"/health/", "/health/ready", "/health/readyz/postgres"} {
		healthtest.AssertStatus(t, h, path, http.StatusOK)
	}
	healthtest.AssertStatus(t, h, "/health/readyz/nosuch", http.StatusNotFound)
}

type User struct{ ID string }

type userStore struct{}

func (userStore) User(_ context.Context, id string) (*User, error) { return &User{ID: id}, nil }

// README, "Dependencies and circuit breakers".
func findUser(ctx context.Context, reg *health.Registry, store userStore, id string) (*User, error) {
	b, err := reg.Breaker("postgres")
	if err != nil {
		return nil, err
	}
	var user *User
	err = b.Execute(func() (err error) {
		user, err = store.User(ctx, id)
		return err
	})
	return user, err
}

func TestTrafficThroughTheBreaker(t *testing.T) {
	reg := health.New()
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	require.NoError(t, reg.Register(health.Readiness, "postgres", health.DependencyFunc(func(context.Context) error { return nil })))
	u, err := findUser(t.Context(), reg, userStore{}, "42")
	require.NoError(t, err)
	assert.Equal(t, "42", u.ID)
	var pg health.CheckResult
	for _, c := range reg.Latest(health.Readiness).Checks {
		if c.Name == "postgres" {
			pg = c
		}
	}
	require.NotNil(t, pg.Breaker, "postgres is a dependency check")
	assert.False(t, pg.Breaker.LastSuccess.IsZero(), "the call went through the breaker (no probe has run the check)")
}

// README, "Testing your wiring".
func TestNotReadyTakesPodOutOfRotation(t *testing.T) {
	reg := newRegistry(t)
	mux := http.NewServeMux()
	require.NoError(t, reg.Mount(mux))
	healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
	reg.MarkNotReady("maintenance")
	healthtest.AssertStatus(t, mux, "/ready", http.StatusServiceUnavailable)
	healthtest.AssertStatus(t, mux, "/", http.StatusOK) // liveness is unaffected
}

// README, "Metrics" and prommetrics/README.md: the three-line set-up, on
// the default registry and mux as the README shows it. Those are global, so
// it runs once per process, whatever -count says.
func setUpPrometheus() *health.Registry {
	reg := health.New()
	prometheus.MustRegister(prommetrics.NewCollector(reg))
	http.Handle("GET /metrics", promhttp.Handler())
	return reg
}

var prometheusRegistry = sync.OnceValue(setUpPrometheus)

func TestPrometheusSetUp(t *testing.T) {
	reg := prometheusRegistry()
	if err := reg.Register(health.Readiness, "postgres", healthtest.Fixed(nil)); err != nil {
		require.ErrorIs(t, err, health.ErrInvalidName) // taken: a second run of the test
	}
	_, err := reg.Check(t.Context(), health.Readiness)
	require.NoError(t, err)
	srv := httptest.NewServer(http.DefaultServeMux)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// otelmetrics/README.md.
func setUpOTel(meterProvider *metric.MeterProvider) (func(), error) {
	reg := health.New()
	m, err := otelmetrics.New(reg, meterProvider) // nil: otel.GetMeterProvider()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return func() { _ = reg.Close() }, nil
}

func TestOTelSetUp(t *testing.T) {
	mp := metric.NewMeterProvider(metric.WithReader(metric.NewManualReader()))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	closeReg, err := setUpOTel(mp)
	require.NoError(t, err)
	closeReg()
}

// README, "gRPC".
func serveGRPCHealth(reg *health.Registry, grpcServer *grpc.Server, paymentsConn grpc.ClientConnInterface) (*grpchealth.Server, error) {
	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{}) // "", "liveness", "readiness", "startup", each check
	if err != nil {
		return nil, err
	}
	healthpb.RegisterHealthServer(grpcServer, hs) // google.golang.org/grpc/health/grpc_health_v1
	err = reg.Register(health.Readiness, "payments", grpchealth.Check(paymentsConn, "payments.v1.Payments"))
	return hs, err
}

func TestGRPCHealth(t *testing.T) {
	// The payments service, for the client check: a health server saying
	// SERVING for "payments.v1.Payments".
	upstream := health.New()
	t.Cleanup(func() { _ = upstream.Close() })
	ups, err := grpchealth.NewServer(upstream, grpchealth.Settings{Services: map[string]grpchealth.Target{
		"payments.v1.Payments": grpchealth.GroupTarget(health.Readiness),
	}})
	require.NoError(t, err)
	payments := serveGRPC(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, ups) })
	paymentsConn, err := grpc.NewClient(payments, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = paymentsConn.Close() })

	reg := health.New()
	t.Cleanup(func() { _ = reg.Close() })
	var hs *grpchealth.Server
	addr := serveGRPC(t, func(s *grpc.Server) {
		hs, err = serveGRPCHealth(reg, s, paymentsConn)
		require.NoError(t, err)
	})
	t.Cleanup(hs.Shutdown)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "payments"})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
}

// serveGRPC serves a gRPC server set up by register on a loopback port.
func serveGRPC(t *testing.T, register func(*grpc.Server)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer()
	register(s)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Stop()
		if err := <-done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}
