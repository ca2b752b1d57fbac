package k8sprobes

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	bareContainer = `        - name: app # <-
          image: app
          ports: [{name: http, containerPort: 8080}]
`
	noReadiness = `        - name: app # <-
          image: app
          ports: [{name: http, containerPort: 8080}]
          livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2}
`
	shipper = `        - name: shipper # <-
          image: fluent
`
)

// m and l write a container line (indented 10) with and without the
// finding's marker.
func m(s string) string { return "          " + s + marked }
func l(s string) string { return "          " + s + "\n" }

// TestGenericRules: each rule that needs no contract, on a manifest that
// triggers it (rule, severity, line) and on one that does not.
func TestGenericRules(t *testing.T) { runRuleCases(t, genericCases) }

var genericCases = []ruleCase{
	{rule: idNoProbes, name: "routed", sev: Error, service: true, trigger: bareContainer},
	{rule: idNoProbes, name: "no Service", sev: Warning, trigger: bareContainer},
	{rule: idNoProbes, name: "extra container", sev: Info, service: true, container: "shipper", trigger: goodContainer + shipper},
	{rule: idNoProbes, name: "extra container with ports", sev: Info, service: true, container: "shipper",
		trigger: goodContainer + shipper + l("ports: [{name: metrics, containerPort: 9100}]")},

	{rule: idNoReadiness, name: "routed", sev: Error, service: true, trigger: noReadiness},
	{rule: idNoReadiness, name: "no Service", sev: Info, trigger: noReadiness,
		clean: strings.Replace(noReadiness, "          ports: [{name: http, containerPort: 8080}]\n", "", 1)},

	{rule: idNoLiveness, sev: Info, service: true, trigger: mods(liveLine, "", nameLine, "        - name: app"+marked)},

	{rule: idSharedEndpoint, name: "same path", sev: Warning, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2}"))},
	{rule: idSharedEndpoint, name: "port by name and number", sev: Warning, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2}"))},

	{rule: idLivenessReadies, name: "named like readiness", sev: Warning, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /health/readiness, port: http}, failureThreshold: 3, timeoutSeconds: 2}")),
		clean:   mods(liveLine, l("livenessProbe: {httpGet: {path: /health/liveness, port: http}, failureThreshold: 3, timeoutSeconds: 2}"))},
	{rule: idLivenessReadies, name: "gRPC service", sev: Warning, probe: "startup",
		trigger: mods(startLine, m("startupProbe: {grpc: {port: 9090, service: my-readiness}, failureThreshold: 30, periodSeconds: 1}")),
		clean:   mods(startLine, l("startupProbe: {grpc: {port: 9090, service: startup}, failureThreshold: 30, periodSeconds: 1}"))},

	{rule: idExternalHost, name: "liveness", sev: Error, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /, port: http, host: db.example.com}, failureThreshold: 3, timeoutSeconds: 2}"))},
	{rule: idExternalHost, name: "readiness", sev: Warning, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {tcpSocket: {port: 5432, host: localhost}}"))},
	{rule: idExternalHost, name: "healthprobe", sev: Error, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {exec: {command: [/healthprobe, -timeout=1500ms, 'http://db:5432/']}, timeoutSeconds: 2}")),
		clean:   mods(liveLine, l("livenessProbe: {exec: {command: [/healthprobe, -timeout=1500ms, 'http://localhost:8080/']}, timeoutSeconds: 2}"))},

	{rule: idLivenessQuick, name: "same window", sev: Warning, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2}"))},
	{rule: idLivenessQuick, name: "defaults", sev: Warning, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /, port: http}, timeoutSeconds: 2}"),
			readyLine, l("readinessProbe: {httpGet: {path: /ready, port: http}, timeoutSeconds: 3}")),
		clean: mods(liveLine, l("livenessProbe: {httpGet: {path: /, port: http}, timeoutSeconds: 2, failureThreshold: 4}"),
			readyLine, l("readinessProbe: {httpGet: {path: /ready, port: http}, timeoutSeconds: 3}"))},

	{rule: idSingleFailure, sev: Error, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 30, failureThreshold: 1}"))},

	{rule: idSuccessThreshold, name: "liveness", sev: Error, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /, port: http}, failureThreshold: 3, successThreshold: 2}")),
		clean:   mods(liveLine, l("livenessProbe: {httpGet: {path: /, port: http}, failureThreshold: 3, successThreshold: 1}"))},
	{rule: idSuccessThreshold, name: "startup", sev: Error, probe: "startup",
		trigger: mods(startLine, m("startupProbe: {httpGet: {path: /startupz, port: http}, failureThreshold: 30, successThreshold: 3}")),
		clean:   mods(readyLine, l("readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5, successThreshold: 2}"))},

	{rule: idInitialDelay, name: "liveness", sev: Warning, probe: "liveness",
		trigger: mods(startLine, "", liveLine, m("livenessProbe: {httpGet: {path: /, port: http}, initialDelaySeconds: 30}")),
		clean:   mods(liveLine, l("livenessProbe: {httpGet: {path: /, port: http}, initialDelaySeconds: 30}"))},

	{rule: idHealthprobe, name: "defaults", sev: Warning, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {exec: {command: [healthprobe, 'http://127.0.0.1:8080/ready']}, periodSeconds: 5, failureThreshold: 2}")),
		clean:   mods(readyLine, l("readinessProbe: {exec: {command: [healthprobe, -timeout, 500ms, 'http://127.0.0.1:8080/ready']}, periodSeconds: 5, failureThreshold: 2}"))},

	{rule: idCannotFail, name: "|| true", sev: Error, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {exec: {command: [sh, -c, 'curl -fs localhost:8080/ready || true']}}")),
		clean:   mods(readyLine, l("readinessProbe: {exec: {command: [sh, -c, 'curl -fs localhost:8080/ready']}}"))},
	{rule: idCannotFail, name: "true", sev: Error, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {exec: {command: [/bin/true]}, failureThreshold: 3}")),
		clean:   mods(liveLine, l("livenessProbe: {exec: {command: [sh, -ec, 'test -f /tmp/alive; exit 0']}, failureThreshold: 3}"))},

	{rule: idUndeclaredPort, name: "name", sev: Error, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /ready, port: metrics}, periodSeconds: 5, failureThreshold: 2}"))},
	{rule: idUndeclaredPort, name: "number", sev: Warning, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /ready, port: 8081}, periodSeconds: 5, failureThreshold: 2}")),
		clean:   mods(readyLine, l("readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5, failureThreshold: 2}"))},
	{rule: idUndeclaredPort, name: "no ports", sev: Info, probe: "readiness",
		trigger: nameLine + l("image: app") + l("livenessProbe: {exec: {command: [cat, /tmp/alive]}, failureThreshold: 6}") +
			m("readinessProbe: {grpc: {port: 9090}}"),
		clean: nameLine + l("image: app") + l("ports: [{containerPort: 9090}]") + l("livenessProbe: {exec: {command: [cat, /tmp/alive]}, failureThreshold: 6}") +
			l("readinessProbe: {grpc: {port: 9090}}")},

	{rule: idInvalidProbe, name: "no handler", sev: Error, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {periodSeconds: 5}"))},
	{rule: idInvalidProbe, name: "two handlers", sev: Error, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {tcpSocket: {port: http}, httpGet: {path: /, port: http}, failureThreshold: 3}"))},
	{rule: idInvalidProbe, name: "grace on readiness", sev: Error, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {httpGet: {path: /ready, port: http}, terminationGracePeriodSeconds: 5}"))},
	{rule: idInvalidProbe, name: "negative", sev: Error, probe: "liveness",
		trigger: mods(liveLine, m("livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: -2}"))},
	{rule: idInvalidProbe, name: "port out of range", sev: Error, probe: "startup",
		trigger: mods(startLine, m("startupProbe: {httpGet: {path: /startupz, port: 70000}, periodSeconds: 1, failureThreshold: 30}"))},

	{rule: idComplexExec, sev: Info, probe: "readiness",
		trigger: mods(readyLine, m("readinessProbe: {exec: {command: [sh, -c, 'wget -qO- localhost:8080/ready']}, timeoutSeconds: 3}")),
		clean:   mods(readyLine, l("readinessProbe: {exec: {command: [healthprobe, -timeout=2s, 'http://localhost:8080/ready']}, timeoutSeconds: 3}"))},

	{rule: idGracePeriod, name: "preStop sleep", sev: Error,
		extra: "      terminationGracePeriodSeconds: 10" + marked, cleanExtra: "      terminationGracePeriodSeconds: 11\n", trigger: goodContainer},
	{rule: idGracePeriod, name: "preStop exec sleeps", sev: Error, extra: "      terminationGracePeriodSeconds: 30" + marked,
		trigger: mods("lifecycle: {preStop: {sleep: {seconds: 10}}}", "lifecycle: {preStop: {exec: {command: [sh, -c, 'sleep 20; sleep 10s']}}}"),
		clean:   mods("lifecycle: {preStop: {sleep: {seconds: 10}}}", "lifecycle: {preStop: {exec: {command: [/bin/sleep, '29']}}}")},

	{rule: idUnknownField, sev: Warning,
		trigger: mods(liveLine, l("livenessProbe: {httpGet: {path: /, port: http}, failureThreshold: 3,")+m("  successThresold: 1}"))},
	{rule: idUnknownField, name: "case matters", sev: Warning,
		trigger: mods(liveLine, l("livenessProbe: {httpGet: {path: /, port: http}, failureThreshold: 3,")+m("  TimeoutSeconds: 2}"))},
}

// TestGraceLineWithoutSetting: a grace period left at its default is
// reported at the pod template's spec.
func TestGraceLineWithoutSetting(t *testing.T) {
	doc := strings.Replace(deployment("", mod("seconds: 10}", "seconds: 45}"), false), "    spec:\n", "    spec: # <-\n", 1)
	got := byRule(lintYAML(t, Linter{}, doc), idGracePeriod)
	require.Len(t, got, 1)
	assert.Equal(t, markedLine(t, doc), got[0].Line)
	assert.Contains(t, got[0].Message, "default terminationGracePeriodSeconds of 30")
}

// TestGoodContainerIsClean is the control of the rule tables.
func TestGoodContainerIsClean(t *testing.T) {
	for _, c := range []bool{false, true} {
		l := Linter{}
		if c {
			l.Contract = testContract()
		}
		fs := lintYAML(t, l, deployment(goodExtra, goodContainer, true))
		assert.Empty(t, fs, "contract %v:\n%s", c, describe(fs))
	}
}

// TestBatchNeedsNoProbes: Jobs, CronJobs and run-once pods need no probe;
// a Deployment of the same container does.
func TestBatchNeedsNoProbes(t *testing.T) {
	const c = "      containers: [{name: m, image: m, ports: [{containerPort: 80}]}]\n"
	for _, doc := range []string{
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n" + c,
		"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: j}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" +
			"          containers: [{name: m, image: m, ports: [{containerPort: 80}]}]\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  restartPolicy: OnFailure\n  containers: [{name: m, image: m, ports: [{containerPort: 80}]}]\n",
	} {
		assert.Empty(t, lintYAML(t, Linter{}, doc), doc)
	}
	fs := lintYAML(t, Linter{}, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"+c)
	require.Len(t, byRule(fs, idNoProbes), 1)
}

// TestServiceRouting: a Service that publishes not-ready addresses, or
// selects other pods, or lives in another namespace, does not make a
// missing readiness probe an error.
func TestServiceRouting(t *testing.T) {
	svc := func(ns, selector, extra string) string {
		return "---\napiVersion: v1\nkind: Service\nmetadata: {name: s" + ns + "}\nspec:\n  selector: {" + selector + "}\n" + extra
	}
	for name, tc := range map[string]struct {
		svc  string
		want Severity
	}{
		"routes":                {svc("", "app: app", "  ports: [{port: 80, targetPort: 8080}]\n"), Error},
		"no ports":              {svc("", "app: app", ""), Error},
		"publishes not-ready":   {svc("", "app: app", "  publishNotReadyAddresses: true\n"), Info},
		"other pods":            {svc("", "app: other", ""), Info},
		"other namespace":       {strings.Replace(svc("", "app: app", ""), "{name: s}", "{name: s, namespace: prod}", 1), Info},
		"unresolved targetPort": {svc("", "app: app", "  ports: [{port: 80, targetPort: metrics}]\n"), Error},
	} {
		t.Run(name, func(t *testing.T) {
			fs := lintYAML(t, Linter{}, deployment("", noReadiness, false)+tc.svc)
			got := byRule(fs, idNoReadiness)
			require.Len(t, got, 1, describe(fs))
			assert.Equal(t, tc.want, got[0].Severity)
		})
	}
	// A Service that targets the sidecar's port does not route to app.
	two := strings.Replace(noReadiness, "- name: app # <-", "- name: app", 1) +
		"        - name: metrics\n          image: m\n          ports: [{name: metrics, containerPort: 9100}]\n" +
		"          readinessProbe: {httpGet: {path: /, port: metrics}}\n          livenessProbe: {httpGet: {path: /l, port: metrics}, failureThreshold: 9}\n"
	fs := lintYAML(t, Linter{}, deployment("", two, false)+svc("", "app: app", "  ports: [{port: 80, targetPort: metrics}]\n"))
	got := byRule(fs, idNoReadiness)
	require.Len(t, got, 1, describe(fs))
	assert.Equal(t, Info, got[0].Severity)
}

func TestCannotFail(t *testing.T) {
	for cmd, want := range map[string]bool{
		"true":                        true,
		"sh -c exit 0":                true,
		"sh -c curl -f x || true":     true,
		"sh -c curl -f x; exit 0":     true,
		"bash -c check\n:":            true,
		"sh -c curl -f x":             false,
		"sh -ec curl -f x; exit 0":    false,
		"sh -c set -e; x; exit 0":     false,
		"sh -c x || exit 1; exit 0":   false,
		"cat /tmp/healthy":            false,
		"sh -c exit $(check); exit 0": false,
	} {
		f := strings.SplitN(cmd, " ", 3)
		assert.Equal(t, want, cannotFail(f), cmd)
	}
}

func TestComplexExec(t *testing.T) {
	for cmd, want := range map[string]string{
		"curl -fs localhost/ready":          "runs curl",
		"sh -c wget -qO- localhost/ready":   "runs wget through a shell",
		"bash -c grpc_health_probe -addr=x": "runs grpc_health_probe through a shell",
		"sh -c redis-cli ping":              "",
		"pg_isready -U postgres":            "",
		"/bin/curly x":                      "",
	} {
		assert.Equal(t, want, complexExec(strings.SplitN(cmd, " ", 3)), cmd)
	}
}
