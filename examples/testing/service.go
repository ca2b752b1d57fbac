// Package testingexample is a small service whose tests show how to test a
// service's health wiring with probekit: toggling readiness and liveness
// from a test and asserting on the HTTP answer (health/healthtest), waiting
// for a background check to settle without sleeping (WaitStatus), standing
// in for a dependency with a check the test controls (healthtest.Switch),
// and waiting for a real server to become ready (probe.WaitReady).
//
// The service itself: a readiness check of its database (a dependency, run
// on request behind a circuit breaker), a background readiness check that
// its cache has been loaded, and a process-local liveness check.
package testingexample

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// Options configures a Service.
type Options struct {
	// DB checks the database, another process: a dependency check, such
	// as checks.SQL(db) in production and, in tests, a
	// health.DependencyFunc the test controls. Nil means the service has no
	// database.
	DB health.Checker
	// CacheCheckEvery is how often the background cache check runs; zero
	// means every second. Tests make it short so that WaitStatus returns
	// quickly; they never need to sleep for it.
	CacheCheckEvery time.Duration
}

// ErrCacheCold is the cache check's error until WarmCache is called.
var ErrCacheCold = errors.New("cache not loaded yet")

// Service is the example service. Its Health registry is exported so that
// tests (and an admin endpoint) can toggle it.
type Service struct {
	Health  *health.Registry
	handler http.Handler
	warm    atomic.Bool
}

// New builds the service. Close it when done.
func New(opts Options) (*Service, error) {
	every := opts.CacheCheckEvery
	if every == 0 {
		every = time.Second
	}
	s := &Service{Health: health.New()}
	reg := s.Health
	err := errors.Join(
		reg.Register(health.Liveness, "goroutines", checks.Goroutines(10000)),
		reg.Register(health.Readiness, "cache", health.CheckFunc(s.cacheLoaded), health.CheckOptions{Every: every}),
	)
	if opts.DB != nil {
		err = errors.Join(err, reg.Register(health.Readiness, "db", opts.DB))
	}
	mux := http.NewServeMux()
	err = errors.Join(err, reg.Mount(mux))
	if err != nil {
		return nil, errors.Join(err, reg.Close())
	}
	mux.HandleFunc("GET /items", s.items)
	s.handler = mux
	return s, nil
}

// Handler returns the service's routes: /items, and the health endpoints
// of health.Registry.Mount.
func (s *Service) Handler() http.Handler { return s.handler }

// WarmCache records that the cache is loaded; the background cache check
// notices at its next run.
func (s *Service) WarmCache() { s.warm.Store(true) }

// Close stops the background checks.
func (s *Service) Close() error { return s.Health.Close() }

func (s *Service) cacheLoaded(context.Context) error {
	if !s.warm.Load() {
		return ErrCacheCold
	}
	return nil
}

func (s *Service) items(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`["apple","pear"]` + "\n"))
}
