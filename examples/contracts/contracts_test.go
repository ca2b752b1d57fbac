package contracts_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/examples/internal/proctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

var update = flag.Bool("update", false, "write what each program prints to its probe-contract.json")

// program is an example program and what its contract must say.
type program struct {
	dir  string   // under examples/, holding the main package and probe-contract.json
	args []string // besides -probe-contract: those of its manifest, or of its README
	env  []string

	startsNotReady bool
	httpPort       string // "" for no HTTP routes
	checks         []string
	grpc           []string // service names; nil for no gRPC
	grpcPort       int
	shutdown       contract.Shutdown
}

func budget(preStop, drain, timeout time.Duration) contract.Shutdown {
	return contract.Shutdown{PreStop: contract.Duration(preStop), Drain: contract.Duration(drain), Timeout: contract.Duration(timeout)}
}

var programs = []program{
	{dir: "seedapp", startsNotReady: true, httpPort: "5000", checks: []string{"goroutines"},
		shutdown: budget(10*time.Second, 5*time.Second, 10*time.Second)},
	{dir: "grpcserver", startsNotReady: true, httpPort: "8080", checks: []string{"goroutines"},
		grpc: []string{"", "liveness", "readiness", "startup", "probekit.examples.Greeter", "goroutines"}, grpcPort: 9090,
		shutdown: budget(10*time.Second, 5*time.Second, 10*time.Second)},
	// The quick start's DATABASE_URL only says where its checks connect,
	// which no contract tells.
	{dir: "quickstart", env: []string{"DATABASE_URL="}, startsNotReady: true, httpPort: "8080", checks: []string{"postgres", "worker"},
		shutdown: budget(0, 5*time.Second, 10*time.Second)},
	{dir: "shutdown", httpPort: "8080", checks: []string{}, shutdown: budget(0, 5*time.Second, 10*time.Second)},
	// The command of its README.
	{dir: "dependencies", args: []string{"-redis", "127.0.0.1:6379", "-postgres", "postgres://postgres@127.0.0.1:5432/postgres"},
		httpPort: "8080", checks: []string{"postgres", "redis"}, shutdown: budget(0, 5*time.Second, 10*time.Second)},
	{dir: "fleet", checks: []string{"dependency"}},
}

// defaultRoutes are the routes health.Registry.Mount registers without
// options, in its order.
var defaultRoutes = []contract.Route{
	{Path: "/", Group: contract.Liveness},
	{Path: "/ready", Group: contract.Readiness},
	{Path: "/livez", Group: contract.Liveness},
	{Path: "/readyz", Group: contract.Readiness},
	{Path: "/startupz", Group: contract.Startup},
	{Path: "/livez/{check}", Group: contract.Liveness, PerCheck: true},
	{Path: "/readyz/{check}", Group: contract.Readiness, PerCheck: true},
	{Path: "/startupz/{check}", Group: contract.Startup, PerCheck: true},
}

func TestEveryProgramIsListed(t *testing.T) {
	mains, err := filepath.Glob("../*/main.go")
	require.NoError(t, err)
	var dirs []string
	for _, m := range mains {
		dirs = append(dirs, filepath.Base(filepath.Dir(m)))
	}
	var listed []string
	for _, p := range programs {
		listed = append(listed, p.dir)
	}
	assert.ElementsMatch(t, dirs, listed, "every example program prints its contract, and is checked here")
}

func TestProbeContracts(t *testing.T) {
	for _, p := range programs {
		t.Run(p.dir, func(t *testing.T) {
			t.Parallel()
			out := printContract(t, p)
			c, err := contract.Parse(out)
			require.NoError(t, err, "%s", out)
			checkContract(t, p, c)

			file := filepath.Join("..", p.dir, "probe-contract.json")
			if *update {
				require.NoError(t, os.WriteFile(file, out, 0o644))
			}
			committed, err := os.ReadFile(file)
			require.NoError(t, err, "commit what the program prints (go test ./examples/contracts -update)")
			assert.Equal(t, string(out), string(committed),
				"%s is not what %s -probe-contract prints: regenerate it (go test ./examples/contracts -update) and commit it", file, p.dir)
		})
	}
}

// printContract runs p's binary with -probe-contract and returns what it
// printed on stdout, failing the test unless it exited 0 without listening.
func printContract(t *testing.T, p program) []byte {
	bin := proctest.Build(t, filepath.Join("..", p.dir))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-probe-contract"}, p.args...)...)
	cmd.Env = append(os.Environ(), p.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s -probe-contract must exit 0; stderr:\n%s", p.dir, stderr.String())
	for _, out := range []string{stdout.String(), stderr.String()} {
		assert.NotContains(t, out, "listening on", "%s -probe-contract must not listen", p.dir)
	}
	return stdout.Bytes()
}

func checkContract(t *testing.T, p program, c contract.Contract) {
	assert.Equal(t, p.startsNotReady, c.StartsNotReady, "startsNotReady")
	if p.httpPort == "" {
		assert.Nil(t, c.HTTP, "no HTTP routes")
	} else if assert.NotNil(t, c.HTTP, "HTTP routes") {
		assert.Equal(t, p.httpPort, c.HTTP.Port)
		assert.Equal(t, defaultRoutes, c.HTTP.Routes)
	}
	names := []string{}
	for _, ch := range c.Checks {
		names = append(names, ch.Name)
		// A dependency only ever serves readiness, behind its breaker.
		if ch.Dependency {
			assert.Equal(t, contract.Readiness, ch.Group, "dependency check %s", ch.Name)
			assert.NotNil(t, ch.Breaker, "dependency check %s", ch.Name)
		}
	}
	assert.Equal(t, p.checks, names, "checks, sorted by name")
	if p.grpc == nil {
		assert.Nil(t, c.GRPC, "no gRPC")
	} else if assert.NotNil(t, c.GRPC, "gRPC services") {
		assert.Equal(t, p.grpcPort, c.GRPC.Port)
		var services []string
		for _, s := range c.GRPC.Services {
			services = append(services, s.Name)
		}
		slices.Sort(services)
		want := slices.Sorted(slices.Values(p.grpc))
		assert.Equal(t, want, services)
	}
	assert.Equal(t, p.shutdown, c.Shutdown, "shutdown budget")
}
