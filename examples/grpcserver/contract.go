package main

import (
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/examples/internal/cli"
)

// preStop is the preStop sleep of deployment.yaml, which the probe contract
// declares with the drain delay and the shutdown timeout.
const preStop = 10 * time.Second

// printContract prints the probe contract of a, built from cfg, and closes a:
// the registry's, with the HTTP port, the gRPC health server's names on
// the port of -grpc-addr, and the shutdown budget.
func printContract(w io.Writer, a *app, cfg *config) error {
	g := a.health.Contract(listenPort(cfg.grpcAddr))
	return errors.Join(cli.PrintContract(w, a.reg, cli.Extra{
		HTTPPort: cli.ListenPort(cfg.httpAddr),
		GRPC:     &g,
		Shutdown: contract.Shutdown{
			PreStop: contract.Duration(preStop),
			Drain:   contract.Duration(cfg.drainDelay),
			Timeout: contract.Duration(cfg.shutdownTimeout),
		},
	}), a.close())
}

// listenPort is the port number of a listen address such as ":9090"; zero
// if it has none or it is 0 (any free port, which no manifest can name).
func listenPort(addr string) int {
	n, _ := strconv.Atoi(cli.ListenPort(addr))
	return n
}
