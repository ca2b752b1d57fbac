package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/k8sprobes"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	good         = "testdata/good.yaml"
	bad          = "testdata/bad.yaml"
	broken       = "testdata/broken.yaml"
	contractFile = "../../testdata/contracts/probekit.json"
)

// probelint runs the command with args and stdin, and returns its exit
// status and output.
func probelint(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// textLine is the text format of one finding.
var textLine = regexp.MustCompile(`^[^:]+:\d+: (error|warning|info) PK\d{3} [A-Za-z]+/([a-z0-9-]+/)?[a-z0-9-]+( [a-z0-9-]+)?( (liveness|readiness|startup))?: .+ \(fix: .+\)$`)

func TestExitCodes(t *testing.T) {
	for name, tc := range map[string]struct {
		args   []string
		stdin  string
		code   int
		stdout string // a substring; "" for empty output
		stderr string // a substring
	}{
		"clean":                  {[]string{good}, "", 0, "", "0 errors, 0 warnings, 0 infos (2 objects in 1 input)"},
		"clean with contract":    {[]string{"-contract", contractFile, good}, "", 0, "", "0 errors"},
		"warnings only":          {[]string{"-container", "worker", bad}, "", 0, "info PK001", "1 info"},
		"errors":                 {[]string{bad}, "", 1, "bad.yaml:21: error PK022 Deployment/prod/shop shop liveness:", "1 error, 3 warnings, 1 info"},
		"errors with contract":   {[]string{bad, "-contract", contractFile}, "", 1, "bad.yaml:19: error PK011", "4 errors"},
		"no argument":            {nil, "", 2, "", "no manifest given"},
		"unknown flag":           {[]string{"-x", good}, "", 2, "", "flag provided but not defined: -x"},
		"help":                   {[]string{"-h"}, "", 2, "", "PK020* timeout-below-checks"},
		"bad format":             {[]string{"-format", "xml", good}, "", 2, "", `-format "xml"`},
		"unparsable":             {[]string{good, broken}, "", 2, "", "testdata/broken.yaml:11: yaml:"},
		"missing file":           {[]string{"testdata/nope.yaml"}, "", 2, "", "testdata/nope.yaml: open"},
		"missing contract":       {[]string{"-contract", "nope.json", good}, "", 2, "", "-contract: open nope.json"},
		"invalid contract":       {[]string{"-contract", good, good}, "", 2, "", "-contract testdata/good.yaml: contract:"},
		"no such container":      {[]string{"-container", "nope", good}, "", 2, "", `no container named "nope"`},
		"stdin twice":            {[]string{"-", "-"}, "", 2, "", "given twice"},
		"generate, no contract":  {[]string{"-generate"}, "", 2, "", "-generate needs -contract"},
		"generate and manifests": {[]string{"-generate", "-contract", contractFile, good}, "", 2, "", "takes no manifest"},
		"port without generate":  {[]string{"-port", "8080", good}, "", 2, "", "go with -generate"},
		"generate":               {[]string{"-contract", contractFile, "-generate", "-container", "shop"}, "", 0, "  - name: shop", ""},
		"generate gRPC":          {[]string{"-contract", contractFile, "-generate", "-grpc"}, "", 0, "service: \"liveness\"", ""},
		"generate, bad port":     {[]string{"-contract", contractFile, "-generate", "-port", "0"}, "", 2, "", "out of range"},
		"stdin":                  {[]string{"-"}, mustRead(bad), 1, "-:21: error PK022", "1 error"},
		"flags after files":      {[]string{good, bad, "-container", "shop", "-format", "text"}, "", 1, "bad.yaml:21: error PK022", "(4 objects in 2 inputs)"},
		"dash dash":              {[]string{"--", good}, "", 0, "", "0 errors"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := probelint(tc.stdin, tc.args...)
			assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			if tc.stdout == "" {
				assert.Empty(t, stdout)
			} else {
				assert.Contains(t, stdout, tc.stdout)
			}
			assert.Contains(t, stderr, tc.stderr)
		})
	}
}

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestTextFormat: one finding per line, in the documented form.
func TestTextFormat(t *testing.T) {
	code, stdout, _ := probelint("", "-contract", contractFile, bad, good)
	require.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	require.Len(t, lines, 7)
	for _, l := range lines {
		assert.Regexp(t, textLine, l)
	}
}

// TestJSONFormat: an array of objects with the documented fields, empty
// when clean.
func TestJSONFormat(t *testing.T) {
	code, stdout, stderr := probelint("", "-format", "json", bad)
	require.Equal(t, 1, code, stderr)
	assert.Empty(t, stderr, "json mode prints no summary")
	var raw []map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &raw))
	require.Len(t, raw, 5)
	for _, f := range raw {
		for _, key := range []string{"rule", "ruleName", "severity", "file", "line", "kind", "name", "container", "probe", "mistake", "message", "fix"} {
			assert.Contains(t, f, key)
		}
	}
	var fs []k8sprobes.Finding
	require.NoError(t, json.Unmarshal([]byte(stdout), &fs))
	assert.Equal(t, k8sprobes.Finding{
		Rule: "PK022", RuleName: "liveness-single-failure", Severity: k8sprobes.Error,
		File: bad, Line: 21, Kind: "Deployment", Namespace: "prod", Name: "shop", Container: "shop", Probe: "liveness",
		Mistake: k8sprobes.MistakeAggressive, Message: fs[3].Message, Fix: fs[3].Fix,
	}, fs[3])

	code, stdout, _ = probelint("", "-format", "json", good)
	require.Equal(t, 0, code)
	assert.Equal(t, "[]\n", stdout)
}

// TestGenerateRoundTrip: what -generate prints, in a pod, lints clean
// against the same contract.
func TestGenerateRoundTrip(t *testing.T) {
	code, out, stderr := probelint("", "-contract", contractFile, "-generate")
	require.Equal(t, 0, code, stderr)
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: g}\nspec:\n  " + strings.ReplaceAll(strings.TrimSuffix(out, "\n"), "\n", "\n  ") + "\n"
	code, stdout, stderr := probelint(pod, "-contract", contractFile, "-")
	assert.Equal(t, 0, code, "%s\n%s", stdout, stderr)
	assert.Empty(t, stdout)
}

// TestBinary builds probelint and checks the process's exit status, which
// is what CI sees.
func TestBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "probelint")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for args, want := range map[string]int{good: 0, bad: 1, broken: 2, "-h": 2} {
		cmd := exec.CommandContext(ctx, bin, args)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		assert.Equal(t, want, code, "probelint %s: %s", args, stderr.String())
	}
}
