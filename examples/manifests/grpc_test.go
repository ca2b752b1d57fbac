package manifests_test

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/probekit/probekit/grpchealth/grpchealthtest"
)

// grpcAppSpec describes an example app probed with grpc: probes.
type grpcAppSpec struct {
	appSpec
	// addrFlag names the flag of the gRPC listener; loopback holds the
	// flags that move every listener to a free loopback port.
	addrFlag string
	loopback []string
	// serving is whether each service a probe may ask answers SERVING
	// right after start; every probe's service must be listed.
	serving map[string]bool
}

// grpcApps are the example apps with grpc: probes, by the directory under
// examples/ that holds the manifest.
var grpcApps = map[string]grpcAppSpec{
	"grpcserver": {
		appSpec: appSpec{
			pkg:       "./grpcserver",
			drainFlag: "drain-delay", drainDefault: 5 * time.Second,
			shutdownFlag: "shutdown-timeout", shutdownDefault: 10 * time.Second,
		},
		addrFlag: "grpc-addr",
		loopback: []string{"-grpc-addr=127.0.0.1:0", "-http-addr=127.0.0.1:0"},
		serving:  map[string]bool{"startup": true, "liveness": true, "readiness": false}, // starts not ready
	},
}

// grpcProbes returns the container's grpc: probes by kind.
func grpcProbes(c corev1.Container) map[string]*corev1.Probe {
	out := make(map[string]*corev1.Probe)
	for kind, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p != nil && p.GRPC != nil {
			out[kind] = p
		}
	}
	return out
}

func service(g *corev1.GRPCAction) string {
	if g.Service == nil {
		return ""
	}
	return *g.Service
}

// checkGRPCProbes applies the rules of grpc: probes: a declared port the
// app's gRPC listener uses, and a liveness probe that does not ask for
// readiness.
func checkGRPCProbes(t require.TestingT, c corev1.Container, spec grpcAppSpec) {
	probes := grpcProbes(c)
	for kind, p := range probes {
		g := p.GRPC
		_, err := containerPort(c, intstr.FromInt32(g.Port))
		assert.NoError(t, err, "%s grpc probe", kind)
		if addr, ok := flagValue(c.Args, spec.addrFlag); ok {
			_, port, err := net.SplitHostPort(addr)
			require.NoError(t, err, "-%s=%s", spec.addrFlag, addr)
			assert.Equal(t, strconv.Itoa(int(g.Port)), port, "%s grpc probe port %d is not where -%s=%s listens", kind, g.Port, spec.addrFlag, addr)
		}
	}
	if live, ok := probes["liveness"]; ok {
		svc := service(live.GRPC)
		assert.False(t, svc == "" || svc == "readiness",
			"liveness grpc probe asks service %q, which answers as readiness: a dependency outage would restart every pod", svc)
		if ready, ok := probes["readiness"]; ok {
			assert.NotEqual(t, service(ready.GRPC), svc, "liveness and readiness probe the same service")
		}
	}
}

// grpcPod returns the pod template of the app in dir.
func grpcPod(t *testing.T, dir string) podTemplate {
	t.Helper()
	for _, pt := range podTemplates(loadManifests(t)) {
		if filepath.Dir(pt.m.file) == dir {
			return pt
		}
	}
	t.Fatalf("no pod template under %s", dir)
	return podTemplate{}
}

// TestGRPCProbes checks every container with grpc: probes against the
// rules, and, for the apps in grpcApps, runs the app with the manifest's
// args and probes it as the kubelet would, each probe's service answering
// what the app documents.
func TestGRPCProbes(t *testing.T) {
	found := false
	for _, pt := range podTemplates(loadManifests(t)) {
		dir := filepath.Dir(pt.m.file)
		for _, c := range pt.spec.Containers {
			if len(grpcProbes(c)) == 0 {
				continue
			}
			found = true
			t.Run(pt.m.file+"/"+c.Name, func(t *testing.T) {
				spec, known := grpcApps[dir]
				if !known {
					checkGRPCProbes(t, c, grpcAppSpec{})
					t.Logf("%s: no app registered for %s in grpcApps: probe services not cross-checked", pt.m.file, dir)
					return
				}
				checkGRPCProbes(t, c, spec)
				checkShutdownBudget(t, pt.spec, c, specFor(t, dir, spec.appSpec))
				probeGRPCApp(t, spec, c)
			})
		}
	}
	assert.True(t, found, "no manifest has grpc: probes; examples/grpcserver/deployment.yaml should")
}

