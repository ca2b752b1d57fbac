package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/statuspage"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// The health package's defaults for a dependency check (CheckOptions.Timeout
// and BreakerSettings), which the flags start from so that the example runs
// as a service that sets nothing would. TestFlagDefaultsAreTheLibrarys
// compares them with what a registry reports (its contract).
const (
	defaultTimeout         = 500 * time.Millisecond
	defaultBreakerOpen     = 30 * time.Second
	defaultBreakerFailures = 3
	breakerJitter          = 0.2 // an open breaker's trial comes Open plus up to this fraction of it later
)

// config is what the flags set; the zero values of the durations and of
// failures take the defaults noted.
type config struct {
	addr          string        // listen address
	redisAddr     string        // host:port; empty: no Redis
	postgresDSN   string        // empty: no PostgreSQL
	interval      time.Duration // background check interval; 0: defaultInterval
	timeout       time.Duration // each check run and each application call; 0: defaultTimeout
	breakerOpen   time.Duration // 0: defaultBreakerOpen
	failures      int           // consecutive failures that open a breaker; 0: defaultBreakerFailures
	drain         time.Duration // readiness off before the listener closes on SIGTERM
	details       bool          // show failure reasons to loopback clients
	printContract bool          // print the probe contract instead of serving
	logger        *slog.Logger  // nil: discard
}

// defaultInterval is how often each dependency is checked in the background.
// Probes are then answered from the latest result, so the load on a
// dependency is one call per pod per interval, however many probers (kubelet,
// load balancer, monitoring) ask and however often. Ten seconds matches the
// kubelet's default readiness period, so a probe sees a result at most about
// one period old, and it makes 100 calls/s for a fleet of 1,000 pods
// (docs/fleet.md), cut to about 30 once breakers open.
const defaultInterval = 10 * time.Second

// defaultConnectTimeout bounds a new PostgreSQL connection. pgxpool keeps
// connecting in the background after the caller gives up (so that a
// cancelled Acquire does not waste a connection), for up to pgx's default
// ConnectTimeout of two minutes: against a blackholed server every pod would
// hold its pending connections that long.
const defaultConnectTimeout = 5 * time.Second

func (c *config) setDefaults() {
	if c.interval == 0 {
		c.interval = defaultInterval
	}
	if c.timeout == 0 {
		c.timeout = defaultTimeout
	}
	if c.breakerOpen == 0 {
		c.breakerOpen = defaultBreakerOpen
	}
	if c.failures == 0 {
		c.failures = defaultBreakerFailures
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
}

// server is the example service: its registry, its clients and the handler
// that serves both the health endpoints and the application endpoints.
type server struct {
	cfg     config
	log     *slog.Logger
	reg     *health.Registry
	rdb     *redis.Client // nil without -redis
	pool    *pgxpool.Pool // nil without -postgres
	handler http.Handler

	// Dials go-redis asked for while the breaker was open, refused here.
	dialsRefused atomic.Int64
}

// newServer builds the service without listening: the clients connect
// lazily, so the service starts (and reports not ready) while a dependency
// is down.
func newServer(cfg config) (_ *server, err error) {
	cfg.setDefaults()
	if cfg.failures < 1 {
		return nil, fmt.Errorf("breaker failures must be at least 1, got %d", cfg.failures)
	}
	opts := health.Options{Logger: cfg.logger}
	if cfg.details {
		opts.ShowDetails = fromLoopback
	}
	s := &server{cfg: cfg, log: cfg.logger, reg: health.New(opts)}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	// The status page records from the start, so it is made before the checks.
	page := statuspage.New(s.reg, statuspage.Options{Authorize: fromThePod})
	mux := http.NewServeMux()
	if err := s.reg.Mount(mux); err != nil {
		return nil, err
	}
	mux.Handle("GET /metrics", metricsHandler(s.reg))
	mux.Handle("/statusz/", http.StripPrefix("/statusz", page))

	if cfg.redisAddr != "" {
		s.rdb = redis.NewClient(&redis.Options{
			Addr: cfg.redisAddr,
			// Without this, go-redis ignores context deadlines and waits
			// for its own 5 s ReadTimeout: a check against a hung Redis
			// would outlive its timeout by seconds.
			ContextTimeoutEnabled: true,
			// The breaker is the retry policy across calls; retries and
			// redials inside one call would multiply the load on a Redis
			// that is struggling. One retry still covers a pooled
			// connection that went stale across a Redis restart.
			MaxRetries:    1,
			DialerRetries: 1,
			Dialer:        s.dialRedis,
		})
		if err := s.dependency("redis", func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }); err != nil {
			return nil, err
		}
		mux.Handle("POST /counter", s.counter())
	}
	if cfg.postgresDSN != "" {
		pc, err := pgxpool.ParseConfig(cfg.postgresDSN)
		if err != nil {
			return nil, fmt.Errorf("postgres DSN: %w", err)
		}
		if pc.ConnConfig.ConnectTimeout == 0 { // the DSN has no connect_timeout
			pc.ConnConfig.ConnectTimeout = defaultConnectTimeout
		}
		if s.pool, err = pgxpool.NewWithConfig(context.Background(), pc); err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if err := s.dependency("postgres", s.pool.Ping); err != nil {
			return nil, err
		}
		mux.Handle("GET /now", s.now())
	}
	s.handler = mux
	return s, nil
}

