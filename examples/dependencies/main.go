// Command dependencies is a small service whose readiness depends on Redis
// and PostgreSQL, each checked in the background behind a circuit breaker,
// and whose application endpoints call them through the same breakers:
//
//	go run ./examples/dependencies -redis 127.0.0.1:6379 \
//	    -postgres postgres://postgres@127.0.0.1:5432/postgres
//
// Liveness is at /, readiness at /ready (and /readyz, /readyz/redis, ...),
// Prometheus metrics at /metrics (package prommetrics: checks, groups and
// breakers, recorded as checks run, so a scrape calls no dependency),
// POST /counter increments a Redis key and GET /now asks PostgreSQL for the
// time. It logs JSON to stderr, and on SIGTERM or SIGINT turns readiness off,
// waits -drain, finishes in-flight requests and exits. With -probe-contract
// it prints its probe contract instead of listening. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/examples/internal/cli"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag package has printed the error and the usage
	}
	cfg.logger = logger
	redis.SetLogger(redisLogger{logger})
	if cfg.printContract {
		if err := printContract(os.Stdout, cfg); err != nil {
			logger.Error("exiting", "error", err.Error())
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		logger.Error("exiting", "error", err.Error())
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("dependencies", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", ":8080", "listen `address`; with port 0, the chosen one is logged")
	fs.StringVar(&c.redisAddr, "redis", "", "Redis `host:port`; empty: no Redis")
	fs.StringVar(&c.postgresDSN, "postgres", "", "PostgreSQL `DSN`; empty: no PostgreSQL")
	fs.DurationVar(&c.interval, "interval", defaultInterval, "how often each dependency is checked in the background")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "timeout of each check and of each application call to a dependency")
	fs.DurationVar(&c.breakerOpen, "breaker-open", defaultBreakerOpen,
		fmt.Sprintf("how long an open breaker spares a dependency before a trial call (plus up to %.0f%%)", breakerJitter*100))
	fs.IntVar(&c.failures, "breaker-failures", defaultBreakerFailures, "consecutive failures that open a breaker")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "on SIGTERM, how long readiness fails before the listener closes")
	fs.BoolVar(&c.details, "details", false, "show failure reasons in health responses to loopback clients (which include kubectl port-forward)")
	cli.ContractFlag(fs, &c.printContract)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", fs.Args())
		fmt.Fprintln(out, err)
		fs.Usage()
		return config{}, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", c.interval}, {"timeout", c.timeout}, {"breaker-open", c.breakerOpen}} {
		if d.v <= 0 {
			err := fmt.Errorf("-%s must be positive, got %v", d.name, d.v)
			fmt.Fprintln(out, err)
			return config{}, err
		}
	}
	if c.failures < 1 {
		err := fmt.Errorf("-breaker-failures must be at least 1, got %d", c.failures)
		fmt.Fprintln(out, err)
		return config{}, err
	}
	return c, nil
}

// run serves until ctx is done, then shuts down gracefully: readiness off
// (reg.Drain) while requests are still served, then the listener closes and
// in-flight requests finish (srv.Shutdown), then the checks stop and the
// clients close.
func run(ctx context.Context, cfg config) error {
	s, err := newServer(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return errors.Join(err, s.Close())
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "redis", cfg.redisAddr != "", "postgres", cfg.postgresDSN != "",
		"interval", s.cfg.interval.String(), "timeout", s.cfg.timeout.String(),
		"breaker_open", s.cfg.breakerOpen.String(), "breaker_failures", s.cfg.failures)

	select {
	case err := <-served: // the listener failed
		return errors.Join(err, s.Close())
	case <-ctx.Done():
	}
	s.log.Info("shutting down: readiness off", "drain", cfg.drain.String())
	_ = s.reg.Drain(context.Background(), cfg.drain)
	s.log.Info("draining done: closing the listener")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	err = errors.Join(err, s.Close())
	s.log.Info("stopped")
	return err
}

// shutdownTimeout is how long in-flight requests get to finish once the
// drain is over.
const shutdownTimeout = 10 * time.Second

// printContract builds the service as run would, prints its probe contract
// and closes it, without listening. The clients connect lazily, but the
// background checks make their first calls at once.
func printContract(w io.Writer, cfg config) error {
	s, err := newServer(cfg)
	if err != nil {
		return err
	}
	return errors.Join(cli.PrintContract(w, s.reg, cli.Extra{
		HTTPPort: cli.ListenPort(cfg.addr),
		// No manifest, so no preStop.
		Shutdown: contract.Shutdown{Drain: contract.Duration(cfg.drain), Timeout: contract.Duration(shutdownTimeout)},
	}), s.Close())
}

// redisLogger sends go-redis's own messages (failed dials, pool events) to
// the service's JSON log instead of a plain line on stderr.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.LogAttrs(ctx, slog.LevelWarn, "go-redis", slog.String("message", fmt.Sprintf(format, v...)))
}