func probeGRPCApp(t *testing.T, spec grpcAppSpec, c corev1.Container) {
	args := append(append(append([]string{}, c.Args...), spec.loopback...), "-"+spec.drainFlag+"=0s")
	p := proctest.Cmd{
		Bin:  proctest.Build(t, filepath.Join("..", spec.pkg)),
		Args: args,
		AddrFrom: func(line string) (string, bool) {
			_, addr, ok := strings.Cut(line, "grpc listening on ")
			return strings.TrimSpace(addr), ok
		},
	}.Start(t)
	for kind, probe := range grpcProbes(c) {
		svc := service(probe.GRPC)
		want, ok := spec.serving[svc]
		if !assert.True(t, ok, "%s probe asks service %q, not one the app documents", kind, svc) {
			continue
		}
		timeout := time.Duration(orDefault(probe.TimeoutSeconds, defaultTimeoutSeconds)) * time.Second
		err := grpchealthtest.Probe(p.Addr(), svc, timeout+5*time.Second) // slack for a busy machine
		assert.Equal(t, want, err == nil, "%s probe of service %q: %v", kind, svc, err)
	}
	p.Signal(syscall.SIGTERM)
	assert.NoError(t, p.Wait(15*time.Second), "exit status after SIGTERM")
}

// TestGRPCProbePortIsANumber: the kubelet refuses named ports for grpc:
// probes, and the API type makes the port a number, so strict decoding
// rejects a name.
func TestGRPCProbePortIsANumber(t *testing.T) {
	const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: c\n    ports: [{name: grpc, containerPort: 9090}]\n" +
		"    readinessProbe: {grpc: {port: %s, service: readiness}}\n"
	assert.Error(t, decodeStrict([]byte(strings.Replace(pod, "%s", "grpc", 1)), new(corev1.Pod)))
	var ok corev1.Pod
	require.NoError(t, decodeStrict([]byte(strings.Replace(pod, "%s", "9090", 1)), &ok))
	assert.Equal(t, int32(9090), ok.Spec.Containers[0].ReadinessProbe.GRPC.Port)
}

// TestGRPCRulesRejectBadSettings breaks the gRPC example's manifest one
// setting at a time and checks each rule notices.
func TestGRPCRulesRejectBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*corev1.Container)
		want   string
	}{
		{"liveness asks readiness", func(c *corev1.Container) { c.LivenessProbe.GRPC.Service = new("readiness") }, "answers as readiness"},
		{"liveness asks the server", func(c *corev1.Container) { c.LivenessProbe.GRPC.Service = nil }, "answers as readiness"},
		{"same service twice", func(c *corev1.Container) { c.ReadinessProbe.GRPC.Service = new("liveness") }, "the same service"},
		{"undeclared port", func(c *corev1.Container) { c.ReadinessProbe.GRPC.Port = 9999 }, "is not a port"},
		{"listens elsewhere", func(c *corev1.Container) { c.Args = append(c.Args, "-grpc-addr=:8080") }, "is not where"},
		{"unchanged", func(*corev1.Container) {}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt := grpcPod(t, "grpcserver")
			c := &pt.spec.Containers[0]
			tc.break_(c)
			var col collector
			col.run(func() { checkGRPCProbes(&col, *c, grpcApps["grpcserver"]) })
			if tc.want == "" {
				assert.Empty(t, col.msgs)
				return
			}
			require.NotEmpty(t, col.msgs, "the rules accepted a broken manifest")
			assert.Contains(t, strings.Join(col.msgs, "\n"), tc.want)
		})
	}
}
