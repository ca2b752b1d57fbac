// Command seedapp is the Go version of the Flask app of the Kubernetes probe
// tutorial probekit started from: liveness at "/", readiness at "/ready",
// and two endpoints that flip readiness by hand. It starts not ready, so that
// the readiness probe can be watched failing, and unlike the Flask original
// its not-ready answer really is a 503.
//
//	go run ./examples/seedapp              # serves on :5000
//	go run ./examples/seedapp -addr 127.0.0.1:8080
//	go run ./examples/seedapp -probe-contract  # prints probe-contract.json
//
// On SIGTERM it fails readiness at once, keeps serving for -drain-delay while
// endpoints are updated, then shuts the server down (see examples/shutdown).
// See README.md for the Docker image and the Kubernetes walk-through.
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
	"time"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/examples/internal/cli"
)

func main() { cli.Main("seedapp", run) }

// config is what the flags set.
type config struct {
	addr            string
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	printContract   bool
}

// Flag defaults. deployment.yaml repeats them in the container's args and
// budgets terminationGracePeriodSeconds from them; its test checks both.
const (
	defaultAddr            = ":5000"
	defaultDrainDelay      = 5 * time.Second
	defaultShutdownTimeout = 10 * time.Second
)

// preStop is the preStop sleep of deployment.yaml, which the probe contract
// declares with the drain delay and the shutdown timeout.
const preStop = 10 * time.Second

func newFlags(stderr io.Writer) (*flag.FlagSet, *config) {
	cfg := new(config)
	fs := flag.NewFlagSet("seedapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", defaultAddr, "`address` to listen on")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", defaultDrainDelay,
		"after SIGTERM, how long to keep serving with readiness failing, so that endpoints stop sending traffic first")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout,
		"after the drain delay, how long in-flight requests get to finish")
	cli.ContractFlag(fs, &cfg.printContract)
	return fs, cfg
}

// run serves until ctx is done, then drains and shuts down. It prints
// "seedapp listening on ADDR" on stdout once the listener is open, and logs
// on stderr. With -probe-contract it prints the probe contract instead of
// listening.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg := newFlags(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	a, err := newApp(logger)
	if err != nil {
		return err
	}
	if cfg.printContract {
		return errors.Join(cli.PrintContract(stdout, a.reg, cli.Extra{
			HTTPPort: cli.ListenPort(cfg.addr),
			Shutdown: contract.Shutdown{
				PreStop: contract.Duration(preStop),
				Drain:   contract.Duration(cfg.drainDelay),
				Timeout: contract.Duration(cfg.shutdownTimeout),
			},
		}), a.reg.Close())
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return errors.Join(err, a.reg.Close())
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "seedapp listening on %s\n", ln.Addr())

	select {
	case err := <-served: // the listener failed
		return errors.Join(err, a.reg.Close())
	case <-ctx.Done():
	}
	logger.Info("shutdown: failing readiness and draining", "delay", cfg.drainDelay)
	_ = a.reg.Drain(context.Background(), cfg.drainDelay)
	logger.Info("shutdown: closing the listener and finishing in-flight requests", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	err = errors.Join(err, a.reg.Close())
	logger.Info("shutdown: done", "error", err)
	return err
}
