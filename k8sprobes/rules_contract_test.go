package k8sprobes

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/contract"
)

// TestContractRules: each rule that needs the contract (and the contract
// forms of the others), on a manifest that triggers it and one that does
// not, linted against testContract.
func TestContractRules(t *testing.T) { runRuleCases(t, contractCases) }

var contractCases = []ruleCase{
	{rule: idLivenessReadies, name: "liveness on readiness", sev: Error, probe: "liveness", contract: true,
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /ready, port: http}, failureThreshold: 3, timeoutSeconds: 3}")),
		clean:   mods(liveLine, l("livenessProbe: {httpGet: {path: /livez, port: http}, failureThreshold: 3, timeoutSeconds: 3}"))},
	{rule: idLivenessReadies, name: "startup runs a dependency", sev: Error, probe: "startup", contract: true,
		trigger: mods(startLine, m("startupProbe: {httpGet: {path: /readyz, port: 8080}, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 3}"))},
	{rule: idLivenessReadies, name: "gRPC server as a whole", sev: Error, probe: "liveness", contract: true,
		trigger: mods(liveLine, m("livenessProbe: {grpc: {port: 9090}, failureThreshold: 3, timeoutSeconds: 3}")),
		clean:   mods(liveLine, l("livenessProbe: {grpc: {port: 9090, service: liveness}, failureThreshold: 3, timeoutSeconds: 3}"))},

	{rule: idTimeout, name: "not above", sev: Error, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2}"))},
	{rule: idTimeout, name: "default", sev: Error, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {grpc: {port: 9090, service: readiness}, periodSeconds: 5, failureThreshold: 2}")),
		// cache is 5 s, but runs in the background: a probe reads it at once.
		clean: mods(readyLine, l("readinessProbe: {httpGet: {path: /readyz/cache, port: http}, periodSeconds: 5, failureThreshold: 2}"))},
	{rule: idTimeout, name: "healthprobe's", sev: Error, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {exec: {command: [healthprobe, -timeout=2s, 'http://localhost:8080/ready']}, timeoutSeconds: 5}")),
		clean:   mods(readyLine, l("readinessProbe: {exec: {command: [healthprobe, -timeout=2500ms, 'http://localhost:8080/ready']}, timeoutSeconds: 5}"))},

	{rule: idInitialDelay, name: "with startup checks", sev: Warning, probe: "readiness", contract: true,
		trigger: mods(startLine, "", readyLine, m("readinessProbe: {httpGet: {path: /ready, port: http}, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}")),
		clean:   mods(readyLine, l("readinessProbe: {httpGet: {path: /ready, port: http}, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}"))},

	{rule: idStartupBudget, sev: Error, probe: "startup", contract: true,
		trigger: mods(startLine, m("startupProbe: {httpGet: {path: /startupz, port: http}, periodSeconds: 1, failureThreshold: 27, timeoutSeconds: 2}")),
		clean:   mods(startLine, l("startupProbe: {httpGet: {path: /startupz, port: http}, periodSeconds: 1, failureThreshold: 20, initialDelaySeconds: 8}"))},

	{rule: idWrongGroup, name: "readiness on liveness", sev: Warning, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}"))},
	{rule: idWrongGroup, name: "TCP readiness", sev: Warning, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {tcpSocket: {port: http}, periodSeconds: 5, failureThreshold: 2}"))},
	{rule: idWrongGroup, name: "one check", sev: Warning, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /readyz/db, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}"))},
	{rule: idWrongGroup, name: "liveness on startup", sev: Warning, probe: "liveness", contract: true,
		trigger: mods(liveLine, m("livenessProbe: {grpc: {port: 9090, service: startup}, failureThreshold: 3, timeoutSeconds: 2}"))},

	{rule: idNotServed, name: "path", sev: Error, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}"))},
	{rule: idNotServed, name: "trailing slash", sev: Warning, probe: "liveness", contract: true,
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /livez/, port: http}, failureThreshold: 3, timeoutSeconds: 2}")),
		clean:   mods(liveLine, l("livenessProbe: {httpGet: {path: /livez/goroutines, port: http}, failureThreshold: 3, timeoutSeconds: 2}"))},
	{rule: idNotServed, name: "no such check", sev: Error, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /readyz/nope, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}"))},
	{rule: idNotServed, name: "gRPC service", sev: Error, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {grpc: {port: 9090, service: foo}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}")),
		clean:   mods(readyLine, l("readinessProbe: {grpc: {port: 9090, service: ''}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}"))},
	{rule: idNotServed, name: "HTTP port", sev: Error, probe: "readiness", contract: true,
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /ready, port: grpc}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3}"))},
	{rule: idNotServed, name: "gRPC port", sev: Error, probe: "liveness", contract: true,
		trigger: mods(liveLine, m("livenessProbe: {grpc: {port: 8080, service: liveness}, failureThreshold: 3}"))},

	{rule: idGracePeriod, name: "shutdown budget", sev: Error, contract: true,
		extra: "      terminationGracePeriodSeconds: 30" + marked, cleanExtra: "      terminationGracePeriodSeconds: 31\n", trigger: goodContainer},
	{rule: idGracePeriod, name: "budget with the contract's preStop", sev: Error, contract: true,
		extra:   "      terminationGracePeriodSeconds: 30" + marked,
		trigger: mods("lifecycle: {preStop: {sleep: {seconds: 10}}}", "lifecycle: {preStop: {httpGet: {path: /drain, port: http}}}"),
		clean:   mods("lifecycle: {preStop: {sleep: {seconds: 10}}}", "lifecycle: {preStop: {exec: {command: [sleep, '9']}}}")},

	{rule: idMissingPreStop, name: "none", sev: Warning, contract: true,
		trigger: mods("          lifecycle: {preStop: {sleep: {seconds: 10}}}\n", "", nameLine, "        - name: app"+marked)},
	{rule: idMissingPreStop, name: "shorter", sev: Warning, contract: true,
		trigger: mods("          lifecycle: {preStop: {sleep: {seconds: 10}}}\n", m("lifecycle: {preStop: {sleep: {seconds: 5}}}")),
		clean:   mods("lifecycle: {preStop: {sleep: {seconds: 10}}}", "lifecycle: {preStop: {sleep: {seconds: 12}}}")},
}

