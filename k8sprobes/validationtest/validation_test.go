package validationtest

import (
	"cmp"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/pkg/apis/core"
	corev1conv "k8s.io/kubernetes/pkg/apis/core/v1"
	"k8s.io/kubernetes/pkg/apis/core/validation"

	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/k8sprobes"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// validate runs pod through what the API server does on create: the v1
// defaults, conversion to the internal type, and ValidatePodCreate. It
// returns the errors, one per line.
func validate(t *testing.T, pod *corev1.Pod) []string {
	t.Helper()
	pod = pod.DeepCopy()
	corev1conv.SetObjectDefaults_Pod(pod)
	var internal core.Pod
	require.NoError(t, corev1conv.Convert_v1_Pod_To_core_Pod(pod, &internal, nil))
	var out []string
	for _, e := range validation.ValidatePodCreate(&internal, validation.PodValidationOptions{}) {
		out = append(out, e.Error())
	}
	return out
}

// podFrom wraps Generate's output in a Pod the API server would take
// (namespace, image), declaring a port the output asks by name.
func podFrom(out, portName string) string {
	body := "  " + strings.ReplaceAll(strings.TrimSuffix(out, "\n"), "\n", "\n  ") + "\n"
	extra := "      image: app:dev\n"
	if portName != "" {
		extra += "      ports: [{name: " + portName + ", containerPort: 8080}]\n"
	}
	lines := strings.SplitAfter(body, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "    - name: ") {
			lines[i] = l + extra
		}
	}
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: gen, namespace: default}\nspec:\n" + strings.Join(lines, "")
}

func loadContract(t *testing.T, path string) contract.Contract {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	c, err := contract.Parse(data)
	require.NoError(t, err)
	return c
}

// TestGeneratedPodsValidate: for every contract of k8sprobes' testdata,
// HTTP and (where served) gRPC, the generated probes pass the API server's
// validation and lint clean against the contract.
func TestGeneratedPodsValidate(t *testing.T) {
	files, err := filepath.Glob("../testdata/contracts/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 5)
	for _, file := range files {
		c := loadContract(t, file)
		var variants []k8sprobes.GenerateOptions
		if c.HTTP != nil {
			variants = append(variants, k8sprobes.GenerateOptions{}, k8sprobes.GenerateOptions{Port: "web"})
		}
		if c.GRPC != nil {
			variants = append(variants, k8sprobes.GenerateOptions{GRPC: true, Port: "9090"})
		}
		for _, opts := range variants {
			t.Run(filepath.Base(file)+"/"+opts.Port, func(t *testing.T) {
				out, err := k8sprobes.Generate(c, opts)
				require.NoError(t, err)
				portName := "" // the port the output asks by name, if any
				if !opts.GRPC {
					portName = cmp.Or(opts.Port, c.HTTP.Port, "http")
					if _, err := strconv.Atoi(portName); err == nil {
						portName = ""
					}
				}
				doc := podFrom(out, portName)
				ms, err := k8sprobes.Parse("generated.yaml", strings.NewReader(doc))
				require.NoError(t, err, doc)
				require.Len(t, ms, 1)
				pod := ms[0].Object.(*corev1.Pod)
				assert.Empty(t, validate(t, pod), doc)
				require.NotNil(t, pod.Spec.Containers[0].LivenessProbe, doc)

				// Linted with the contract, less the port when Port
				// overrides it (the contract then says another one).
				lc := c
				if opts.Port != "" && lc.HTTP != nil {
					h := *lc.HTTP
					h.Port = ""
					lc.HTTP = &h
				}
				if opts.Port != "" && lc.GRPC != nil {
					g := *lc.GRPC
					g.Port = 0
					lc.GRPC = &g
				}
				fs, err := k8sprobes.Lint(&lc, ms...)
				require.NoError(t, err)
				assert.Empty(t, fs)
			})
		}
	}
}

// TestRefusedProbes: what k8sprobes reports as refused by the API server
// (PK023, PK042) is refused by its validation, and the same pod with the
// setting fixed is accepted.
func TestRefusedProbes(t *testing.T) {
	const base = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers:
    - name: app
      image: app:dev
      ports: [{name: http, containerPort: 8080}]
      livenessProbe: {httpGet: {path: /, port: http}, failureThreshold: 3, timeoutSeconds: 2}
      readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2}
`
	const live = "livenessProbe: {httpGet: {path: /, port: http}, failureThreshold: 3, timeoutSeconds: 2}"
	const ready = "readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2}"
	lint := func(doc string) (*corev1.Pod, []k8sprobes.Finding) {
		ms, err := k8sprobes.Parse("p.yaml", strings.NewReader(doc))
		require.NoError(t, err)
		fs, err := k8sprobes.Lint(nil, ms...)
		require.NoError(t, err)
		return ms[0].Object.(*corev1.Pod), fs
	}
	pod, fs := lint(base)
	require.Empty(t, validate(t, pod), "the control")
	require.Empty(t, fs)

	for name, tc := range map[string]struct{ old, new, rule string }{
		"liveness successThreshold": {live, "livenessProbe: {httpGet: {path: /, port: http}, failureThreshold: 3, successThreshold: 2}", "PK023"},
		"no handler":                {ready, "readinessProbe: {periodSeconds: 5}", "PK042"},
		"two handlers":              {ready, "readinessProbe: {httpGet: {path: /ready, port: http}, tcpSocket: {port: http}}", "PK042"},
		"grace on readiness":        {ready, "readinessProbe: {httpGet: {path: /ready, port: http}, terminationGracePeriodSeconds: 5}", "PK042"},
		"negative period":           {ready, "readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: -5}", "PK042"},
		"port out of range":         {ready, "readinessProbe: {httpGet: {path: /ready, port: 70000}}", "PK042"},
	} {
		t.Run(name, func(t *testing.T) {
			pod, fs := lint(strings.Replace(base, tc.old, tc.new, 1))
			assert.NotEmpty(t, validate(t, pod), "the API server accepts it")
			var rules []string
			for _, f := range fs {
				if f.Severity == k8sprobes.Error {
					rules = append(rules, f.Rule)
				}
			}
			assert.Contains(t, rules, tc.rule)
		})
	}
}

// TestExampleManifestsValidate: the pod templates of the repository's
// example manifests pass the API server's validation as they are.
func TestExampleManifestsValidate(t *testing.T) {
	found := 0
	err := filepath.WalkDir("../../examples", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		ms, err := k8sprobes.ParseFile(path)
		require.NoError(t, err)
		for _, m := range ms {
			d, ok := m.Object.(*appsv1.Deployment)
			if !ok {
				continue
			}
			found++
			pod := &corev1.Pod{ObjectMeta: d.Spec.Template.ObjectMeta, Spec: d.Spec.Template.Spec}
			pod.Name, pod.Namespace = m.Name, "default"
			assert.Empty(t, validate(t, pod), path)
		}
		return nil
	})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, found, 2)
}
