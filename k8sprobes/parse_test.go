package k8sprobes

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// helmOutput is what helm template writes: comments, a leading "---", an
// empty document, and kinds the linter does not read.
const helmOutput = `---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: b}
---
# Source: app/templates/empty.yaml
---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: shop
spec:
  template:
    spec:
      containers: [{name: app, image: app}]
---
apiVersion: v1
kind: Service
metadata: {name: app}
spec: {selector: {app: app}}
---
apiVersion: example.com/v1
kind: Deployment
metadata: {name: not-apps}
---
groups: [{name: not-kubernetes}]
---
just a string
...
`

func TestParseMultiDocument(t *testing.T) {
	ms, err := Parse("helm", strings.NewReader(helmOutput))
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, []string{"Deployment", "shop", "app", "apps/v1"}, []string{ms[0].Kind, ms[0].Namespace, ms[0].Name, ms[0].APIVersion})
	assert.Equal(t, 11, ms[0].Line)
	assert.Equal(t, "helm", ms[0].File)
	d, ok := ms[0].Object.(*appsv1.Deployment)
	require.True(t, ok)
	assert.Equal(t, "app", d.Spec.Template.Spec.Containers[0].Name)
	assert.Equal(t, "Service", ms[1].Kind)
	assert.Equal(t, 21, ms[1].Line)
	_, ok = ms[1].Object.(*corev1.Service)
	assert.True(t, ok)
}

func TestParseKinds(t *testing.T) {
	for _, tc := range []struct{ apiVersion, kind, body string }{
		{"apps/v1", "StatefulSet", "spec: {template: {spec: {containers: [{name: c}]}}}"},
		{"apps/v1", "DaemonSet", "spec: {template: {spec: {containers: [{name: c}]}}}"},
		{"apps/v1", "ReplicaSet", "spec: {template: {spec: {containers: [{name: c}]}}}"},
		{"batch/v1", "Job", "spec: {template: {spec: {containers: [{name: c}]}}}"},
		{"batch/v1", "CronJob", "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c}]}}}}}"},
		{"v1", "Pod", "spec: {containers: [{name: c}]}"},
		{"v1", "PodTemplate", "template: {spec: {containers: [{name: c}]}}"},
	} {
		doc := "apiVersion: " + tc.apiVersion + "\nkind: " + tc.kind + "\nmetadata: {generateName: x-}\n" + tc.body + "\n"
		ms, err := Parse("k", strings.NewReader(doc))
		require.NoError(t, err, tc.kind)
		require.Len(t, ms, 1, tc.kind)
		assert.Equal(t, "x-", ms[0].Name, "generateName stands for the name")
		p, ok := podOf(&ms[0])
		require.True(t, ok, tc.kind)
		require.Len(t, p.containers(), 1, tc.kind)
		assert.Equal(t, 4, p.line(append(p.path, "containers", 0)...), "%s: the containers' line", tc.kind)
	}
}

func TestParseList(t *testing.T) {
	const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: s}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: d}
    spec:
      template:
        spec:
          containers:
            - name: c
              livenessProbe:
                failureThreshold: 1
`
	ms, err := Parse("list", strings.NewReader(list))
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, []int{4, 10}, []int{ms[0].Line, ms[1].Line})
	fs, err := Lint(nil, ms...)
	require.NoError(t, err)
	got := byRule(fs, idSingleFailure)
	require.Len(t, got, 1)
	assert.Equal(t, 19, got[0].Line, "lines count from the file, not the item")
}

func TestParseAliasesAndMerge(t *testing.T) {
	const doc = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      livenessProbe: &probe
        httpGet: {path: /, port: 8080}
        failureThreshold: 5
      readinessProbe:
        <<: *probe
        failureThreshold: 2
`
	ms, err := Parse("a", strings.NewReader(doc))
	require.NoError(t, err)
	pod := ms[0].Object.(*corev1.Pod)
	r := pod.Spec.Containers[0].ReadinessProbe
	require.NotNil(t, r.HTTPGet)
	assert.Equal(t, "/", r.HTTPGet.Path)
	assert.Equal(t, int32(2), r.FailureThreshold, "explicit keys win over merged ones")
	assert.Equal(t, int32(5), pod.Spec.Containers[0].LivenessProbe.FailureThreshold)
}

func TestParseErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		line int
		msg  string
	}{
		"syntax":              {"apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n", 3, "yaml:"},
		"unclosed at the end": {"{a: [b\n", 2, "yaml:"}, // where the parser gave up
		"first line, scanner": {"a: `b`\n", 1, "yaml:"},
		"unknown alias":       {"apiVersion: v1\nkind: Pod\nspec: *nope\n", 3, "unknown anchor"},
		"indentation":         {"apiVersion: v1\nkind: Pod\nspec:\n  a: 1\n b: 2\n", 5, "yaml:"},
		"tab":                 {"apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n", 4, "yaml:"},
		"duplicate":           {"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n", 4, `"metadata" given twice`},
		"wrong type":          {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    livenessProbe:\n      timeoutSeconds: one\n", 8, "cannot unmarshal"},
		"second doc":          {"apiVersion: v1\nkind: Service\nmetadata: {name: x}\n---\na: b: c\n", 5, "yaml:"},
		"non-scalar key":      {"apiVersion: v1\nkind: Service\nmetadata: {name: x}\n? [a]\n: b\n", 4, "scalar"},
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := Parse("bad.yaml", strings.NewReader(tc.doc))
			assert.Nil(t, ms)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, "bad.yaml", pe.File)
			assert.Equal(t, tc.line, pe.Line, "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "bad.yaml:"), err.Error())
		})
	}
}

// TestParseBounded: documents that would expand beyond reason are refused
// quickly.
func TestParseBounded(t *testing.T) {
	bomb := "apiVersion: v1\nkind: Service\nmetadata: {name: x}\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 9 {
		name := string(rune('b' + i))
		bomb += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	_, err := Parse("bomb", strings.NewReader(bomb))
	assert.ErrorContains(t, err, "too many nodes")

	deep := "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "\n"
	_, err = Parse("deep", strings.NewReader(deep))
	assert.Error(t, err)
}

func TestParseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.yaml")
	require.NoError(t, os.WriteFile(path, []byte(helmOutput), 0o600))
	ms, err := ParseFile(path)
	require.NoError(t, err)
	assert.Len(t, ms, 2)
	assert.Equal(t, path, ms[0].File)

	_, err = ParseFile(filepath.Join(t.TempDir(), "missing.yaml"))
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestFieldPath(t *testing.T) {
	assert.Equal(t, []any{"spec", "containers", 0, "livenessProbe", "x"}, fieldPath("spec.containers[0].livenessProbe.x"))
	assert.Equal(t, []any{"a", 1, 2}, fieldPath("a[1][2]"))
}
