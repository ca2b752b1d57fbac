package probe_test

import (
	"testing"

	"github.com/probekit/probekit/probe"
	"github.com/stretchr/testify/assert"
)

func TestResult(t *testing.T) {
	t.Parallel()
	var zero probe.Result
	assert.Equal(t, probe.Unknown, zero)
	for r, want := range map[probe.Result]struct {
		s      string
		passed bool
	}{
		probe.Unknown:    {"unknown", false},
		probe.Success:    {"success", true},
		probe.Warning:    {"warning", true},
		probe.Failure:    {"failure", false},
		probe.Result(42): {"Result(42)", false},
	} {
		assert.Equal(t, want.s, r.String())
		assert.Equal(t, want.passed, r.Passed(), r.String())
	}
	assert.Equal(t, "failure: boom", probe.Outcome{Result: probe.Failure, Message: "boom"}.String())
	assert.Equal(t, "unknown", probe.Outcome{}.String())
}

func TestKind(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "readiness", probe.Readiness.String())
	assert.Equal(t, "liveness", probe.Liveness.String())
	assert.Equal(t, "startup", probe.Startup.String())
	assert.Equal(t, "Kind(0)", probe.Kind(0).String())
}