// TestContractReplacesSharedEndpoint: with a contract, one endpoint for
// both probes is reported by what the contract says of it (PK011), not by
// PK010.
func TestContractReplacesSharedEndpoint(t *testing.T) {
	doc := deployment(goodExtra, mods(liveLine, l("livenessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3}")), true)
	fs := lintYAML(t, Linter{Contract: testContract()}, doc)
	assert.Empty(t, byRule(fs, idSharedEndpoint), describe(fs))
	assert.Len(t, byRule(fs, idLivenessReadies), 1, describe(fs))
	fs = lintYAML(t, Linter{}, doc)
	assert.Len(t, byRule(fs, idSharedEndpoint), 1, describe(fs))
}

// sidecar probes its own port and path, which the app's contract does not
// serve.
const sidecar = `        - name: proxy
          image: proxy
          ports: [{name: admin, containerPort: 9901}]
          readinessProbe: {httpGet: {path: /healthz, port: admin}}
          livenessProbe: {httpGet: {path: /alive, port: admin}, failureThreshold: 5}
`

// TestContractAppliesToTheApp: in a pod of several containers, the
// contract applies to the one that serves its ports, or the one named.
func TestContractAppliesToTheApp(t *testing.T) {
	doc := deployment(goodExtra, goodContainer+sidecar, true)
	fs := lintYAML(t, Linter{Contract: testContract()}, doc)
	assert.Empty(t, fs, describe(fs))

	fs = lintYAML(t, Linter{Contract: testContract(), Container: "proxy"}, doc)
	require.NotEmpty(t, byRule(fs, idNotServed), describe(fs))
	for _, f := range fs {
		assert.Equal(t, "proxy", f.Container)
	}

	// A contract whose port no container has still applies, to the
	// default container: a wrong contract is caught, not ignored.
	wrong := testContract()
	wrong.HTTP.Port, wrong.GRPC.Port = "5000", 0
	fs = lintYAML(t, Linter{Contract: wrong}, doc)
	require.NotEmpty(t, byRule(fs, idNotServed), describe(fs))
	assert.Contains(t, byRule(fs, idNotServed)[0].Message, "port http (8080) is not the app's HTTP health port (5000)")
	for _, f := range fs {
		assert.Equal(t, "app", f.Container)
	}

	// Without ports in the contract: the default container, by annotation
	// or else the first.
	c := testContract()
	c.HTTP.Port, c.GRPC.Port = "", 0
	fs = lintYAML(t, Linter{Contract: c}, doc)
	assert.Empty(t, fs, describe(fs))
	first := deployment(goodExtra, sidecar+goodContainer, true)
	assert.NotEmpty(t, byRule(lintYAML(t, Linter{Contract: c}, first), idNotServed))
	annotated := strings.Replace(first, "metadata: {labels: {app: app}}",
		"metadata: {labels: {app: app}, annotations: {kubectl.kubernetes.io/default-container: app}}", 1)
	fs = lintYAML(t, Linter{Contract: c}, annotated)
	assert.Empty(t, fs, describe(fs))
}

