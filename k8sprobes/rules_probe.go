package k8sprobes

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probekit/probekit/contract"
)

// shapeRules: what the API server refuses (PK042, PK023) and a liveness
// probe that acts on one failure (PK022).
func shapeRules(s *subject) {
	for _, pk := range probeKinds {
		p := s.probe(pk.kind)
		if p == nil {
			continue
		}
		if n := handlers(p); n != 1 {
			msg := "no handler: the API server refuses the pod"
			if n > 1 {
				msg = fmt.Sprintf("%d handlers: the API server refuses the pod", n)
			}
			s.report(idInvalidProbe, Error, pk.kind, s.probeLine(pk.kind, ""), msg, "set exactly one of httpGet, grpc, tcpSocket or exec")
		}
		for _, f := range []struct {
			name string
			v    int32
		}{{"initialDelaySeconds", p.InitialDelaySeconds}, {"timeoutSeconds", p.TimeoutSeconds}, {"periodSeconds", p.PeriodSeconds},
			{"successThreshold", p.SuccessThreshold}, {"failureThreshold", p.FailureThreshold}} {
			if f.v < 0 {
				s.report(idInvalidProbe, Error, pk.kind, s.probeLine(pk.kind, f.name),
					fmt.Sprintf("%s is %d: the API server refuses a negative value", f.name, f.v), "remove it, or give it a positive value")
			}
		}
		if pk.kind == contract.Readiness && p.TerminationGracePeriodSeconds != nil {
			s.report(idInvalidProbe, Error, pk.kind, s.probeLine(pk.kind, "terminationGracePeriodSeconds"),
				"terminationGracePeriodSeconds on a readiness probe: the API server refuses it", "remove it (it applies to liveness and startup probes only)")
		}
		if ep, ok := endpointOf(p); ok && ep.kind != "exec" && ep.port.Type == intstr.Int && (ep.port.IntVal < 1 || ep.port.IntVal > 65535) {
			s.report(idInvalidProbe, Error, pk.kind, s.probeLine(pk.kind, ""),
				fmt.Sprintf("port %d is out of range: the API server refuses it", ep.port.IntVal), "use the port the app listens on")
		}
		if pk.kind != contract.Readiness && p.SuccessThreshold != 0 && p.SuccessThreshold != 1 {
			s.report(idSuccessThreshold, Error, pk.kind, s.probeLine(pk.kind, "successThreshold"),
				fmt.Sprintf("successThreshold %d on a %s probe: it must be 1, and the API server refuses the pod", p.SuccessThreshold, pk.kind),
				"remove successThreshold (it defaults to 1)")
		}
		if pk.kind == contract.Liveness && p.FailureThreshold == 1 {
			s.report(idSingleFailure, Error, pk.kind, s.probeLine(pk.kind, "failureThreshold"),
				"failureThreshold 1: one slow or lost answer (a GC pause, a throttled CPU, a busy node) restarts the container",
				"failureThreshold: 3 or more, so that only a sustained failure restarts it")
		}
	}
}

// endpointRules: what a probe asks (PK010, PK011 without a contract,
// PK012, PK026, PK030, PK041, PK050).
func endpointRules(s *subject) {
	eps := map[string]endpoint{}
	for _, pk := range probeKinds {
		p := s.probe(pk.kind)
		if p == nil {
			continue
		}
		ep, ok := endpointOf(p)
		if !ok {
			continue
		}
		eps[pk.kind] = ep
		line := s.probeLine(pk.kind, "")
		if ep.external != "" {
			sev, effect := Error, "a restart cannot cure what fails it, and when that host is down every pod restarts at once"
			if pk.kind == contract.Readiness {
				sev, effect = Warning, "when that host is down every pod leaves rotation at once"
			}
			s.report(idExternalHost, sev, pk.kind, line, fmt.Sprintf("the probe asks %s, not the pod: %s", ep.external, effect),
				"probe the container itself; check a dependency from the app, in its readiness checks")
		} else if ep.kind != "exec" {
			undeclaredPort(s, pk.kind, ep)
		}
		if ep.kind == "exec" && cannotFail(ep.command) {
			s.report(idCannotFail, Error, pk.kind, line,
				fmt.Sprintf("the command %q exits 0 whatever happens: the probe can never fail", strings.Join(ep.command, " ")),
				"let the command's failure reach its exit status (drop the trailing || true or exit 0)")
		}
		if what := complexExec(ep.command); ep.kind == "exec" && ep.hp == nil && what != "" {
			s.report(idComplexExec, Info, pk.kind, line,
				"the exec probe "+what+": one more program that can fail, hang or be missing from the image, and a reason nobody sees",
				"use an httpGet or grpc probe, or the static healthprobe binary for an image without them")
		}
		if hp := ep.hp; hp != nil {
			t := timingOf(p)
			if hp.timeout >= seconds(t.timeout) {
				given := "its default -timeout of 1s"
				if hp.set {
					given = "-timeout " + hp.timeout.String()
				}
				s.report(idHealthprobe, Warning, pk.kind, s.probeLine(pk.kind, "exec"),
					fmt.Sprintf("healthprobe runs with %s, not below timeoutSeconds %d: the kubelet kills it first, and its reason is lost", given, t.timeout),
					fmt.Sprintf("pass -timeout=%v, or raise timeoutSeconds above it", seconds(t.timeout)-500*time.Millisecond))
			}
		}
	}
	live, lok := eps[contract.Liveness]
	ready, rok := eps[contract.Readiness]
	if lok && rok && same(s.cc.c, live, ready) && !s.resolves(live) {
		s.report(idSharedEndpoint, Warning, contract.Liveness, s.probeLine(contract.Liveness, ""),
			fmt.Sprintf("liveness and readiness both ask %s: what takes the pod out of rotation restarts it too, and a slow dependency behind it restarts every pod", live.describe()),
			"give liveness its own endpoint that checks the process only (probekit: / or /livez), and keep readiness on its own (/ready)")
	}
	if s.app == nil {
		for _, kind := range []string{contract.Liveness, contract.Startup} {
			if ep, ok := eps[kind]; ok && readinessLike(ep) {
				s.report(idLivenessReadies, Warning, kind, s.probeLine(kind, ""),
					fmt.Sprintf("the %s probe asks %s, which looks like a readiness endpoint: if it runs dependency checks, a dependency outage restarts every pod", kind, ep.describe()),
					"point it at an endpoint that checks the process only; lint with the app's contract (-contract) to know")
			}
		}
	}
}

