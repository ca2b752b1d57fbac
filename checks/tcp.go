package checks

import (
	"context"
	"net"
	"strings"

	"github.com/probekit/probekit/health"
)

// TCP returns a check that passes when a TCP connection to addr ("host:port"
// or "[ipv6]:port"; an empty host means the local system) can be opened
// before the check's context is done. The connection is closed at once;
// nothing is written to it. The check observes the time the connection took
// to open, in milliseconds.
//
// TCP is a dependency check, a health.DependencyFunc: readiness only
// (Register refuses it elsewhere with health.ErrDependencyGroup), behind a
// circuit breaker. An address that is empty or not of the form host:port is
// a misconfiguration: Register refuses the check with an error matching
// health.ErrMisconfigured and starting "checks: TCP:".
func TCP(addr string) health.Checker {
	if err := validHostPort(addr); err != "" {
		return misconfigured("TCP", "%s", err)
	}
	var d net.Dialer
	return health.DependencyFunc(func(ctx context.Context) error {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return wrap("TCP", "", err)
		}
		conn.Close() // a failed close says nothing about the peer
		return nil
	})
}

// validHostPort returns why addr is not a usable host:port, or "". It never
// quotes addr when addr might hold a credential (a pasted URL).
func validHostPort(addr string) string {
	switch {
	case addr == "":
		return "empty address"
	case strings.Contains(addr, "://") || strings.Contains(addr, "@"):
		return "address must be host:port, not a URL"
	}
	if _, port, err := net.SplitHostPort(addr); err != nil {
		return "address " + quote(addr) + " must be host:port"
	} else if port == "" {
		return "address " + quote(addr) + " has an empty port"
	}
	return ""
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }
