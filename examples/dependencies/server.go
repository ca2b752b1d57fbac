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
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// config is what the flags set; the zero values of the durations and of
// failures take the defaults noted.
type config struct {
	addr        string        // listen address
	redisAddr   string        // host:port; empty: no Redis
	postgresDSN string        // empty: no PostgreSQL
	interval    time.Duration // background check interval; 0: defaultInterval
	timeout     time.Duration // each check run and each application call; 0: health.DefaultTimeout
	breakerOpen time.Duration // 0: health.DefaultBreakerOpen
	failures    int           // consecutive failures that open a breaker; 0: health.DefaultBreakerFailures
	drain       time.Duration // readiness off before the listener closes on SIGTERM
	details     bool          // show failure reasons to loopback clients
	logger      *slog.Logger  // nil: discard
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
		c.timeout = health.DefaultTimeout
	}
	if c.breakerOpen == 0 {
		c.breakerOpen = health.DefaultBreakerOpen
	}
	if c.failures == 0 {
		c.failures = health.DefaultBreakerFailures
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

	redisBreaker atomic.Pointer[health.Breaker] // set once the check is registered
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
	opts := []health.Option{health.WithLogger(cfg.logger)}
	if cfg.details {
		opts = append(opts, health.ShowDetails(fromLoopback))
	}
	s := &server{cfg: cfg, log: cfg.logger, reg: health.New(opts...)}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	mux := http.NewServeMux()
	if err := s.reg.Mount(mux); err != nil {
		return nil, err
	}
	mux.Handle("GET /metrics", metricsHandler(s.reg))

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
		s.redisBreaker.Store(s.mustBreaker("redis"))
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
func (s *server) dependency(name string, check health.CheckFunc) error {
	failures := uint32(s.cfg.failures)
	return s.reg.Register(health.Readiness, name, check,
		health.Dependency(),
		health.Every(s.cfg.interval),
		health.Timeout(s.cfg.timeout),
		health.WithBreaker(gobreaker.Settings{
			Timeout:     s.cfg.breakerOpen,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		}))
}

// errDialBreakerOpen refuses a dial while the Redis breaker is open.
var errDialBreakerOpen = errors.New("redis circuit breaker open: not dialing")

// dialRedis dials Redis unless its breaker is open. After PoolSize failed
// dials, go-redis stops dialing for its callers and instead dials once a
// second in the background until one succeeds; left alone, that would call
// a dead Redis from every pod every second while the breaker is open. A
// trial call finds the breaker half-open, so it dials.
func (s *server) dialRedis(ctx context.Context, network, addr string) (net.Conn, error) {
	if b := s.redisBreaker.Load(); b != nil && b.State() == gobreaker.StateOpen {
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
		n, err := health.Call(b, func() (int64, error) { return s.rdb.Incr(ctx, "probekit:counter").Result() })
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
		t, err := health.Call(b, func() (time.Time, error) {
			var t time.Time
			err := s.pool.QueryRow(ctx, "SELECT now()").Scan(&t)
			return t, err
		})
		if err != nil {
			s.unavailable(w, r, "postgres", err)
			return
		}
		writeText(w, http.StatusOK, t.UTC().Format(time.RFC3339Nano)+"\n")
	})
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
	open := errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
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
