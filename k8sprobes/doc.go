// Package k8sprobes lints the probes and shutdown settings of Kubernetes
// manifests, where the probe tutorial's six mistakes are made: one probe
// for both liveness and readiness, over-aggressive probes, ignoring probe
// failures, probes that depend on external services, no probes at all, and
// over-complex probes. Generic linters see paths and ports; given the
// application's contract (package contract: which path runs which checks,
// with what timeouts, intervals and breakers, and its shutdown budget), this
// one also knows whether a liveness probe runs a dependency check, whether
// a timeout is shorter than the checks behind it, and whether the grace
// period covers the shutdown. It also generates probes from a contract.
//
// # Library
//
// Parse or ParseFile reads YAML (one or many documents, as kubectl, helm
// template and kustomize build write them; List items too) into
// Manifests; Lint applies the rules:
//
//	ms, err := k8sprobes.ParseFile("deploy/app.yaml")
//	if err != nil { ... }                    // a *ParseError, with file and line
//	c, err := contract.Parse(data)           // or your registry's Contract()
//	findings, err := k8sprobes.Lint(&c, ms...) // nil contract: generic rules only
//	for _, f := range findings {
//		fmt.Println(f) // file:line: severity RULE Kind/name container probe: message (fix: ...)
//	}
//
// Linter{Contract: &c, Container: "app"}.Lint(ms...) lints only the
// containers named app, and applies the contract to them. Without
// Container, the contract applies to the containers that declare or probe
// a port the contract names or, if none does, to the pod's default
// container (annotation kubectl.kubernetes.io/default-container, or the
// first), so that sidecars are not held to the app's contract.
//
// Services in the input tell which pods take traffic: a container that no
// Service routes to needs no readiness probe (PK002 says so at info), and
// pods of Jobs, CronJobs and restartPolicy Never or OnFailure need no
// probes at all. Unknown kinds and documents that are not Kubernetes
// objects are skipped.
//
// # Test helper
//
// Check lints manifest files against your contract in your own tests:
// errors fail the test, warnings and infos are logged.
//
//	func TestManifest(t *testing.T) {
//		reg := newRegistry() // as main builds it, with its routes
//		k8sprobes.Check(t, reg.Contract(), "../deploy/app.yaml")
//	}
//
// Linter{Contract: &c, Container: "app"}.Check(t, files...) does the same
// for one container.
//
// # Command
//
// Command probelint (k8sprobes/cmd/probelint) is the same from the shell:
//
//	probelint [-contract FILE] [-container NAME] [-format text|json] MANIFEST... | -
//	helm template chart | probelint -contract contract.json -
//
// It exits 0 when no finding is an error, 1 when one is, and 2 for bad
// arguments, an unparsable file (with its file:line), an invalid contract
// or -h. -format json prints an array of Findings.
//
// # Generation
//
// Generate (probelint -contract FILE -generate [-port P] [-grpc]) prints
// the startupProbe, livenessProbe, readinessProbe, preStop hook and
// terminationGracePeriodSeconds the contract calls for, each with a
// comment saying why; linted against the same contract, they have no
// finding.
//
// # Rules
//
// Each Finding has a rule ID, a severity, the object, container and probe,
// file and line, the mistake (Finding.Mistake), and the fix. Error means
// the setting will restart containers, send traffic to pods that cannot
// take it, cut requests off at shutdown, or cannot work; Warning weakens
// what the probes are for; Info is worth knowing and often intended.
// Rules marked * need the contract. Kubelet defaults are applied to unset
// fields (timeoutSeconds 1, periodSeconds 10, failureThreshold 3,
// successThreshold 1, terminationGracePeriodSeconds 30).
//
// No probes at all:
//   - PK001 no-probes (error/warning/info): no probe on a long-running
//     container; error when a Service of the input routes to it, info for
//     one of several containers that no Service routes to.
//   - PK002 no-readiness (error/info): no readiness probe; error when a
//     Service of the input routes to it, info when it declares ports but
//     no Service of the input selects it.
//   - PK003 no-liveness (info): readiness or startup but no liveness.
//
// One probe for both liveness and readiness:
//   - PK010 shared-endpoint (warning): both probes ask the same endpoint.
//
// Probes that depend on external services:
//   - PK011 liveness-runs-readiness (error*, warning without contract):
//     liveness (or startup) asks an endpoint that runs readiness or
//     dependency checks; without a contract, one named like readiness.
//   - PK012 external-host (error; warning for readiness): a probe asks
//     another host (httpGet.host, tcpSocket.host, a healthprobe URL).
//
// Over-aggressive probes:
//   - PK020* timeout-below-checks (error): timeoutSeconds (or healthprobe's
//     -timeout, if lower) not above the longest timeout of the checks the
//     endpoint runs on request. Checks run concurrently, each cut off at
//     its timeout, so the longest one bounds the answer; background checks
//     (every > 0) are answered from cache and do not count, nor do startup
//     checks for the probes that start after a startup probe has passed.
//   - PK021 liveness-too-quick (warning): liveness failureThreshold ×
//     periodSeconds not above readiness's.
//   - PK022 liveness-single-failure (error): liveness failureThreshold 1.
//   - PK023 success-threshold (error): successThreshold other than 1 on
//     liveness or startup.
//   - PK024 initial-delay (warning): no startup probe, and liveness
//     initialDelaySeconds over 10, or (with a contract that has startup
//     checks or a startup endpoint) any initial delay.
//   - PK025* startup-budget (error): failureThreshold × periodSeconds +
//     initialDelaySeconds below the time the slowest startup check needs
//     for a failed run and a retry: twice its timeout plus the wait for
//     the retry (its interval + 10 % jitter if it runs in the background,
//     periodSeconds otherwise, or its breaker's open time if longer).
//   - PK026 healthprobe-timeout (warning): an exec probe runs healthprobe
//     with a -timeout (default 1s) not below timeoutSeconds.
//
// Ignoring probe failures:
//   - PK030 cannot-fail (error): an exec probe that exits 0 whatever
//     happens (true, || true, ; exit 0).
//   - PK031* wrong-group (warning): a probe asks another group's endpoint,
//     a per-check endpoint, or only a TCP connect, while the app serves
//     its own group.
//
// Over-complex probes:
//   - PK050 complex-exec (info): an exec probe runs curl, wget, nc or
//     grpc_health_probe, directly or through a shell.
//
// Beyond the tutorial, probes that cannot work:
//   - PK040* not-served (error; warning for a trailing-slash difference):
//     a path, port, gRPC service or gRPC port the app does not serve.
//   - PK041 undeclared-port (error for a name; warning, or info when the
//     container declares no ports, for a number): a port the container
//     does not declare.
//   - PK042 invalid-probe (error): what the API server refuses: no handler
//     or several, negative settings, ports out of range,
//     terminationGracePeriodSeconds on readiness.
//
// Beyond the tutorial, shutdown cut short:
//   - PK060 grace-period (error): terminationGracePeriodSeconds not above
//     the preStop wait (lifecycle.preStop.sleep, or sleeps read from an
//     exec hook), and with a contract not above preStop + drain + shutdown
//     timeout + the longest check timeout.
//   - PK061* missing-prestop (warning): the contract's budget has a preStop
//     wait the container lacks or shortens.
//
// And a setting Kubernetes does not know:
//   - PK090 unknown-field (warning): a field the API types (v1.37) do not
//     have, often a misspelt setting.
package k8sprobes
