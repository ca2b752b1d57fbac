package checks_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/probekit/probekit/checks"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestTCPPasses(t *testing.T) {
	ln := listen(t)
	check := checks.TCP(ln.Addr().String())
	if err := check.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	requirePass(t, check)
}

func TestTCPFailsWhenNothingListens(t *testing.T) {
	err := checks.TCP(closedAddr(t)).Check(testCtx(t))
	requireFail(t, err, "TCP")
}

func TestTCPHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := checks.TCP(listen(t).Addr().String()).Check(ctx)
	requireFail(t, err, "TCP")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestTCPInvalidAddress(t *testing.T) {
	for _, addr := range []string{"", "localhost", "127.0.0.1:", "tcp://user:secret@127.0.0.1:1", "user:secret@127.0.0.1:1"} {
		for range 2 { // a configuration error persists
			err := checks.TCP(addr).Check(testCtx(t))
			requireFail(t, err, "TCP")
			requireNoSecret(t, err, "secret")
		}
	}
	if err := checks.TCP("").Check(testCtx(t)); err.Error() != "checks: TCP: empty address" {
		t.Fatalf("got %q", err)
	}
}
