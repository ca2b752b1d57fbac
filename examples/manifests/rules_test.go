package manifests_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// collector is a require.TestingT that collects failures, so that the rules
// can be shown to reject bad manifests.
type collector struct{ msgs []string }

type failNow struct{}

func (c *collector) Errorf(format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}
func (c *collector) FailNow() { panic(failNow{}) }

func (c *collector) run(fn func()) {
	defer func() {
		if v := recover(); v != nil && v != (failNow{}) {
			panic(v)
		}
	}()
	fn()
}

// seedPod returns the seed app's pod template, decoded afresh.
func seedPod(t *testing.T) podTemplate {
	t.Helper()
	for _, pt := range podTemplates(loadManifests(t)) {
		if pt.m.file == filepath.Join("seedapp", "deployment.yaml") {
			return pt
		}
	}
	t.Fatal("seedapp/deployment.yaml has no pod template")
	return podTemplate{}
}

// TestRulesRejectBadSettings breaks the seed app's manifest one setting at a
// time and checks each rule notices.
func TestRulesRejectBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*corev1.PodSpec, *corev1.Container, *appSpec)
		want   string
	}{
		{"liveness on readiness endpoint", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.LivenessProbe.HTTPGet.Path = "/readyz/postgres"
		}, "a readiness endpoint"},
		{"one endpoint for both", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.ReadinessProbe.HTTPGet.Path = "/"
		}, "the same endpoint"},
		{"timeout not above check timeout", func(_ *corev1.PodSpec, _ *corev1.Container, s *appSpec) {
			s.checkTimeout = 2 * time.Second
		}, "must exceed the checks' timeout"},
		{"liveness successThreshold", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.LivenessProbe.SuccessThreshold = 2
		}, "liveness successThreshold must be 1"},
		{"startup too short", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.StartupProbe.FailureThreshold = 3
		}, "must cover startup"},
		{"liveness quicker than readiness", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.LivenessProbe.PeriodSeconds = 1
		}, "tolerate failure longer"},
		{"default grace period suffices", func(p *corev1.PodSpec, _ *corev1.Container, _ *appSpec) {
			p.TerminationGracePeriodSeconds = nil // 30 s > 25.5 s
		}, ""},
		{"grace period too short", func(p *corev1.PodSpec, _ *corev1.Container, _ *appSpec) {
			p.TerminationGracePeriodSeconds = new(int64(20))
		}, "must end before SIGKILL"},
		{"drain outlasts grace", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.Args = append(c.Args, "-drain-delay=20s")
		}, "must end before SIGKILL"},
		{"preStop exec", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.Lifecycle.PreStop.Exec = &corev1.ExecAction{Command: []string{"sleep", "10"}}
		}, "preStop exec needs a shell"},
		{"probe on undeclared port", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.ReadinessProbe.HTTPGet.Port = intstr.FromString("metrics")
		}, "port metrics is not a port"},
		{"listens elsewhere", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.Args = append(c.Args, "-addr=:8080")
		}, "does not declare"},
		{"no readiness probe", func(_ *corev1.PodSpec, c *corev1.Container, _ *appSpec) {
			c.ReadinessProbe = nil
		}, "needs a readiness probe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt := seedPod(t)
			spec := specFor(t, "seedapp", apps["seedapp"])
			c := &pt.spec.Containers[0]
			tc.break_(&pt.spec, c, &spec)
			var col collector
			col.run(func() { checkContainer(&col, pt, *c, spec) })
			if tc.want == "" { // a change the rules accept
				assert.Empty(t, col.msgs)
				return
			}
			require.NotEmpty(t, col.msgs, "the rules accepted a broken manifest")
			assert.True(t, strings.Contains(strings.Join(col.msgs, "\n"), tc.want), "got:\n%s", strings.Join(col.msgs, "\n"))
		})
	}
}

// TestRulesAcceptSeedApp is the control: unbroken, the manifest passes.
func TestRulesAcceptSeedApp(t *testing.T) {
	pt := seedPod(t)
	var col collector
	col.run(func() { checkContainer(&col, pt, pt.spec.Containers[0], specFor(t, "seedapp", apps["seedapp"])) })
	assert.Empty(t, col.msgs)
}
