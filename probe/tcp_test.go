package probe_test

import (
	"net"
	"testing"
	"time"

	"github.com/probekit/probekit/probe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pkg/probe/tcp/tcp.go:50-63 (v1.37.2): a connection is a Success and is
// closed at once; a dial error is a Failure, not an error.
func TestTCPSocket(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- err
			return
		}
		defer c.Close()
		// The probe sends nothing and closes: the server reads EOF.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if n != 0 {
			err = nil
		}
		accepted <- err
	}()
	ctx := testCtx(t)

	out, err := probe.TCPSocket{Addr: ln.Addr().String()}.Probe(ctx, generous)
	require.NoError(t, err)
	assert.Equal(t, probe.Success, out.Result, out.Message)
	assert.EqualError(t, <-accepted, "EOF", "the probe closed its connection without sending")

	out, err = probe.TCPSocket{Addr: closedAddr(t)}.Probe(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, probe.Failure, out.Result)
	assert.Contains(t, out.Message, "connection refused")
}

func TestTCPSocketInvalid(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	for _, addr := range []string{"", "127.0.0.1", "127.0.0.1:", "[::1"} {
		out, err := probe.TCPSocket{Addr: addr}.Probe(ctx, 0)
		require.ErrorIs(t, err, probe.ErrInvalid, "addr %q", addr)
		assert.Equal(t, probe.Unknown, out.Result)
	}
	_, err := probe.TCPSocket{Addr: "127.0.0.1:1"}.Probe(ctx, -1)
	assert.ErrorIs(t, err, probe.ErrInvalid)
}
