package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/probekit/probekit/examples/internal/readyswitch"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
)

// maxGoroutines is far above what this app runs under any load it can
// take; a count past it means goroutines leak, which a restart cures.
const maxGoroutines = 10000

// reasonNotReady is why readiness fails until /make_ready is called.
const reasonNotReady = "waiting for /make_ready"

// app is the example's health registry, served over gRPC and HTTP.
type app struct {
	reg      *health.Registry
	health   *grpchealth.Server
	grpc     *grpc.Server
	http     http.Handler
	upstream *grpc.ClientConn // nil without -upstream
}

// newApp builds the registry, its gRPC health service beside the greeter,
// and the HTTP routes:
//
//	gRPC  grpc.health.v1.Health      "" and "readiness": readiness;
//	                                 "liveness", "startup"; "goroutines",
//	                                 "upstream"; probekit.examples.Greeter:
//	                                 readiness
//	      probekit.examples.Greeter  Hello
//	HTTP  /, /ready, /livez, /readyz, /startupz and the per-check paths
//	      /make_ready, /make_not_ready (GET or POST): flip readiness
//
// With cfg.upstream set, readiness also depends on that gRPC server's
// health (service cfg.upstreamService), behind a circuit breaker.
func newApp(logger *slog.Logger, cfg *config) (a *app, err error) {
	reg := health.New(health.Options{Logger: logger, StartNotReady: reasonNotReady})
	a = &app{reg: reg}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.close())
		}
	}()
	// Liveness looks at the process only: a restart cures a goroutine
	// leak, and nothing outside the process can fail it.
	if err := reg.Register(health.Liveness, "goroutines", checks.Goroutines(maxGoroutines)); err != nil {
		return a, err
	}
	if cfg.upstream != "" {
		a.upstream, err = grpc.NewClient(cfg.upstream, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return a, fmt.Errorf("-upstream: %w", err)
		}
		err = reg.Register(health.Readiness, "upstream", grpchealth.Check(a.upstream, cfg.upstreamService), // a dependency
			health.CheckOptions{Timeout: cfg.upstreamTimeout})
		if err != nil {
			return a, err
		}
	}

	services := grpchealth.DefaultServices()
	services[greeterService] = grpchealth.GroupTarget(health.Readiness)
	a.health, err = grpchealth.NewServer(reg, grpchealth.Settings{Services: services})
	if err != nil {
		return a, err
	}
	a.grpc = grpc.NewServer()
	healthpb.RegisterHealthServer(a.grpc, a.health)
	a.grpc.RegisterService(&greeterDesc, greeter{})

	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		return a, err
	}
	mux.Handle("/make_ready", readyswitch.Handler(reg, true, "ready: readiness is SERVING over gRPC and 200 over HTTP"))
	mux.Handle("/make_not_ready", readyswitch.Handler(reg, false, "not ready: readiness is NOT_SERVING over gRPC and 503 over HTTP"))
	a.http = mux
	return a, nil
}

// close closes the registry and the upstream connection.
func (a *app) close() error {
	err := a.reg.Close()
	if a.upstream != nil {
		err = errors.Join(err, a.upstream.Close())
	}
	return err
}

// stopGRPC ends the health service's Watch streams and stops the gRPC
// server gracefully, letting in-flight calls finish for up to timeout, then
// forcibly. It reports whether the graceful stop finished in time.
func (a *app) stopGRPC(timeout time.Duration) bool {
	a.health.Shutdown() // else a watching client holds GracefulStop forever
	done := make(chan struct{})
	go func() {
		a.grpc.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		a.grpc.Stop() // ends the rest, and with it GracefulStop
		<-done
		return false
	}
}
