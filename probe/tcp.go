package probe

import (
	"context"
	"net"
	"time"

	"github.com/probekit/probekit/internal/httpprobe"
)

// TCPSocket probes by opening a TCP connection, as a Kubernetes tcpSocket
// probe does: a connection established within the timeout is a Success and
// is closed at once; anything else is a Failure. Nothing is sent, so a
// server that accepts and then misbehaves still passes. Its zero value is
// not usable: Addr is required.
type TCPSocket struct {
	// Addr is "host:port", as for net.Dial; an empty host means the local
	// system. A host name is resolved within the timeout, and a failure to
	// resolve it is a Failure.
	Addr string
}

// Probe implements [Action].
func (s TCPSocket) Probe(ctx context.Context, timeout time.Duration) (Outcome, error) {
	timeout, err := resolveTimeout(timeout)
	if err != nil {
		return Outcome{}, err
	}
	_, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return Outcome{}, invalidf("TCPSocket.Addr %q: %v", s.Addr, err)
	}
	if port == "" {
		return Outcome{}, invalidf("TCPSocket.Addr %q has no port", s.Addr)
	}

	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := httpprobe.Dial(dctx, "tcp", s.Addr)
	if err != nil {
		if ended(ctx) {
			return canceled(ctx)
		}
		return Outcome{Result: Failure, Message: err.Error()}, nil
	}
	// A close error says nothing about the target's health; the kubelet
	// only logs it.
	_ = conn.Close()
	return Outcome{Result: Success, Message: "TCP connection to " + s.Addr + " succeeded"}, nil
}