// dependency registers a readiness check of a dependency, run in the
// background behind its circuit breaker.
func (s *server) dependency(name string, check health.DependencyFunc) error {
	return s.reg.Register(health.Readiness, name, check, health.CheckOptions{
		Every:   s.cfg.interval,
		Timeout: s.cfg.timeout,
		Breaker: health.BreakerSettings{Failures: s.cfg.failures, Open: s.cfg.breakerOpen},
	})
}

// errDialBreakerOpen refuses a dial while the Redis breaker is open.
var errDialBreakerOpen = errors.New("redis circuit breaker open: not dialing")

// dialRedis dials Redis unless its breaker is open. After PoolSize failed
// dials, go-redis stops dialing for its callers and instead dials once a
// second in the background until one succeeds; left alone, that would call
// a dead Redis from every pod every second while the breaker is open. A
// trial call finds the breaker half-open, so it dials.
func (s *server) dialRedis(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.breakerState("redis") == gobreaker.StateOpen {
		s.dialsRefused.Add(1)
		return nil, errDialBreakerOpen
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// counter increments a Redis key through the breaker of the "redis" check:
// the readiness probe and real traffic share one view of Redis, so failing
// requests open the breaker that takes the pod out of rotation, and an open
// breaker spares Redis both the probes' calls and the requests'.
func (s *server) counter() http.Handler {
	b := s.mustBreaker("redis")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.timeout)
		defer cancel()
		var n int64
		err := b.Execute(func() (err error) {
			n, err = s.rdb.Incr(ctx, "probekit:counter").Result()
			return err
		})
		if err != nil {
			s.unavailable(w, r, "redis", err)
			return
		}
		writeText(w, http.StatusOK, strconv.FormatInt(n, 10)+"\n")
	})
}

// now asks PostgreSQL for the time, through the breaker of the "postgres"
// check (see counter).
func (s *server) now() http.Handler {
	b := s.mustBreaker("postgres")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.timeout)
		defer cancel()
		var t time.Time
		err := b.Execute(func() error { return s.pool.QueryRow(ctx, "SELECT now()").Scan(&t) })
		if err != nil {
			s.unavailable(w, r, "postgres", err)
			return
		}
		writeText(w, http.StatusOK, t.UTC().Format(time.RFC3339Nano)+"\n")
	})
}

// breakerState returns the state of the breaker of the dependency check
// name (closed if there is none yet), an open breaker whose trial is due
// counting as half-open: the next call through it is the trial.
func (s *server) breakerState(name string) gobreaker.State {
	for _, c := range s.reg.Latest(health.Readiness).Checks {
		if c.Name == name && c.Breaker != nil {
			if c.Breaker.State == gobreaker.StateOpen && !time.Now().Before(c.Breaker.NextTrial) {
				return gobreaker.StateHalfOpen
			}
			return c.Breaker.State
		}
	}
	return gobreaker.StateClosed
}

func (s *server) mustBreaker(name string) *health.Breaker {
	b, err := s.reg.Breaker(name)
	if err != nil {
		panic(err) // registered just above: a bug here, not a runtime condition
	}
	return b
}

// unavailable answers 503. A call refused by an open breaker is not logged:
// the breaker's opening was, and a log line per refused request would flood
// the log during an outage. Errors stay in the log, never in the response.
func (s *server) unavailable(w http.ResponseWriter, r *http.Request, dep string, err error) {
	open := errors.Is(err, health.ErrBreakerOpen)
	msg := dep + " unavailable\n"
	if open {
		msg = dep + " unavailable (circuit breaker open)\n"
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(s.cfg.breakerOpen.Round(time.Second)/time.Second))))
	} else if !errors.Is(err, context.Canceled) {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "dependency call failed",
			slog.String("dependency", dep), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	writeText(w, http.StatusServiceUnavailable, msg)
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// fromLoopback allows failure reasons in health responses to requests from
// the pod itself (kubectl exec, a sidecar), never to the network.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close stops the background checks, then closes the clients. It is safe
// to call on a partly built server.
func (s *server) Close() error {
	err := s.reg.Close()
	if s.rdb != nil {
		err = errors.Join(err, s.rdb.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}
