package grpcbench_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	gohealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/benchmarks/internal/discard"
	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// Modes of the registry's checks, as in the HTTP benchmarks: background
// checks (CheckOptions.Every) are read from their latest results, checks
// that run on request are run by every probe.
const (
	background = "background"
	onRequest  = "on-request"
)

// registry is a readiness group of n instant checks named check-00, ...,
// in mode, all passing, closed when b ends; runs counts their runs.
func registry(tb testing.TB, n int, mode string) (reg *health.Registry, runs *atomic.Int64) {
	tb.Helper()
	reg = health.New()
	tb.Cleanup(func() { _ = reg.Close() })
	runs = new(atomic.Int64)
	var opts health.CheckOptions
	if mode == background {
		opts.Every = 10 * time.Second
	}
	for i := range n {
		check := health.CheckFunc(func(context.Context) error { runs.Add(1); return nil })
		if err := reg.Register(health.Readiness, checkName(i), check, opts); err != nil {
			tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthtest.Wait(ctx, reg, health.Readiness, health.StatusPass); err != nil {
		tb.Fatal(err)
	}
	return reg, runs
}

func checkName(i int) string { return fmt.Sprintf("check-%02d", i) }

// grpcGo is grpc-go's health server with names set SERVING, as an
// application that copies its readiness into it by hand would.
func grpcGo(names ...string) *gohealth.Server {
	s := gohealth.NewServer()
	for _, name := range names {
		s.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	return s
}

// probekit is grpchealth's server for reg, with default settings.
func probekit(tb testing.TB, reg *health.Registry) *grpchealth.Server {
	tb.Helper()
	s, err := grpchealth.NewServer(reg, grpchealth.Settings{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Shutdown)
	return s
}

// checker is a Check method: grpc-go's, probekit's, or probekit's HTTP
// handler dressed as one.
type checker func(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error)

// httpChecker calls reg's readiness handler in-process with an
// allocation-free ResponseWriter (a group name, "") or the per-check
// route of Routes (a check's name), and answers as a Check would: SERVING
// for 200, NOT_SERVING otherwise. The response it returns is shared: it
// costs the handler nothing.
func httpChecker(tb testing.TB, reg *health.Registry) checker {
	tb.Helper()
	routes, err := reg.Routes()
	if err != nil {
		tb.Fatal(err)
	}
	var group, perCheck http.Handler
	for _, rt := range routes {
		switch {
		case rt.Path == "/readyz":
			group = rt.Handler
		case rt.Path == "/readyz/" && rt.PerCheck:
			perCheck = rt.Handler
		}
	}
	if group == nil || perCheck == nil {
		tb.Fatalf("no /readyz routes in %v", routes)
	}
	w := discard.New()
	reqs := make(map[string]*http.Request)
	serving := &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}
	notServing := &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_NOT_SERVING}
	return func(_ context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
		h, req := group, reqs[in.Service]
		if in.Service != "" {
			h = perCheck
		}
		if req == nil {
			req = httptest.NewRequest(http.MethodGet, "/readyz/"+in.Service, nil)
			reqs[in.Service] = req
		}
		w.Reset()
		h.ServeHTTP(w, req)
		if w.Code() == http.StatusOK && w.Len() > 0 {
			return serving, nil
		}
		return notServing, nil
	}
}

// registryChecker answers from health.Registry.Check, building a whole
// report for one status: what grpchealth's Check did before it kept a
// view of the registry.
func registryChecker(reg *health.Registry) checker {
	return func(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
		var names []string
		if in.Service != "" {
			names = []string{in.Service}
		}
		rep, err := reg.Check(ctx, health.Readiness, names...)
		if err != nil {
			return nil, err
		}
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if rep.Status != health.StatusFail {
			st = healthpb.HealthCheckResponse_SERVING
		}
		return &healthpb.HealthCheckResponse{Status: st}, nil
	}
}

// latestChecker answers from health.Registry.Latest, the one public
// source of a group's status that runs nothing: what a background-only
// Check costs without a status kept between changes.
func latestChecker(reg *health.Registry) checker {
	return func(_ context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
		rep := reg.Latest(health.Readiness)
		status := rep.Status
		if in.Service != "" {
			status = health.StatusUnknown
			for _, c := range rep.Checks {
				if c.Name == in.Service {
					status = c.Status
				}
			}
		}
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if status == health.StatusPass || status == health.StatusWarn {
			st = healthpb.HealthCheckResponse_SERVING
		}
		return &healthpb.HealthCheckResponse{Status: st}, nil
	}
}
