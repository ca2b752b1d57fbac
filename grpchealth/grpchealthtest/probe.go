// Package grpchealthtest probes a gRPC health service as the kubelet's
// grpc: probe does, for tests of what Kubernetes will see.
package grpchealthtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// UserAgent is what the kubelet of Kubernetes 1.37 sends as its user agent
// (kube-probe/<major>.<minor>).
const UserAgent = "kube-probe/1.37"

// Probe probes the gRPC health service at addr (host:port) for service, as
// the kubelet of Kubernetes v1.37 does for a grpc: probe without TLS
// (k8s.io/kubernetes pkg/probe/grpc): a new plaintext connection for each
// probe, with UserAgent, blocking until it is established or timeout
// passes; then Check(service) within the same timeout. It returns nil only
// for SERVING, as the kubelet counts success; anything else (NOT_SERVING,
// UNKNOWN, an error status such as NOT_FOUND or UNIMPLEMENTED, a deadline,
// a connection that never came up) is an error whose text is the kubelet's
// probe output for it. The connection is closed before Probe returns.
//
// The one difference: the kubelet's dialer sets SO_LINGER to 1 s to spare
// the node TIME-WAIT sockets, which changes no answer. It is safe for
// concurrent use.
func Probe(addr, service string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The kubelet dials with DialContext and WithBlock: a refused
	// connection is retried until the timeout, not reported at once.
	//lint:ignore SA1019 deprecated, but what the kubelet does, and the point is to behave like it
	conn, err := grpc.DialContext(ctx, addr,
		grpc.WithUserAgent(UserAgent),
		grpc.WithBlock(), //lint:ignore SA1019 as above
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("timeout: failed to connect service %q within %v: %+v", addr, timeout, err)
		}
		return fmt.Errorf("error: failed to connect service at %q: %+v", addr, err)
	}
	defer func() { _ = conn.Close() }()

	resp, err := healthpb.NewHealthClient(conn).Check(metadata.NewOutgoingContext(ctx, metadata.MD{}),
		&healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		switch status.Code(err) {
		case codes.Unimplemented:
			return fmt.Errorf("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", status.Convert(err).Message())
		case codes.DeadlineExceeded:
			return fmt.Errorf("timeout: health rpc did not complete within %v", timeout)
		}
		return fmt.Errorf("error: health rpc probe failed: %+v", err)
	}
	if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("service unhealthy (responded with %q)", st.String())
	}
	return nil
}