// resolves reports whether the contract applies and knows the endpoint's
// group (then PK011 and PK031 say more than PK010).
func (s *subject) resolves(ep endpoint) bool {
	if s.app == nil {
		return false
	}
	t, problem, _ := s.app.resolve(s.cc.c, ep)
	return problem == "" && t.group != ""
}

// readinessLike reports whether ep's path or gRPC service is named like a
// readiness endpoint.
func readinessLike(ep endpoint) bool {
	var names []string
	switch ep.kind {
	case "http":
		names = strings.Split(ep.path, "/")
	case "grpc":
		names = strings.FieldsFunc(ep.service, func(r rune) bool { return r == '-' || r == '.' || r == '_' || r == '/' })
	}
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), "ready") || strings.EqualFold(n, "readiness") {
			return true
		}
	}
	return false
}

// undeclaredPort: a probe's port the container does not declare (PK041).
func undeclaredPort(s *subject, kind string, ep endpoint) {
	if _, declared := containerPort(s.cc.c, ep.port); declared {
		return
	}
	line := s.probeLine(kind, "")
	switch {
	case ep.port.Type == intstr.String:
		s.report(idUndeclaredPort, Error, kind, line,
			fmt.Sprintf("port %q is not the name of a port of the container: the kubelet cannot resolve it and the probe fails", ep.port.StrVal),
			"declare it under ports (name and containerPort) or use the number")
	case len(s.cc.c.Ports) > 0:
		s.report(idUndeclaredPort, Warning, kind, line,
			fmt.Sprintf("port %d is not among the container's ports (%s): a typo, or an undocumented listener", ep.port.IntVal, portList(s.cc.c)),
			"probe a declared port, or declare this one")
	default:
		s.report(idUndeclaredPort, Info, kind, line,
			fmt.Sprintf("port %d is not declared: the probe works, but nothing documents the port it depends on", ep.port.IntVal),
			"declare the container's ports")
	}
}

func portList(c *corev1.Container) string {
	var out []string
	for _, p := range c.Ports {
		s := fmt.Sprint(p.ContainerPort)
		if p.Name != "" {
			s = p.Name + "=" + s
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// timingRules: how fast liveness acts compared with readiness (PK021), and
// an initial delay where a startup probe belongs (PK024).
func timingRules(s *subject) {
	c := s.cc.c
	if c.LivenessProbe != nil && c.ReadinessProbe != nil {
		lt, rt := timingOf(c.LivenessProbe), timingOf(c.ReadinessProbe)
		if lt.window() <= rt.window() {
			field := "failureThreshold"
			if c.LivenessProbe.FailureThreshold == 0 {
				field = "periodSeconds"
			}
			s.report(idLivenessQuick, Warning, contract.Liveness, s.probeLine(contract.Liveness, field),
				fmt.Sprintf("liveness restarts after %v of failure (failureThreshold %d × periodSeconds %d), no later than readiness takes the pod out of rotation (%v): a busy pod is killed instead of rested",
					lt.window(), lt.failure, lt.period, rt.window()),
				fmt.Sprintf("make liveness's failureThreshold × periodSeconds longer than readiness's, e.g. failureThreshold: %d", int32(rt.window()/seconds(lt.period))+1))
		}
	}
	if c.StartupProbe != nil {
		return
	}
	startup := s.app != nil && (s.app.serves(contract.Startup) || len(s.app.c.Runs(contract.Startup)) > 0)
	for _, kind := range []string{contract.Liveness, contract.Readiness} {
		p := s.probe(kind)
		if p == nil || p.InitialDelaySeconds == 0 {
			continue
		}
		switch {
		case startup:
			s.report(idInitialDelay, Warning, kind, s.probeLine(kind, "initialDelaySeconds"),
				fmt.Sprintf("initialDelaySeconds %d guesses how long startup takes, and the app has startup checks a startup probe would wait for exactly", p.InitialDelaySeconds),
				"add a startupProbe on the app's startup endpoint and remove initialDelaySeconds")
		case kind == contract.Liveness && p.InitialDelaySeconds > 10:
			s.report(idInitialDelay, Warning, kind, s.probeLine(kind, "initialDelaySeconds"),
				fmt.Sprintf("initialDelaySeconds %d guesses how long startup takes: too short and a slow start is killed in a loop, too long and a wedged container waits that long for its restart", p.InitialDelaySeconds),
				"add a startupProbe whose failureThreshold × periodSeconds covers the slowest start, and remove initialDelaySeconds")
		}
	}
}
