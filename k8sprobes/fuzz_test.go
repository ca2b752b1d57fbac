package k8sprobes

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse: whatever the input, Parse returns manifests or a
// *ParseError, never panics, and Lint of what it returns (with and without
// a contract) does not panic either and points every finding into the
// input.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		helmOutput,
		deployment(goodExtra, goodContainer+shipper, true),
		deployment("", noReadiness, false),
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec: {containers: [{name: c, livenessProbe: &p {exec: {command: [sh, -c, 'x || true']}}, readinessProbe: *p}]}\n",
		"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    readinessProbe: {<<: {grpc: {port: 1}}, periodSeconds: -1}\n",
		"a: [\n",
		"---\n---\n...\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n",
	} {
		f.Add([]byte(seed))
	}
	c := testContract()
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := Parse("fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "fuzz.yaml" || pe.Line < 1 {
				t.Fatalf("want a *ParseError with a line, got %#v", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, l := range []Linter{{}, {Contract: c}} {
			fs, err := l.Lint(ms...)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.Line < 1 || f.Line > lines || f.Message == "" {
					t.Fatalf("finding outside the input (%d lines): %v", lines, f)
				}
			}
		}
	})
}
