package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/contract"
)

// TestContractListsServices: the gRPC names the probe contract declares
// are those the running server's health service lists, with and without
// -upstream, and each answers for the group the contract says.
func TestContractListsServices(t *testing.T) {
	for _, args := range [][]string{nil, {"-upstream=127.0.0.1:1"}} {
		cfg, err := parseFlags(args, io.Discard)
		require.NoError(t, err)
		a, err := newApp(slog.New(slog.DiscardHandler), cfg)
		require.NoError(t, err)
		var out bytes.Buffer
		require.NoError(t, printContract(&out, a, cfg))
		c, err := contract.Parse(out.Bytes())
		require.NoError(t, err)
		require.NotNil(t, c.GRPC)
		assert.Equal(t, 9090, c.GRPC.Port, "the port of -grpc-addr's default")

		p := startBinary(t, args...)
		ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
		list, err := healthpb.NewHealthClient(p.conn(t)).List(ctx, &healthpb.HealthListRequest{})
		cancel()
		require.NoError(t, err)
		var listed, declared []string
		for name := range list.GetStatuses() {
			listed = append(listed, name)
		}
		for _, s := range c.GRPC.Services {
			declared = append(declared, s.Name)
			// At start, readiness fails (it starts not ready, and the
			// upstream is unreachable); liveness and startup pass.
			want := s.Group != contract.Readiness
			ok, msg := kubelet(p, s.Name)
			assert.Equal(t, want, ok, "%q answers for %s %s: %s", s.Name, s.Group, s.Check, msg)
		}
		slices.Sort(listed)
		slices.Sort(declared)
		assert.Equal(t, listed, declared, "args %q", args)
		require.NoError(t, p.stop(t))
	}
}
