// Package manifests_test validates every Kubernetes manifest under
// examples/: it decodes each strictly into the Kubernetes API types, checks
// the probe settings against the rules of docs/kubernetes.md, and runs the
// example app the manifest deploys to check that the probes point at paths
// and ports it serves.
//
// Manifests are found by walking examples/, so a new one is validated
// without touching this file. To have its app cross-checked too, add the
// app to apps below.
package manifests_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/probekit/probekit/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

// appSpec describes an example app for the cross-check.
type appSpec struct {
	pkg string // main package, relative to the examples module
	// status is what each probe path answers right after start, before
	// anyone touches the app. Every probe path of the manifest must be
	// listed.
	status map[string]int
	// checkTimeout is the longest timeout of the app's checks: probe
	// timeouts must exceed it, or the kubelet gives up before the check
	// can report its own verdict.
	checkTimeout time.Duration
	// drainFlag and shutdownFlag name the flags that set the drain delay
	// and the shutdown timeout, with their defaults.
	drainFlag, shutdownFlag       string
	drainDefault, shutdownDefault time.Duration
}

// apps are the example apps whose manifests are cross-checked by running
// them, by the directory under examples/ that holds the manifest.
var apps = map[string]appSpec{
	"seedapp": {
		pkg:    "./seedapp",
		status: map[string]int{"/startupz": 200, "/": 200, "/ready": 503}, // starts not ready
		// Its only check runs with health.DefaultTimeout.
		checkTimeout: health.DefaultTimeout,
		drainFlag:    "drain-delay", drainDefault: 5 * time.Second,
		shutdownFlag: "shutdown-timeout", shutdownDefault: 10 * time.Second,
	},
}

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

// manifest is one YAML document, decoded.
type manifest struct {
	file string // relative to examples/
	kind string
	name string
	obj  any
}

// podTemplate is a pod spec some workload deploys.
type podTemplate struct {
	m      manifest
	labels map[string]string
	spec   corev1.PodSpec
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// newObject returns an empty object of the API type of apiVersion/kind.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return new(appsv1.Deployment)
	case "apps/v1 StatefulSet":
		return new(appsv1.StatefulSet)
	case "apps/v1 DaemonSet":
		return new(appsv1.DaemonSet)
	case "v1 Service":
		return new(corev1.Service)
	case "v1 Pod":
		return new(corev1.Pod)
	case "v1 ConfigMap":
		return new(corev1.ConfigMap)
	case "v1 Secret":
		return new(corev1.Secret)
	case "v1 ServiceAccount":
		return new(corev1.ServiceAccount)
	case "policy/v1 PodDisruptionBudget":
		return new(policyv1.PodDisruptionBudget)
	}
	return nil
}

// decodeStrict decodes one YAML document into obj, refusing duplicate keys
// and fields the API type does not have (a misspelt "successThresold" would
// otherwise vanish silently, as kubectl apply without validation lets it).
func decodeStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the document")
	}
	return nil
}

// loadManifests finds and decodes every manifest under examples/. YAML
// files none of whose documents has apiVersion and kind are not Kubernetes
// manifests (a compose file, say) and are skipped.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	var out []manifest
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); d.IsDir() || ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		var found []manifest
		var untyped int
		for i, doc := range docSeparator.Split(string(data), -1) {
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Errorf("%s: document %d: %v", rel, i, err)
				continue
			}
			if meta.APIVersion == "" && meta.Kind == "" {
				untyped++
				continue
			}
			obj := newObject(meta.APIVersion, meta.Kind)
			if obj == nil {
				t.Errorf("%s: document %d: no API type for %s %s here: add it to newObject", rel, i, meta.APIVersion, meta.Kind)
				continue
			}
			if err := decodeStrict([]byte(doc), obj); err != nil {
				t.Errorf("%s: %s %s: %v", rel, meta.Kind, meta.Metadata.Name, err)
				continue
			}
			found = append(found, manifest{file: rel, kind: meta.Kind, name: meta.Metadata.Name, obj: obj})
		}
		if len(found) == 0 {
			t.Logf("%s: not a Kubernetes manifest, skipped", rel)
		} else if untyped > 0 && len(found) > 0 {
			for range untyped {
				t.Errorf("%s: a document without apiVersion and kind among Kubernetes manifests", rel)
			}
		}
		out = append(out, found...)
		return nil
	})
	require.NoError(t, err)
	return out
}

// podTemplates returns the pod specs of the workloads among ms.
func podTemplates(ms []manifest) []podTemplate {
	var out []podTemplate
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *appsv1.Deployment:
			out = append(out, podTemplate{m, o.Spec.Template.Labels, o.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			out = append(out, podTemplate{m, o.Spec.Template.Labels, o.Spec.Template.Spec})
		case *appsv1.DaemonSet:
			out = append(out, podTemplate{m, o.Spec.Template.Labels, o.Spec.Template.Spec})
		case *corev1.Pod:
			out = append(out, podTemplate{m, o.Labels, o.Spec})
		}
	}
	return out
}

