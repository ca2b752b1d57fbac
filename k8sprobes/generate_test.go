package k8sprobes

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/probekit/probekit/contract"
)

// loadContract reads testdata/contracts/NAME.json.
func loadContract(t *testing.T, name string) contract.Contract {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "contracts", name+".json"))
	require.NoError(t, err)
	c, err := contract.Parse(data)
	require.NoError(t, err)
	return c
}

// generatedPod wraps Generate's output in a Pod, behind a Service; a port
// the output asks by name is declared (as number 8080), as its comment
// tells the user to.
func generatedPod(out, portName string) string {
	body := "  " + strings.ReplaceAll(strings.TrimSuffix(out, "\n"), "\n", "\n  ") + "\n"
	if portName != "" {
		body = regexp.MustCompile(`(?m)^(    - name: .*\n)`).ReplaceAllString(body,
			"${1}      ports: [{name: "+portName+", containerPort: 8080}]\n")
	}
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: gen, labels: {app: gen}}\nspec:\n" + body +
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: gen}\nspec: {selector: {app: gen}}\n"
}

// generateCases are the contracts of testdata/contracts with the options
// worth trying on each.
var generateCases = []struct {
	contract string
	opts     GenerateOptions
	portName string // the port the output asks by name, "" for a number
}{
	{"probekit", GenerateOptions{}, ""},
	{"probekit", GenerateOptions{GRPC: true, Container: "api"}, ""},
	{"probekit", GenerateOptions{Port: "http"}, "http"},
	{"grpc-only", GenerateOptions{}, ""},
	{"named-port", GenerateOptions{}, "web"},
	{"slow-checks", GenerateOptions{}, ""},
	{"slow-startup", GenerateOptions{}, ""},
	{"bare", GenerateOptions{}, "http"},
	{"bare", GenerateOptions{Port: "8080"}, ""},
	{"subsecond", GenerateOptions{}, ""},
	{"grpc-named-services", GenerateOptions{GRPC: true}, ""},
	{"grpc-named-services", GenerateOptions{}, ""},
}

// TestGenerateLintsClean: what Generate prints, linted against the same
// contract, has no finding at all.
func TestGenerateLintsClean(t *testing.T) {
	for _, tc := range generateCases {
		t.Run(tc.contract+"/"+strconv.Quote(tc.opts.Port)+"/"+strconv.FormatBool(tc.opts.GRPC), func(t *testing.T) {
			c := loadContract(t, tc.contract)
			out, err := Generate(c, tc.opts)
			require.NoError(t, err)
			doc := generatedPod(out, tc.portName)
			ms, err := Parse("generated.yaml", strings.NewReader(doc))
			require.NoError(t, err, doc)
			require.Len(t, ms, 2)
			fs, err := Lint(&c, ms...)
			require.NoError(t, err)
			assert.Empty(t, fs, "%s\n%s", doc, describe(fs))

			pod := ms[0].Object.(*corev1.Pod)
			app := pod.Spec.Containers[0]
			assert.Equal(t, cmpOr(tc.opts.Container, "app"), app.Name)
			require.NotNil(t, app.LivenessProbe)
			require.NotNil(t, app.ReadinessProbe)
			assert.Equal(t, tc.opts.GRPC || c.HTTP == nil, app.LivenessProbe.GRPC != nil, "gRPC probes when asked or when the app serves only gRPC")
			assert.Equal(t, c.Shutdown.PreStop > 0, app.Lifecycle != nil)
			assert.Equal(t, c.Shutdown.Total() > 0, pod.Spec.TerminationGracePeriodSeconds != nil)
			assertCommented(t, out)
		})
	}
}

// assertCommented checks each setting Generate derives has a comment.
func assertCommented(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		key := strings.TrimSpace(strings.SplitN(line, ":", 2)[0])
		switch key {
		case "terminationGracePeriodSeconds", "startupProbe", "livenessProbe", "readinessProbe",
			"timeoutSeconds", "periodSeconds", "failureThreshold", "seconds", "path", "service":
			assert.Contains(t, line, " # ", "%q has no comment saying why", line)
		}
	}
}

func TestGenerateValues(t *testing.T) {
	out, err := Generate(loadContract(t, "slow-checks"), GenerateOptions{})
	require.NoError(t, err)
	ms, err := Parse("g", strings.NewReader(generatedPod(out, "")))
	require.NoError(t, err)
	pod := ms[0].Object.(*corev1.Pod)
	c := pod.Spec.Containers[0]
	assert.Equal(t, int32(21), c.ReadinessProbe.TimeoutSeconds, "1 s above the 20 s on-request check")
	assert.Equal(t, int32(4), c.LivenessProbe.TimeoutSeconds, "1 s above the 3 s check")
	assert.Equal(t, int32(9), c.StartupProbe.TimeoutSeconds)
	assert.Greater(t, timingOf(c.LivenessProbe).window(), timingOf(c.ReadinessProbe).window())
	// 15 + 10 + 30 + 20 = 75 s, plus 5.
	assert.Equal(t, int64(80), *pod.Spec.TerminationGracePeriodSeconds)
	assert.Equal(t, int64(15), c.Lifecycle.PreStop.Sleep.Seconds)

	out, err = Generate(loadContract(t, "slow-startup"), GenerateOptions{})
	require.NoError(t, err)
	ms, err = Parse("g", strings.NewReader(generatedPod(out, "")))
	require.NoError(t, err)
	s := ms[0].Object.(*corev1.Pod).Spec.Containers[0].StartupProbe
	// index: 2 × 10 s + 60 s × 1.1 = 86 s, over license's 2 × 2 s + 45 s × 1.2.
	assert.Equal(t, int32(86), s.FailureThreshold*s.PeriodSeconds)
	assert.Contains(t, out, "startup check index")
}

func TestGenerateErrors(t *testing.T) {
	probekit := loadContract(t, "probekit")
	noPort := loadContract(t, "grpc-only")
	noPort.GRPC.Port = 0
	httpOnly := loadContract(t, "bare")
	noGroups := loadContract(t, "bare")
	noGroups.HTTP.Routes = []contract.Route{{Path: "/x/{check}", Group: contract.Readiness, PerCheck: true}}
	for name, tc := range map[string]struct {
		c    contract.Contract
		opts GenerateOptions
		want string
	}{
		"invalid contract":   {contract.Contract{Version: 2}, GenerateOptions{}, "version 2"},
		"gRPC without port":  {noPort, GenerateOptions{}, "port number"},
		"gRPC named port":    {probekit, GenerateOptions{GRPC: true, Port: "grpc"}, "port number"},
		"no gRPC":            {httpOnly, GenerateOptions{GRPC: true}, "no gRPC"},
		"port out of range":  {probekit, GenerateOptions{Port: "0"}, "out of range"},
		"not a port name":    {probekit, GenerateOptions{Port: "a: b"}, "not a port name"},
		"no group endpoints": {noGroups, GenerateOptions{}, "neither liveness nor readiness"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := Generate(tc.c, tc.opts)
			assert.ErrorContains(t, err, tc.want)
			assert.Empty(t, out)
		})
	}
}
