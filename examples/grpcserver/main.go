// Command grpcserver is a gRPC service whose health is served over gRPC
// (grpc.health.v1, for the kubelet's grpc: probes, load balancers and
// gRPC clients' health checking) and over HTTP (for everything else) from
// one health registry, so that the two never disagree.
//
//	go run ./examples/grpcserver                  # gRPC on :9090, HTTP on :8080
//	go run ./examples/grpcserver -upstream 127.0.0.1:9091 -upstream-service readiness
//
// Like the seed app it starts not ready: readiness is NOT_SERVING (503)
// until GET or POST /make_ready, and /make_not_ready turns it off again.
// With -upstream, readiness also depends on another gRPC server's health,
// behind a circuit breaker.
//
// On SIGTERM:
//
//  1. readiness fails at once, over gRPC and HTTP alike (Watch streams
//     hear NOT_SERVING), while both servers keep serving for -drain-delay,
//     the time endpoint removal takes to reach every client;
//  2. the health service ends its Watch streams, and the gRPC server stops
//     gracefully while the HTTP server shuts down, both finishing
//     in-flight calls for up to -shutdown-timeout (then the gRPC server is
//     stopped forcibly);
//  3. the health registry closes.
//
// Without step 2's ending of the Watch streams, a client watching health
// would hold GracefulStop until -shutdown-timeout every time (grpc-go
// issues #8776, #8882). See deployment.yaml for the Kubernetes side, and
// probe-contract.json (-probe-contract) for what its probes may rely on.
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
)

func main() { cli.Main("grpcserver", run) }

// config is what the flags set.
type config struct {
	grpcAddr, httpAddr string
	drainDelay         time.Duration
	shutdownTimeout    time.Duration
	upstream           string
	upstreamService    string
	upstreamTimeout    time.Duration
	printContract      bool
}

// Flag defaults. deployment.yaml repeats them in the container's args and
// budgets terminationGracePeriodSeconds from them; examples/manifests
// checks both.
const (
	defaultGRPCAddr        = ":9090"
	defaultHTTPAddr        = ":8080"
	defaultDrainDelay      = 5 * time.Second
	defaultShutdownTimeout = 10 * time.Second
	defaultUpstreamTimeout = time.Second
)

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := new(config)
	fs := flag.NewFlagSet("grpcserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.grpcAddr, "grpc-addr", defaultGRPCAddr, "`address` of the gRPC server (the greeter and grpc.health.v1)")
	fs.StringVar(&cfg.httpAddr, "http-addr", defaultHTTPAddr, "`address` of the HTTP probes and /make_ready, /make_not_ready")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", defaultDrainDelay,
		"after SIGTERM, how long to keep serving with readiness failing, so that clients stop sending traffic first")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout,
		"after the drain delay, how long in-flight calls and requests get to finish")
	fs.StringVar(&cfg.upstream, "upstream", "", "gRPC `target` whose health readiness depends on (none if empty)")
	fs.StringVar(&cfg.upstreamService, "upstream-service", "", "service `name` to ask -upstream about (\"\": the server as a whole)")
	fs.DurationVar(&cfg.upstreamTimeout, "upstream-timeout", defaultUpstreamTimeout,
		"timeout of each health check of -upstream (0: the health package's default, 500ms)")
	cli.ContractFlag(fs, &cfg.printContract)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if cfg.drainDelay < 0 || cfg.shutdownTimeout < 0 {
		return nil, errors.New("-drain-delay and -shutdown-timeout must not be negative")
	}
	return cfg, nil
}

// run serves until ctx is done, then drains and shuts down. It prints
// "grpcserver: http listening on ADDR" and then "grpcserver: grpc listening
// on ADDR" on stdout once both listeners are open, and logs on stderr. With
// -probe-contract it prints the probe contract instead of listening.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := newApp(logger, cfg)
	if err != nil {
		return err
	}
	if cfg.printContract {
		return printContract(stdout, a, cfg)
	}
	httpLn, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return errors.Join(err, a.close())
	}
	grpcLn, err := net.Listen("tcp", cfg.grpcAddr)
	if err != nil {
		return errors.Join(err, httpLn.Close(), a.close())
	}
	httpSrv := &http.Server{Handler: a.http, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
	httpServed, grpcServed := make(chan error, 1), make(chan error, 1)
	go func() { httpServed <- httpSrv.Serve(httpLn) }()
	go func() { grpcServed <- a.grpc.Serve(grpcLn) }()
	fmt.Fprintf(stdout, "grpcserver: http listening on %s\n", httpLn.Addr())
	fmt.Fprintf(stdout, "grpcserver: grpc listening on %s\n", grpcLn.Addr())

	var failed error
	select {
	case failed = <-httpServed:
		httpServed <- failed
	case failed = <-grpcServed:
		grpcServed <- failed
	case <-ctx.Done():
		logger.Info("shutdown: failing readiness and draining", "delay", cfg.drainDelay)
		_ = a.reg.Drain(context.Background(), cfg.drainDelay)
	}

	logger.Info("shutdown: ending health watches, stopping the servers", "timeout", cfg.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var graceful bool
	wg.Go(func() { graceful = a.stopGRPC(cfg.shutdownTimeout) })
	err = errors.Join(failed, httpSrv.Shutdown(sctx))
	wg.Wait()
	logger.Info("shutdown: gRPC server stopped", "graceful", graceful)
	if serr := <-httpServed; !errors.Is(serr, http.ErrServerClosed) && serr != failed {
		err = errors.Join(err, serr)
	}
	if serr := <-grpcServed; serr != failed {
		err = errors.Join(err, serr)
	}
	err = errors.Join(err, a.close())
	logger.Info("shutdown: done", "error", err)
	return err
}