func TestManifestsFound(t *testing.T) {
	ms := loadManifests(t)
	var files []string
	for _, m := range ms {
		files = append(files, m.file)
	}
	assert.Contains(t, files, filepath.Join("seedapp", "deployment.yaml"))
	require.NotEmpty(t, podTemplates(ms))
}

func TestDecodeIsStrict(t *testing.T) {
	for name, tc := range map[string]struct {
		doc string
		obj any
	}{
		"unknown field": {"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n", new(corev1.Service)},
		"misspelt probe field": {"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n" +
			"  - name: c\n    livenessProbe: {successThresold: 1}\n", new(corev1.Pod)},
		"duplicate key": {"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n", new(corev1.Service)},
		"wrong type":    {"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: eighty}]}\n", new(corev1.Service)},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, decodeStrict([]byte(tc.doc), tc.obj))
		})
	}
	var svc corev1.Service
	require.NoError(t, decodeStrict([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80, targetPort: http}]}\n"), &svc))
	assert.Equal(t, intstr.FromString("http"), svc.Spec.Ports[0].TargetPort)
}

// TestProbeSettings checks every container of every workload against the
// rules of docs/kubernetes.md.
func TestProbeSettings(t *testing.T) {
	for _, pt := range podTemplates(loadManifests(t)) {
		dir := filepath.Dir(pt.m.file)
		spec, known := apps[dir]
		if !known {
			spec = appSpec{checkTimeout: health.DefaultTimeout}
		}
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

// TestServicesReachPods checks every Service selects a pod template of its
// file and targets one of its container ports.
func TestServicesReachPods(t *testing.T) {
	ms := loadManifests(t)
	pods := podTemplates(ms)
	for _, m := range ms {
		svc, ok := m.obj.(*corev1.Service)
		if !ok {
			continue
		}
		t.Run(m.file+"/"+m.name, func(t *testing.T) {
			var matched []podTemplate
			for _, pt := range pods {
				if pt.m.file == m.file && selects(svc.Spec.Selector, pt.labels) {
					matched = append(matched, pt)
				}
			}
			require.NotEmpty(t, matched, "selector %v matches no pod template in %s", svc.Spec.Selector, m.file)
			for _, sp := range svc.Spec.Ports {
				target := sp.TargetPort
				if target.IntVal == 0 && target.StrVal == "" {
					target = intstr.FromInt32(sp.Port)
				}
				for _, pt := range matched {
					found := slices.ContainsFunc(pt.spec.Containers, func(c corev1.Container) bool {
						_, err := containerPort(c, target)
						return err == nil
					})
					assert.True(t, found, "port %s: targetPort %s is no container port of %s", sp.Name, target.String(), pt.m.name)
				}
			}
		})
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containerPort resolves a probe's or Service's port against c's ports.
func containerPort(c corev1.Container, port intstr.IntOrString) (int32, error) {
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return p.ContainerPort, nil
		}
	}
	return 0, fmt.Errorf("port %s is not a port of container %s", port.String(), c.Name)
}

// checkExposed checks the container ports are those the Dockerfile beside
// the manifest exposes, if there is one.
func checkExposed(t require.TestingT, dir string, c corev1.Container) {
	data, err := os.ReadFile(filepath.Join("..", dir, "Dockerfile"))
	if os.IsNotExist(err) {
		return
	}
	require.NoError(t, err)
	var exposed []int32
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.EqualFold(f[0], "EXPOSE") {
			for _, p := range f[1:] {
				n, err := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
				require.NoError(t, err, "EXPOSE %s", p)
				exposed = append(exposed, int32(n))
			}
		}
	}
	for _, p := range c.Ports {
		assert.Contains(t, exposed, p.ContainerPort, "containerPort %d is not EXPOSEd by %s/Dockerfile", p.ContainerPort, dir)
	}
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

// flagValue returns the value of flag name in args (-name=v, --name=v,
// -name v), the last one winning as in the flag package.
func flagValue(args []string, name string) (string, bool) {
	var val string
	var found bool
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(strings.TrimPrefix(args[i], "-"), "-")
		if a == args[i] {
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			val, found = v, true
		} else if a == name && i+1 < len(args) {
			i++
			val, found = args[i], true
		}
	}
	return val, found
}

func durationFlag(t require.TestingT, args []string, name string, def time.Duration) time.Duration {
	if name == "" {
		return 0
	}
	v, ok := flagValue(args, name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "-%s=%s", name, v)
	return d
}

func TestFlagValue(t *testing.T) {
	args := []string{"-addr=:5000", "--drain-delay", "3s", "-x", "-drain-delay=4s", "positional"}
	v, ok := flagValue(args, "drain-delay")
	assert.True(t, ok)
	assert.Equal(t, "4s", v)
	v, ok = flagValue(args, "addr")
	assert.True(t, ok)
	assert.Equal(t, ":5000", v)
	_, ok = flagValue(args, "shutdown-timeout")
	assert.False(t, ok)
}
