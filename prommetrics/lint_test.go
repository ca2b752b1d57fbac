package prommetrics_test

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needTool returns the path of an external program, or skips the test
// with a message naming it and its Debian package. The message begins with
// "missing prerequisite: ", the prefix the examples' tests use too (their
// package internal/prereq), which .ci/run treats as a failure so that CI
// cannot pass by skipping.
func needTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("missing prerequisite: %s (Debian package %s): %v", name, debianPackage, err)
	}
	return path
}

// promtool check metrics, Prometheus' own linter of names, units, types
// and help texts, has nothing to say about the exposition.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := needTool(t, "promtool", "prometheus")
	reg := openRegistry(t)
	m := serveMetrics(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(healthtest.Fixed(errors.New("down"))),
		health.CheckOptions{Breaker: health.BreakerSettings{Failures: breakerFailures}}))
	require.NoError(t, reg.Register(health.Readiness, "cache", healthtest.Fixed(errors.New("down")),
		health.CheckOptions{NonCritical: true}))
	require.NoError(t, reg.Register(health.Liveness, "goroutines", healthtest.Fixed(nil)))
	require.NoError(t, reg.Register(health.Startup, "migrations", healthtest.Fixed(nil)))
	for range breakerFailures + 1 { // through to breaker-open
		run(t, reg)
	}
	m.until("every run is counted", func(s scraped) bool { return s.runs("readiness", "db") == breakerFailures+1 })
	text := m.text()
	require.Contains(t, text, `probekit_breaker_state{name="db"} 2`)

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	assert.NoError(t, err, "promtool check metrics")
	assert.Empty(t, out.String(), "promtool check metrics on:\n%s", text)
}
