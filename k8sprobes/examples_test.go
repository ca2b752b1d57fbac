package k8sprobes

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/probekit/probekit/contract"
)

// examplesDir holds the repository's example manifests, beside this
// module.
const examplesDir = "../examples"

// TestRepositoryExamples parses every YAML file under examples/ (the
// alerting rules are YAML but no Kubernetes object, and are skipped) and
// lints the manifests with the generic rules: they must parse, and have no
// error or warning.
func TestRepositoryExamples(t *testing.T) {
	var files []string
	err := filepath.WalkDir(examplesDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	})
	require.NoError(t, err)
	var all []Manifest
	kinds := map[string]int{}
	for _, f := range files {
		ms, err := ParseFile(f)
		require.NoError(t, err, f)
		for _, m := range ms {
			kinds[m.Kind]++
		}
		all = append(all, ms...)
	}
	assert.GreaterOrEqual(t, kinds["Deployment"], 2, "examples/seedapp and examples/grpcserver have Deployments: %v", kinds)
	assert.GreaterOrEqual(t, kinds["Service"], 2, "%v", kinds)
	findings, err := Lint(nil, all...)
	require.NoError(t, err)
	for _, f := range findings {
		if f.Severity >= Warning {
			t.Errorf("%s", f)
		} else {
			t.Logf("%s", f)
		}
	}
}

// TestExampleManifestsAgreeWithTheirContracts: each example that ships a
// manifest beside its probe contract (the program's -probe-contract output,
// kept current by examples/contracts) lints clean against that contract,
// and its probes are the ones Generate derives from it: the same endpoints,
// timeouts, periods and thresholds, a preStop wait as declared, and a
// grace period no shorter than the generated one.
func TestExampleManifestsAgreeWithTheirContracts(t *testing.T) {
	contracts, err := filepath.Glob(filepath.Join(examplesDir, "*", "probe-contract.json"))
	require.NoError(t, err)
	checked := 0
	for _, cf := range contracts {
		dir := filepath.Dir(cf)
		manifest := filepath.Join(dir, "deployment.yaml")
		if _, err := os.Stat(manifest); err != nil {
			continue
		}
		checked++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(cf)
			require.NoError(t, err)
			c, err := contract.Parse(data)
			require.NoError(t, err)
			ms, err := ParseFile(manifest)
			require.NoError(t, err)
			findings, err := Lint(&c, ms...)
			require.NoError(t, err)
			for _, f := range findings {
				if f.Severity >= Warning {
					t.Errorf("%s", f)
				}
			}

			var spec *corev1.PodSpec
			for _, m := range ms {
				if d, ok := m.Object.(*appsv1.Deployment); ok {
					spec = &d.Spec.Template.Spec
				}
			}
			require.NotNil(t, spec, "a Deployment in %s", manifest)
			app := spec.Containers[0]
			opts := GenerateOptions{Container: app.Name}
			if app.LivenessProbe != nil && app.LivenessProbe.GRPC != nil { // the manifest chose gRPC probes
				opts.GRPC, opts.Port = true, strconv.Itoa(c.GRPC.Port)
			}
			out, err := Generate(c, opts)
			require.NoError(t, err)
			var gen struct {
				TerminationGracePeriodSeconds *int64             `json:"terminationGracePeriodSeconds"`
				Containers                    []corev1.Container `json:"containers"`
			}
			var tree map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(out), &tree), out)
			js, err := json.Marshal(tree)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(js, &gen), out)
			require.Len(t, gen.Containers, 1)
			want := gen.Containers[0]
			for _, p := range []struct {
				name      string
				got, want *corev1.Probe
			}{{"startup", app.StartupProbe, want.StartupProbe}, {"liveness", app.LivenessProbe, want.LivenessProbe}, {"readiness", app.ReadinessProbe, want.ReadinessProbe}} {
				if p.want == nil {
					assert.Nil(t, p.got, "%s probe: the contract serves none", p.name)
					continue
				}
				require.NotNil(t, p.got, "%s probe", p.name)
				assert.Equal(t, askedFor(p.want), askedFor(p.got), "%s probe's endpoint", p.name)
				assert.Equal(t, p.want.TimeoutSeconds, p.got.TimeoutSeconds, "%s timeoutSeconds", p.name)
				assert.Equal(t, p.want.PeriodSeconds, p.got.PeriodSeconds, "%s periodSeconds", p.name)
				assert.Equal(t, p.want.FailureThreshold, p.got.FailureThreshold, "%s failureThreshold", p.name)
			}
			if want.Lifecycle != nil && want.Lifecycle.PreStop != nil && want.Lifecycle.PreStop.Sleep != nil {
				require.NotNil(t, app.Lifecycle, "preStop")
				require.NotNil(t, app.Lifecycle.PreStop, "preStop")
				require.NotNil(t, app.Lifecycle.PreStop.Sleep, "preStop sleep")
				assert.Equal(t, want.Lifecycle.PreStop.Sleep.Seconds, app.Lifecycle.PreStop.Sleep.Seconds, "preStop seconds")
			}
			if gen.TerminationGracePeriodSeconds != nil {
				require.NotNil(t, spec.TerminationGracePeriodSeconds)
				assert.GreaterOrEqual(t, *spec.TerminationGracePeriodSeconds, *gen.TerminationGracePeriodSeconds, "terminationGracePeriodSeconds")
			}
		})
	}
	assert.GreaterOrEqual(t, checked, 2, "examples/seedapp and examples/grpcserver ship a manifest and a contract")
}

// askedFor is what a probe asks: its path or gRPC service (the port is
// named in the manifest and may be numbered in the generated probes).
func askedFor(p *corev1.Probe) string {
	switch {
	case p.HTTPGet != nil:
		return "http " + p.HTTPGet.Path
	case p.GRPC != nil && p.GRPC.Service != nil:
		return "grpc " + *p.GRPC.Service
	case p.GRPC != nil:
		return "grpc"
	}
	return "other"
}
