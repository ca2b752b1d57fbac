package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/health"
)

// ContractFlag defines the -probe-contract flag on fs, which every example
// program has (issue 17.2), storing its value in p. A program given it
// builds its registry and routes as it always does, prints them with
// PrintContract instead of listening, and exits 0.
func ContractFlag(fs *flag.FlagSet, p *bool) {
	fs.BoolVar(p, "probe-contract", false,
		"print the probe contract (health routes, checks, ports, shutdown budget) as JSON on stdout and exit without listening")
}

// Extra is what a program adds to its registry's contract: what only the
// program knows.
type Extra struct {
	// HTTPPort is the container port the registry's routes are served on,
	// a number or a name, as the program's manifest uses it (ListenPort
	// gives the number of a listen address).
	HTTPPort string
	// GRPC lists the gRPC health service names, nil if the program serves
	// none.
	GRPC *contract.GRPC
	// Shutdown is the program's shutdown budget: its manifest's preStop,
	// its drain delay and its shutdown timeout.
	Shutdown contract.Shutdown
}

// PrintContract writes reg's contract (reg.Contract, after Mount) with
// extra's additions to w as indented JSON followed by a newline, the form
// the examples commit as probe-contract.json. It returns an error, and
// writes nothing, if the result does not validate or reg has no HTTP routes
// while extra names an HTTP port.
func PrintContract(w io.Writer, reg *health.Registry, extra Extra) error {
	c := reg.Contract()
	if extra.HTTPPort != "" {
		if c.HTTP == nil {
			return fmt.Errorf("probe contract: HTTP port %s declared, but no route is mounted", extra.HTTPPort)
		}
		c.HTTP.Port = extra.HTTPPort
	}
	c.GRPC = extra.GRPC
	c.Shutdown = extra.Shutdown
	if err := c.Validate(); err != nil {
		return fmt.Errorf("probe contract: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("probe contract: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ListenPort returns the port of a listen address such as ":8080" or
// "127.0.0.1:8080" ("8080"), for Extra.HTTPPort: the number the program's
// container port must have. It returns "" for port 0 (any free port, which
// no manifest can name) and for an address without a port.
func ListenPort(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" {
		return ""
	}
	return port
}
