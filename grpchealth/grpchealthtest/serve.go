package grpchealthtest

import (
	"errors"
	"net"
	"testing"

	"google.golang.org/grpc"
)

// Serve serves srv on a new port of 127.0.0.1 until the test ends and
// returns its address (host:port). At cleanup it stops srv with Stop, not
// GracefulStop, so that a stream left open cannot hold the test, and
// reports an error if Serve failed.
func Serve(t testing.TB, srv *grpc.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("grpchealthtest: listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("grpchealthtest: serve: %v", err)
		}
	})
	return ln.Addr().String()
}
