package alerts_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/prereq"
	"github.com/probekit/probekit/prommetrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const rules, rulesTest = "probekit.rules.yml", "probekit_test.rules.yml"

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(prereq.LookPath(t, "promtool", "prometheus"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "promtool %q:\n%s", args, out.String())
	return out.String()
}

func TestPromtoolCheckRules(t *testing.T) {
	out := runPromtool(t, "check", "rules", rules)
	assert.Contains(t, out, "SUCCESS: 2 rules found")
}

// The rules' unit test: when each alert fires, stays quiet and resolves.
func TestPromtoolTestRules(t *testing.T) {
	out := runPromtool(t, "test", "rules", rulesTest)
	assert.Contains(t, out, "SUCCESS")
}

// The rules name only series that prommetrics really exposes, so that a
// renamed series cannot leave an alert that never fires.
func TestRulesNameExposedSeries(t *testing.T) {
	reg := health.New()
	defer func() { assert.NoError(t, reg.Close()) }()
	require.NoError(t, reg.Register(health.Readiness, "db", health.DependencyFunc(func(context.Context) error { return nil })))
	pr := prometheus.NewPedanticRegistry()
	c := prommetrics.NewCollector(reg)
	defer c.Close()
	require.NoError(t, pr.Register(c))
	fams, err := pr.Gather()
	require.NoError(t, err)
	var exposed []string
	for _, f := range fams {
		exposed = append(exposed, f.GetName())
	}

	for _, file := range []string{rules, rulesTest} {
		text, err := os.ReadFile(file)
		require.NoError(t, err)
		// A series name is followed by its labels or by an operator;
		// file names (probekit_test.rules.yml) are not.
		names := regexp.MustCompile(`(probekit_[a-z_]+)[{ ]`).FindAllStringSubmatch(string(text), -1)
		require.NotEmpty(t, names, file)
		for _, m := range names {
			n := m[1]
			assert.True(t, slices.Contains(exposed, n), "%s names %s, which prommetrics does not expose (it has %q)", file, n, exposed)
		}
	}
}
