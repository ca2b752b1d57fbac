package k8sprobes

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/contract"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func dur(d time.Duration) contract.Duration { return contract.Duration(d) }

// testContract is an app like the examples': probekit's routes at the
// root on port 8080 (named http in the manifests), gRPC health on 9090,
// a liveness check, a dependency check and a background check in
// readiness, a background startup check, and a shutdown budget of
// 10 + 5 + 10 s.
func testContract() *contract.Contract {
	return &contract.Contract{
		Version:        contract.Version,
		StartsNotReady: true,
		HTTP: &contract.HTTP{Port: "8080", Routes: []contract.Route{
			{Path: "/", Group: contract.Liveness},
			{Path: "/ready", Group: contract.Readiness},
			{Path: "/livez", Group: contract.Liveness},
			{Path: "/readyz", Group: contract.Readiness},
			{Path: "/startupz", Group: contract.Startup},
			{Path: "/livez/{check}", Group: contract.Liveness, PerCheck: true},
			{Path: "/readyz/{check}", Group: contract.Readiness, PerCheck: true},
		}},
		GRPC: &contract.GRPC{Port: 9090, Services: []contract.Service{
			{Name: "", Group: contract.Readiness},
			{Name: "liveness", Group: contract.Liveness},
			{Name: "readiness", Group: contract.Readiness},
			{Name: "startup", Group: contract.Startup},
		}},
		Checks: []contract.Check{
			{Name: "cache", Group: contract.Readiness, Timeout: dur(5 * time.Second), Every: dur(10 * time.Second)},
			{Name: "db", Group: contract.Readiness, Timeout: dur(2 * time.Second), Dependency: true,
				Breaker: &contract.Breaker{Failures: 3, Open: dur(30 * time.Second), Jitter: 0.2, Trials: 1}},
			{Name: "goroutines", Group: contract.Liveness, Timeout: dur(500 * time.Millisecond)},
			{Name: "migrations", Group: contract.Startup, Timeout: dur(3 * time.Second), Every: dur(20 * time.Second)},
		},
		Shutdown: contract.Shutdown{PreStop: dur(10 * time.Second), Drain: dur(5 * time.Second), Timeout: dur(10 * time.Second)},
	}
}

// goodContainer satisfies every rule, with or without testContract:
// "/ready" runs db (2 s) on request, so readiness's timeout is 3 s.
const goodContainer = `        - name: app
          image: app
          ports: [{name: http, containerPort: 8080}, {name: grpc, containerPort: 9090}]
          startupProbe: {httpGet: {path: /startupz, port: http}, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 2}
          livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2}
          readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}
          lifecycle: {preStop: {sleep: {seconds: 10}}}
`

// goodExtra is the pod-level setting goodContainer needs with
// testContract: a grace period above its 30 s shutdown budget.
const goodExtra = "      terminationGracePeriodSeconds: 35\n"

// mod returns goodContainer with old replaced by new, once; old must be
// there.
func mod(old, new string) string {
	if !strings.Contains(goodContainer, old) {
		panic("mod: not in goodContainer: " + old)
	}
	return strings.Replace(goodContainer, old, new, 1)
}

// mods applies mod's replacements in turn: old1, new1, old2, new2...
func mods(pairs ...string) string {
	out := goodContainer
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(out, pairs[i]) {
			panic("mods: not found: " + pairs[i])
		}
		out = strings.Replace(out, pairs[i], pairs[i+1], 1)
	}
	return out
}

// Lines of goodContainer, for mods.
const (
	startLine = "          startupProbe: {httpGet: {path: /startupz, port: http}, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 2}\n"
	liveLine  = "          livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2}\n"
	readyLine = "          readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}\n"
	nameLine  = "        - name: app\n"
	marked    = " # <-\n"
)

// deployment returns a Deployment "app" (labels app: app) whose pod spec
// has extra (pod-level settings, indented 6) and containers (indented 8),
// followed by a Service selecting it if service is set.
func deployment(extra, containers string, service bool) string {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
` + extra + `      containers:
` + containers
	if service {
		doc += `---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: shop}
spec:
  selector: {app: app}
  ports: [{port: 80, targetPort: http}]
`
	}
	return doc
}

// markedLine returns the line of the first line of doc holding "# <-".
func markedLine(t *testing.T, doc string) int {
	t.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, "# <-") {
			return i + 1
		}
	}
	t.Fatalf("no # <- marker in\n%s", doc)
	return 0
}

// lintYAML parses doc and lints it.
func lintYAML(t *testing.T, l Linter, doc string) []Finding {
	t.Helper()
	ms, err := Parse("test.yaml", strings.NewReader(doc))
	require.NoError(t, err)
	fs, err := l.Lint(ms...)
	require.NoError(t, err)
	return fs
}

// byRule returns the findings of rule id.
func byRule(fs []Finding, id string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

func describe(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// ruleCase is a manifest that triggers one rule once, and a variant that
// does not trigger it.
type ruleCase struct {
	rule, name string
	sev        Severity
	probe      string // the finding's probe
	container  string // the finding's container ("app" if empty)
	contract   bool   // lint with testContract
	service    bool   // add a Service that routes to the pod
	// trigger holds the containers, with "# <-" on the finding's line
	// (or extra does); clean holds those of the variant (goodContainer if
	// empty).
	trigger, clean string
	// extra and cleanExtra are the pod-level settings (goodExtra if
	// empty, none if "none"); cleanExtra defaults to extra.
	extra, cleanExtra string
}

func podExtra(s string) string {
	switch s {
	case "":
		return goodExtra
	case "none":
		return ""
	}
	return s
}

// runRuleCases lints each case's manifest and its clean variant.
func runRuleCases(t *testing.T, cases []ruleCase) {
	for _, tc := range cases {
		t.Run(tc.rule+" "+tc.name, func(t *testing.T) {
			l := Linter{}
			if tc.contract {
				l.Contract = testContract()
			}
			doc := deployment(podExtra(tc.extra), tc.trigger, tc.service)
			all := lintYAML(t, l, doc)
			got := byRule(all, tc.rule)
			require.Len(t, got, 1, "findings:\n%s", describe(all))
			f := got[0]
			r := ruleByID(tc.rule)
			assert.Equal(t, tc.sev, f.Severity, f.String())
			assert.Equal(t, markedLine(t, doc), f.Line, f.String())
			assert.Equal(t, tc.probe, f.Probe, f.String())
			assert.Equal(t, cmpOr(tc.container, "app"), f.Container)
			assert.Equal(t, []string{"test.yaml", "Deployment", "shop", "app", r.Name, r.Mistake},
				[]string{f.File, f.Kind, f.Namespace, f.Name, f.RuleName, f.Mistake})
			assert.NotEmpty(t, f.Message)
			assert.NotEmpty(t, f.Fix)
			assert.LessOrEqual(t, f.Severity, r.Severity, "a rule reports at most its Severity")

			cleanExtra := tc.cleanExtra
			if cleanExtra == "" {
				cleanExtra = tc.extra
			}
			cleanDoc := deployment(podExtra(cleanExtra), cmpOr(tc.clean, goodContainer), tc.service)
			all = lintYAML(t, l, cleanDoc)
			assert.Empty(t, byRule(all, tc.rule), "clean variant:\n%s", describe(all))
		})
	}
}
