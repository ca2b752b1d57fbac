package k8sprobes

import "slices"

// Rule describes one rule of the linter.
type Rule struct {
	// ID is stable and short ("PK020"); Name is a stable slug
	// ("timeout-below-checks"). Neither is ever reused for another rule.
	ID, Name string
	// Severity is the most severe level the rule reports; Summary says
	// when it reports less.
	Severity Severity
	// Contract is set for rules that need the application's contract:
	// without one they do not run.
	Contract bool
	// Mistake is the category of Finding.Mistake.
	Mistake string
	// Summary says what the rule finds, in one sentence.
	Summary string
}

// The mistakes of the Kubernetes probe tutorial, and the categories
// beyond it, as Finding.Mistake and Rule.Mistake spell them.
const (
	MistakeNoProbes   = "no probes at all"
	MistakeOneProbe   = "one probe for both liveness and readiness"
	MistakeAggressive = "over-aggressive probes"
	MistakeIgnoring   = "ignoring probe failures"
	MistakeExternal   = "probes that depend on external services"
	MistakeComplex    = "over-complex probes"
	// Beyond the tutorial's six.
	MistakeBroken   = "probes that cannot work"
	MistakeShutdown = "shutdown cut short"
	MistakeField    = "a setting Kubernetes does not know"
)

// Rule IDs, as Finding.Rule and Rule.ID spell them.
const (
	idNoProbes         = "PK001"
	idNoReadiness      = "PK002"
	idNoLiveness       = "PK003"
	idSharedEndpoint   = "PK010"
	idLivenessReadies  = "PK011"
	idExternalHost     = "PK012"
	idTimeout          = "PK020"
	idLivenessQuick    = "PK021"
	idSingleFailure    = "PK022"
	idSuccessThreshold = "PK023"
	idInitialDelay     = "PK024"
	idStartupBudget    = "PK025"
	idHealthprobe      = "PK026"
	idCannotFail       = "PK030"
	idWrongGroup       = "PK031"
	idNotServed        = "PK040"
	idUndeclaredPort   = "PK041"
	idInvalidProbe     = "PK042"
	idComplexExec      = "PK050"
	idGracePeriod      = "PK060"
	idMissingPreStop   = "PK061"
	idUnknownField     = "PK090"
)

var rules = []Rule{
	{idNoProbes, "no-probes", Error, false, MistakeNoProbes,
		"A long-running container has no probe at all: error when a Service in the input sends it traffic, info for another container of a pod that no Service routes to it, warning otherwise."},
	{idNoReadiness, "no-readiness", Error, false, MistakeNoProbes,
		"A container has probes but no readiness probe: error when a Service in the input sends it traffic, info when it declares ports but no Service in the input selects its pod."},
	{idNoLiveness, "no-liveness", Info, false, MistakeNoProbes,
		"A container has a readiness or startup probe but no liveness probe: a wedged process stays up, out of rotation."},
	{idSharedEndpoint, "shared-endpoint", Warning, false, MistakeOneProbe,
		"Liveness and readiness probe the same endpoint (path and port, gRPC service, or command); with a contract this is left to PK011 and PK031."},
	{idLivenessReadies, "liveness-runs-readiness", Error, false, MistakeExternal,
		"A liveness or startup probe asks an endpoint that runs readiness or dependency checks: error with a contract; without one, warning for a path or gRPC service named like readiness."},
	{idExternalHost, "external-host", Error, false, MistakeExternal,
		"A probe asks another host (httpGet.host, tcpSocket.host, or a healthprobe URL's host): error for liveness and startup, warning for readiness."},
	{idTimeout, "timeout-below-checks", Error, true, MistakeAggressive,
		"timeoutSeconds (or a healthprobe -timeout) is not above the longest timeout of the checks the probe's endpoint runs on request (background checks are read from cache and do not count)."},
	{idLivenessQuick, "liveness-too-quick", Warning, false, MistakeAggressive,
		"Liveness acts no slower than readiness (failureThreshold × periodSeconds, kubelet defaults applied)."},
	{idSingleFailure, "liveness-single-failure", Error, false, MistakeAggressive,
		"Liveness failureThreshold is 1: one slow answer restarts the container."},
	{idSuccessThreshold, "success-threshold", Error, false, MistakeAggressive,
		"successThreshold is not 1 on a liveness or startup probe, which the API server refuses."},
	{idInitialDelay, "initial-delay", Warning, false, MistakeAggressive,
		"initialDelaySeconds stands in for a startup probe: liveness initialDelaySeconds over 10 s, or any initial delay while the contract has startup checks, with no startup probe."},
	{idStartupBudget, "startup-budget", Error, true, MistakeAggressive,
		"The startup probe's budget (failureThreshold × periodSeconds + initialDelaySeconds) does not cover a first run and one retry of the slowest startup check."},
	{idHealthprobe, "healthprobe-timeout", Warning, false, MistakeAggressive,
		"An exec probe runs healthprobe with a -timeout (default 1s) not below timeoutSeconds: the kubelet kills it first and its reason is lost."},
	{idCannotFail, "cannot-fail", Error, false, MistakeIgnoring,
		"An exec probe succeeds whatever happens (true, exit 0, || true)."},
	{idWrongGroup, "wrong-group", Warning, true, MistakeIgnoring,
		"A probe asks an endpoint of another group than its own, one check only, or only a TCP connect, while the app serves its own group: the app's verdict is ignored."},
	{idNotServed, "not-served", Error, true, MistakeBroken,
		"A probe asks a path, port, gRPC service or gRPC port the app does not serve (warning when the path differs from a served one only by a trailing slash)."},
	{idUndeclaredPort, "undeclared-port", Error, false, MistakeBroken,
		"A probe's port is not a container port: error for a name (the kubelet cannot resolve it), warning for a number when the container declares other ports, info when it declares none."},
	{idInvalidProbe, "invalid-probe", Error, false, MistakeBroken,
		"The API server refuses the probe: no handler or several, a negative setting, a port out of range, or terminationGracePeriodSeconds on a readiness probe."},
	{idComplexExec, "complex-exec", Info, false, MistakeComplex,
		"An exec probe runs curl, wget, nc or grpc_health_probe (directly or through a shell) where an httpGet, tcpSocket or grpc probe (or healthprobe) says the same with less to go wrong."},
	{idGracePeriod, "grace-period", Error, false, MistakeShutdown,
		"terminationGracePeriodSeconds (default 30) does not exceed the preStop wait, plus, with a contract, drain + shutdown timeout + the longest check timeout."},
	{idMissingPreStop, "missing-prestop", Warning, true, MistakeShutdown,
		"The contract's shutdown budget expects a preStop wait the container does not have (or has shorter)."},
	{idUnknownField, "unknown-field", Warning, false, MistakeField,
		"A field the Kubernetes API (v1.37) does not have, often a misspelt setting that is silently dropped or refused by strict validation."},
}

// Rules returns every rule, in ID order.
func Rules() []Rule { return slices.Clone(rules) }

// ruleByID returns the rule with id; it panics on an unknown ID, which
// only a bug in this package can cause.
func ruleByID(id string) Rule {
	for _, r := range rules {
		if r.ID == id {
			return r
		}
	}
	panic("k8sprobes: no rule " + id)
}
