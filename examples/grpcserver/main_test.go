package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/probekit/probekit/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

func TestFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, &config{grpcAddr: defaultGRPCAddr, httpAddr: defaultHTTPAddr, drainDelay: defaultDrainDelay,
		shutdownTimeout: defaultShutdownTimeout, upstreamTimeout: defaultUpstreamTimeout}, cfg)

	for _, args := range [][]string{{"extra"}, {"-drain-delay=-1s"}, {"-shutdown-timeout=-1s"}, {"-drain-delay=soon"}} {
		_, err := parseFlags(args, io.Discard)
		assert.Error(t, err, "%q", args)
	}
	var stderr bytes.Buffer
	_, err = parseFlags([]string{"-h"}, &stderr)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr.String(), "-grpc-addr")
}

// A negative -upstream-timeout is refused where the check is registered,
// at start-up, not on every probe.
func TestBadUpstreamTimeoutFailsAtStart(t *testing.T) {
	err := run(context.Background(), []string{"-upstream=127.0.0.1:1", "-upstream-timeout=-1s",
		"-grpc-addr=127.0.0.1:0", "-http-addr=127.0.0.1:0"}, io.Discard, io.Discard)
	assert.ErrorIs(t, err, health.ErrInvalidOption)
}

func TestGreeter(t *testing.T) {
	out, err := greeter{}.Hello(context.Background(), wrapperspb.String(" kube "))
	require.NoError(t, err)
	assert.Equal(t, "hello, kube", out.GetValue())
	for _, name := range []string{"", "   ", string(make([]byte, maxNameLen+1))} {
		_, err := greeter{}.Hello(context.Background(), wrapperspb.String(name))
		assert.Equal(t, codes.InvalidArgument, status.Code(err), "%.10q", name)
	}
}
