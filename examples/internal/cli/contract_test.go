package cli

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestContractFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"-probe-contract"}, true}, {[]string{"-probe-contract=false"}, false}} {
		fs := flag.NewFlagSet("app", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var got bool
		ContractFlag(fs, &got)
		require.NoError(t, fs.Parse(tc.args))
		assert.Equal(t, tc.want, got, "%q", tc.args)
	}
}

func TestPrintContract(t *testing.T) {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	require.NoError(t, reg.Register(health.Liveness, "loop", healthtest.Fixed(nil)))
	require.NoError(t, reg.Mount(http.NewServeMux(), health.MountOptions{Prefix: "/health", Paths: []string{"/", "/ready"}}))
	budget := contract.Shutdown{PreStop: contract.Duration(10 * time.Second), Drain: contract.Duration(5 * time.Second)}
	grpc := &contract.GRPC{Port: 9090, Services: []contract.Service{{Name: "", Group: contract.Readiness}}}

	var out bytes.Buffer
	require.NoError(t, PrintContract(&out, reg, Extra{HTTPPort: "8080", GRPC: grpc, Shutdown: budget}))
	assert.Contains(t, out.String(), "\n  \"startsNotReady\": true,\n", "indented JSON")
	assert.Equal(t, byte('\n'), out.Bytes()[out.Len()-1])
	c, err := contract.Parse(out.Bytes())
	require.NoError(t, err)
	assert.True(t, c.StartsNotReady)
	require.NotNil(t, c.HTTP)
	assert.Equal(t, "8080", c.HTTP.Port)
	assert.Equal(t, []contract.Route{{Path: "/health/", Group: contract.Liveness}, {Path: "/health/ready", Group: contract.Readiness}}, c.HTTP.Routes)
	assert.Equal(t, grpc, c.GRPC)
	assert.Equal(t, budget, c.Shutdown)
	require.Len(t, c.Checks, 1)
	assert.Equal(t, "loop", c.Checks[0].Name)
}

// A port for routes that were never mounted is a mistake in the program,
// and nothing is printed.
func TestPrintContractWithoutRoutes(t *testing.T) {
	reg := health.New()
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	var out bytes.Buffer
	assert.ErrorContains(t, PrintContract(&out, reg, Extra{HTTPPort: "8080"}), "no route is mounted")
	assert.Zero(t, out.Len())

	require.NoError(t, PrintContract(&out, reg, Extra{}))
	c, err := contract.Parse(out.Bytes())
	require.NoError(t, err)
	assert.Nil(t, c.HTTP)
}

func TestListenPort(t *testing.T) {
	for addr, want := range map[string]string{
		":8080": "8080", "127.0.0.1:5000": "5000", "[::1]:9090": "9090",
		"127.0.0.1:0": "", "localhost": "", "": "",
	} {
		assert.Equal(t, want, ListenPort(addr), "%q", addr)
	}
}
