package manifests_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probekit/probekit/contract"
)

// TestManifestsKeepTheirContracts checks each manifest against the probe
// contract committed beside it, the app's own account of itself: every
// probe asks for a path or gRPC service the app serves for the probe's
// group, on the port the contract names, and the manifest's preStop,
// drain delay and shutdown timeout are the budget the contract declares.
// (The k8sprobes linter makes the same checks, and more, in CI.)
func TestManifestsKeepTheirContracts(t *testing.T) {
	found := 0
	for _, pt := range podTemplates(loadManifests(t)) {
		dir := filepath.Dir(pt.m.file)
		c, ok := loadContract(t, dir)
		if !ok {
			t.Logf("%s: no probe-contract.json beside it", pt.m.file)
			continue
		}
		found++
		spec := apps[dir]
		if g, ok := grpcApps[dir]; ok {
			spec = g.appSpec
		}
		for _, ctr := range pt.spec.Containers {
			t.Run(pt.m.file+"/"+ctr.Name, func(t *testing.T) {
				checkAgainstContract(t, c, ctr, spec)
			})
		}
	}
	assert.NotZero(t, found, "no manifest has a probe-contract.json beside it")
}

func checkAgainstContract(t require.TestingT, c contract.Contract, ctr corev1.Container, spec appSpec) {
	for kind, p := range map[string]*corev1.Probe{contract.Startup: ctr.StartupProbe, contract.Liveness: ctr.LivenessProbe, contract.Readiness: ctr.ReadinessProbe} {
		switch {
		case p == nil:
		case p.HTTPGet != nil:
			if !assert.NotNil(t, c.HTTP, "%s probe: the contract has no HTTP routes", kind) {
				continue
			}
			assert.True(t, servesHTTP(c, kind, p.HTTPGet.Path), "%s probe path %s: no %s route of the contract", kind, p.HTTPGet.Path, kind)
			want, err := containerPort(ctr, intstr.Parse(c.HTTP.Port))
			if assert.NoError(t, err, "the contract's HTTP port") {
				got, _ := containerPort(ctr, p.HTTPGet.Port)
				assert.Equal(t, want, got, "%s probe port %s is not the contract's HTTP port %s", kind, p.HTTPGet.Port.String(), c.HTTP.Port)
			}
		case p.GRPC != nil:
			if !assert.NotNil(t, c.GRPC, "%s probe: the contract has no gRPC services", kind) {
				continue
			}
			assert.Equal(t, c.GRPC.Port, int(p.GRPC.Port), "%s grpc probe port", kind)
			svc := service(p.GRPC)
			assert.True(t, slices.ContainsFunc(c.GRPC.Services, func(s contract.Service) bool { return s.Name == svc && s.Group == kind && s.Check == "" }),
				"%s grpc probe service %q: no service of the contract answers for %s", kind, svc, kind)
		}
	}

	var preStop time.Duration
	if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil && ctr.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(ctr.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	assert.Equal(t, preStop, time.Duration(c.Shutdown.PreStop), "preStop sleep against the contract's shutdown.preStop")
	if spec.drainFlag != "" {
		assert.Equal(t, durationFlag(t, ctr.Args, spec.drainFlag, spec.drainDefault), time.Duration(c.Shutdown.Drain),
			"-%s against the contract's shutdown.drain", spec.drainFlag)
	}
	if spec.shutdownFlag != "" {
		assert.Equal(t, durationFlag(t, ctr.Args, spec.shutdownFlag, spec.shutdownDefault), time.Duration(c.Shutdown.Timeout),
			"-%s against the contract's shutdown.timeout", spec.shutdownFlag)
	}
}

// servesHTTP reports whether c has a route of group for path, a per-check
// route matching a check the group's probes run.
func servesHTTP(c contract.Contract, group, path string) bool {
	for _, r := range c.HTTP.Routes {
		if r.Group != group {
			continue
		}
		if !r.PerCheck {
			if r.Path == path {
				return true
			}
			continue
		}
		name, ok := strings.CutPrefix(path, strings.TrimSuffix(r.Path, "{check}"))
		if ok && slices.ContainsFunc(c.Runs(group), func(ch contract.Check) bool { return ch.Name == name }) {
			return true
		}
	}
	return false
}

// The cross-check notices a manifest that strays from its contract.
func TestContractCheckRejectsStrays(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*contract.Contract, *corev1.Container)
		want   string
	}{
		{"unchanged", func(*contract.Contract, *corev1.Container) {}, ""},
		{"path of another group", func(_ *contract.Contract, c *corev1.Container) { c.LivenessProbe.HTTPGet.Path = "/ready" }, "no liveness route"},
		{"per-check path of its group", func(_ *contract.Contract, c *corev1.Container) { c.LivenessProbe.HTTPGet.Path = "/livez/goroutines" }, ""},
		{"unknown check", func(_ *contract.Contract, c *corev1.Container) { c.LivenessProbe.HTTPGet.Path = "/livez/nope" }, "no liveness route"},
		{"other port", func(k *contract.Contract, _ *corev1.Container) { k.HTTP.Port = "5001" }, "the contract's HTTP port"},
		{"port by name", func(k *contract.Contract, _ *corev1.Container) { k.HTTP.Port = "http" }, ""},
		{"longer preStop", func(_ *contract.Contract, c *corev1.Container) { c.Lifecycle.PreStop.Sleep.Seconds = 20 }, "shutdown.preStop"},
		{"longer drain", func(_ *contract.Contract, c *corev1.Container) { c.Args = append(c.Args, "-drain-delay=8s") }, "shutdown.drain"},
		{"no HTTP", func(k *contract.Contract, _ *corev1.Container) { k.HTTP = nil }, "no HTTP routes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt := seedPod(t)
			c, ok := loadContract(t, "seedapp")
			require.True(t, ok, "seedapp/probe-contract.json")
			ctr := &pt.spec.Containers[0]
			tc.break_(&c, ctr)
			var col collector
			col.run(func() { checkAgainstContract(&col, c, *ctr, apps["seedapp"]) })
			if tc.want == "" {
				assert.Empty(t, col.msgs)
				return
			}
			require.NotEmpty(t, col.msgs, "the check accepted a manifest that strays from its contract")
			assert.Contains(t, strings.Join(col.msgs, "\n"), tc.want)
		})
	}
}
