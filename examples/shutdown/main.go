// Command shutdown shows a graceful shutdown that loses no request.
//
// On SIGTERM (or Ctrl-C) it:
//
//  1. fails readiness at once, while liveness keeps passing (health.Registry.Drain);
//  2. keeps serving every request, in flight or new, for -drain-delay, the
//     time endpoint removal takes to reach every load balancer;
//  3. closes the listener and lets in-flight requests finish, for up to
//     -shutdown-timeout (http.Server.Shutdown), releasing long polls so
//     that they do not hold the shutdown up;
//  4. closes the health registry.
//
// Routes: "/" liveness, "/ready" readiness, "/work" a request that takes
// -work-time, "/watch" a long poll that ends when the server shuts down.
// With -probe-contract it prints its probe contract (probe-contract.json)
// instead of listening. See README.md for the Kubernetes timeline.
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
	"sync"
	"time"

	"github.com/probekit/probekit/examples/internal/cli"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/health"
)

func main() { cli.Main("shutdown", run) }

type config struct {
	addr            string
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	workTime        time.Duration
	printContract   bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := new(config)
	fs := flag.NewFlagSet("shutdown", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", ":8080", "`address` to listen on")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", 5*time.Second,
		"after SIGTERM, how long to keep serving with readiness failing, so that endpoints stop sending traffic first")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 10*time.Second,
		"after the drain delay, how long in-flight requests get to finish")
	fs.DurationVar(&cfg.workTime, "work-time", 20*time.Millisecond, "how long a request to /work takes")
	cli.ContractFlag(fs, &cfg.printContract)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if cfg.drainDelay < 0 || cfg.shutdownTimeout <= 0 || cfg.workTime < 0 {
		return nil, fmt.Errorf("durations must not be negative, and -shutdown-timeout must be positive")
	}
	return cfg, nil
}

// run serves until ctx is done, then shuts down gracefully. It prints
// "shutdown listening on ADDR" on stdout once the listener is open; the
// phases of the shutdown are logged on stderr. With -probe-contract it
// prints the probe contract instead of listening.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	reg := health.New(health.Options{Logger: logger})
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		return errors.Join(err, reg.Close())
	}
	mux.Handle("GET /work", work(cfg.workTime))
	mux.Handle("GET /watch", watch(srv))
	srv.Handler = mux
	if cfg.printContract { // no manifest, so no preStop
		return errors.Join(cli.PrintContract(stdout, reg, cli.Extra{
			HTTPPort: cli.ListenPort(cfg.addr),
			Shutdown: contract.Shutdown{Drain: contract.Duration(cfg.drainDelay), Timeout: contract.Duration(cfg.shutdownTimeout)},
		}), reg.Close())
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return errors.Join(err, reg.Close())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "shutdown listening on %s\n", ln.Addr())

	select {
	case err := <-served:
		return errors.Join(err, reg.Close())
	case <-ctx.Done():
	}
	return shutdown(srv, reg, served, cfg, logger)
}

// shutdown runs the sequence of the package comment. served delivers the
// result of srv.Serve.
func shutdown(srv *http.Server, reg *health.Registry, served <-chan error, cfg *config, logger *slog.Logger) error {
	// 1 and 2: out of rotation, still serving. Requests keep arriving
	// until every load balancer has seen the endpoint go.
	logger.Info("shutdown: failing readiness and draining", "delay", cfg.drainDelay)
	_ = reg.Drain(context.Background(), cfg.drainDelay)

	// 3: no new connections; in-flight requests finish.
	logger.Info("shutdown: closing the listener and finishing in-flight requests", "timeout", cfg.shutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		// Requests still running are cut off; say so, then close them.
		logger.Warn("shutdown: requests still in flight at the timeout; closing their connections")
		err = errors.Join(err, srv.Close())
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}

	// 4: stop background checks.
	err = errors.Join(err, reg.Close())
	logger.Info("shutdown: done", "error", err)
	return err
}

// work is a request that takes d, or less if the client goes away.
func work(d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "done\n")
	})
}

// watch is a long poll: it answers when the server begins to shut down (or
// after a minute, or when the client goes away). http.Server.Shutdown waits
// for requests to finish but does not tell them it is waiting; a long poll
// that is not told would hold the shutdown up until its timeout, and then
// be cut off. Told, it ends with a response, and the client reconnects,
// to another pod.
func watch(srv *http.Server) http.Handler {
	shuttingDown := make(chan struct{})
	srv.RegisterOnShutdown(sync.OnceFunc(func() { close(shuttingDown) }))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		event := "timeout"
		select {
		case <-shuttingDown:
			event = "shutdown"
			w.Header().Set("Connection", "close")
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, event+"\n")
	})
}
