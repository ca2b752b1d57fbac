// Package manifests_test validates every Kubernetes manifest under
// examples/: it decodes each strictly into the Kubernetes API types, checks
// the probe settings against the rules of docs/kubernetes.md, and runs the
// example app the manifest deploys to check that the probes point at paths
// and ports it serves.
//
// Manifests are found by walking examples/, so a new one is validated
// without touching this file. To have its app cross-checked too, add the
// app to apps (appspec_test.go).
package manifests_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/probekit/probekit/examples/internal/proctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

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
