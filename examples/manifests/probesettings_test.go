package manifests_test

import (
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// maxStartup is the startup time a startup probe must cover:
// failureThreshold × periodSeconds at least this. The examples start in
// well under a second; this covers a slow, busy node.
const maxStartup = 10 * time.Second

// Kubernetes defaults (k8s.io/api core/v1 Probe and PodSpec).
const (
	defaultTimeoutSeconds   = 1
	defaultPeriodSeconds    = 10
	defaultFailureThreshold = 3
	defaultGraceSeconds     = 30
)

// TestProbeSettings checks every container of every workload against the
// rules of docs/kubernetes.md.
func TestProbeSettings(t *testing.T) {
	for _, pt := range podTemplates(loadManifests(t)) {
		dir := filepath.Dir(pt.m.file)
		spec := specFor(t, dir, apps[dir])
		for _, c := range pt.spec.Containers {
			t.Run(pt.m.file+"/"+pt.m.name+"/"+c.Name, func(t *testing.T) {
				checkContainer(t, pt, c, spec)
				checkExposed(t, dir, c)
			})
		}
	}
}

func checkContainer(t require.TestingT, pt podTemplate, c corev1.Container, spec appSpec) {
	live, ready, start := c.LivenessProbe, c.ReadinessProbe, c.StartupProbe
	if len(c.Ports) > 0 {
		// A serving container without probes gets traffic before it can
		// take it and is never restarted when it wedges.
		require.NotNil(t, ready, "a serving container needs a readiness probe")
		require.NotNil(t, live, "a serving container needs a liveness probe")
	}
	for kind, p := range map[string]*corev1.Probe{"liveness": live, "readiness": ready, "startup": start} {
		if p == nil {
			continue
		}
		if p.HTTPGet != nil {
			_, err := containerPort(c, p.HTTPGet.Port)
			assert.NoError(t, err, "%s probe", kind)
			assert.True(t, strings.HasPrefix(p.HTTPGet.Path, "/"), "%s probe path %q", kind, p.HTTPGet.Path)
		}
		if p.TCPSocket != nil {
			_, err := containerPort(c, p.TCPSocket.Port)
			assert.NoError(t, err, "%s probe", kind)
		}
		timeout := time.Duration(orDefault(p.TimeoutSeconds, defaultTimeoutSeconds)) * time.Second
		assert.Greater(t, timeout, spec.checkTimeout,
			"%s probe timeoutSeconds must exceed the checks' timeout, so the app's verdict arrives before the kubelet gives up", kind)
	}
	if live != nil {
		assert.LessOrEqual(t, live.SuccessThreshold, int32(1), "liveness successThreshold must be 1")
		if live.HTTPGet != nil {
			path := strings.TrimSuffix(live.HTTPGet.Path, "/")
			assert.False(t, path == "/ready" || path == "/readyz" || strings.HasPrefix(path, "/readyz/"),
				"liveness probes %s, a readiness endpoint: a dependency outage would restart every pod", live.HTTPGet.Path)
			if ready != nil && ready.HTTPGet != nil {
				assert.NotEqual(t, ready.HTTPGet.Path, live.HTTPGet.Path, "liveness and readiness probe the same endpoint")
			}
		}
		if ready != nil {
			assert.Greater(t, window(live), window(ready),
				"liveness should tolerate failure longer than readiness: leaving rotation is cheap, a restart is not")
		}
	}
	if start != nil {
		assert.LessOrEqual(t, start.SuccessThreshold, int32(1), "startup successThreshold must be 1")
		assert.GreaterOrEqual(t, window(start), maxStartup, "startup probe failureThreshold × periodSeconds must cover startup")
	}
	if addr, ok := flagValue(c.Args, "addr"); ok {
		_, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		n, _ := strconv.Atoi(port)
		assert.True(t, slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == n }),
			"-addr=%s listens on a port the container does not declare", addr)
	}
	checkShutdownBudget(t, pt.spec, c, spec)
}

// checkShutdownBudget checks preStop sleep + drain delay + shutdown timeout
// + closing the registry fit in the termination grace period, whose
// countdown starts before preStop runs.
func checkShutdownBudget(t require.TestingT, pod corev1.PodSpec, c corev1.Container, spec appSpec) {
	grace := time.Duration(defaultGraceSeconds) * time.Second
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		if s := c.Lifecycle.PreStop.Sleep; s != nil {
			preStop = time.Duration(s.Seconds) * time.Second
		}
		assert.Nil(t, c.Lifecycle.PreStop.Exec, "preStop exec needs a shell and a sleep binary; use preStop.sleep")
	}
	drain := durationFlag(t, c.Args, spec.drainFlag, spec.drainDefault)
	shutdown := durationFlag(t, c.Args, spec.shutdownFlag, spec.shutdownDefault)
	total := preStop + drain + shutdown + spec.checkTimeout
	assert.Less(t, total, grace, "preStop %v + drain %v + shutdown %v + close %v must end before SIGKILL at %v",
		preStop, drain, shutdown, spec.checkTimeout, grace)
}

func orDefault(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// window is how long a probe must fail in a row before the kubelet acts.
func window(p *corev1.Probe) time.Duration {
	return time.Duration(orDefault(p.FailureThreshold, defaultFailureThreshold)*orDefault(p.PeriodSeconds, defaultPeriodSeconds)) * time.Second
}
