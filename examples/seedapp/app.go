package main

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/probekit/probekit/examples/internal/readyswitch"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/statuspage"
)

// maxGoroutines is far above what this app runs under any load it can
// take; a count past it means goroutines leak, which a restart cures.
const maxGoroutines = 10000

// reasonNotReady is why readiness fails until /make_ready is called.
const reasonNotReady = "waiting for /make_ready"

// app is the seed app's health registry and routes.
type app struct {
	reg     *health.Registry
	handler http.Handler
}

// newApp builds the registry and the routes:
//
//	/                 liveness: 200 while the process is healthy
//	/ready            readiness: 503 until /make_ready, and while draining
//	/make_ready       GET or POST: turn readiness on
//	/make_not_ready   GET or POST: turn readiness off
//	/statusz/         the status page, from the pod itself only
//
// plus /livez, /readyz, /startupz and the per-check paths of health.Mount.
func newApp(logger *slog.Logger) (*app, error) {
	reg := health.New(health.Options{Logger: logger, StartNotReady: reasonNotReady})
	// The page records from the start, so it is made before the checks.
	page := statuspage.New(reg, statuspage.Options{Authorize: fromThePod})
	// Liveness looks at the process only: a restart cures a goroutine
	// leak, and nothing outside the process can fail it.
	if err := reg.Register(health.Liveness, "goroutines", checks.Goroutines(maxGoroutines)); err != nil {
		return nil, errors.Join(err, reg.Close())
	}
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		return nil, errors.Join(err, reg.Close())
	}
	a := &app{reg: reg, handler: mux}
	mux.Handle("/make_ready", readyswitch.Handler(reg, true, "ready: /ready now answers 200"))
	mux.Handle("/make_not_ready", readyswitch.Handler(reg, false, "not ready: /ready now answers 503"))
	mux.Handle("/statusz/", http.StripPrefix("/statusz", page))
	return a, nil
}