func TestLintErrors(t *testing.T) {
	ms, err := Parse("x.yaml", strings.NewReader(deployment(goodExtra, goodContainer, false)))
	require.NoError(t, err)
	_, err = Linter{Container: "nope"}.Lint(ms...)
	assert.ErrorContains(t, err, `no container named "nope"`)
	_, err = Lint(&contract.Contract{Version: 99}, ms...)
	assert.ErrorContains(t, err, "version 99")
	fs, err := Lint(nil)
	assert.NoError(t, err)
	assert.Empty(t, fs)
}

// TestManifestBuiltInCode: Lint works on objects that were never YAML,
// with line 0.
func TestManifestBuiltInCode(t *testing.T) {
	ms, err := Parse("x.yaml", strings.NewReader(deployment(goodExtra, bareContainer, true)))
	require.NoError(t, err)
	for i := range ms {
		ms[i].node, ms[i].File, ms[i].Line = nil, "", 0
	}
	fs, err := Lint(nil, ms...)
	require.NoError(t, err)
	got := byRule(fs, idNoProbes)
	require.Len(t, got, 1)
	assert.Equal(t, 0, got[0].Line)
	assert.Equal(t, Error, got[0].Severity)
}

// TestTimeoutAfterStartup: once a startup probe has passed, the startup
// checks no longer run, so they do not bound readiness's answer.
func TestTimeoutAfterStartup(t *testing.T) {
	c := testContract()
	c.Checks = append(c.Checks, contract.Check{Name: "schema", Group: contract.Startup, Timeout: dur(8 * time.Second)})
	gated := deployment(goodExtra, mods(startLine, l("startupProbe: {httpGet: {path: /startupz, port: http}, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 9}")), true)
	fs := lintYAML(t, Linter{Contract: c}, gated)
	assert.Empty(t, fs, describe(fs))
	ungated := deployment(goodExtra, mods(startLine, ""), true)
	fs = byRule(lintYAML(t, Linter{Contract: c}, ungated), idTimeout)
	require.Len(t, fs, 1)
	assert.Equal(t, "readiness", fs[0].Probe)
	assert.Contains(t, fs[0].Message, `check "schema"`)
}

func TestStartupNeed(t *testing.T) {
	c := testContract()
	need, name := startupNeed(c, time.Second)
	assert.Equal(t, "migrations", name)
	assert.Equal(t, 6*time.Second+22*time.Second, need) // 2 × 3 s + 20 s × 1.1
	c.Checks = append(c.Checks, contract.Check{Name: "warm", Group: contract.Startup, Timeout: dur(time.Second),
		Breaker: &contract.Breaker{Failures: 1, Open: dur(40 * time.Second), Jitter: 0.5}})
	need, name = startupNeed(c, time.Second)
	assert.Equal(t, "warm", name)
	assert.Equal(t, 62*time.Second, need) // 2 × 1 s + 40 s × 1.5
}

// TestEveryRuleHasCases: each rule has a case in the tables above, and a
// documented line in the package doc.
func TestEveryRuleHasCases(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range append(append([]ruleCase{}, genericCases...), contractCases...) {
		covered[tc.rule] = true
	}
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	for _, r := range Rules() {
		assert.True(t, covered[r.ID], "%s %s has no case", r.ID, r.Name)
		listed := strings.Contains(string(doc), r.ID+" "+r.Name) || strings.Contains(string(doc), r.ID+"* "+r.Name)
		assert.True(t, listed, "doc.go does not list %s %s", r.ID, r.Name)
		if r.Contract {
			for _, tc := range genericCases {
				assert.NotEqual(t, r.ID, tc.rule, "%s needs the contract", r.ID)
			}
		}
	}
}
