package k8sprobes

import "fmt"

// presenceRules: the probes a long-running container should have
// (PK001-PK003). Batch pods and native sidecars need none.
func presenceRules(s *subject) {
	if s.p.batch || s.cc.sidecar {
		return
	}
	c := s.cc.c
	svc := s.routedBy()
	fix := "add a readinessProbe and a livenessProbe on the app's health endpoints (probekit: probelint -contract FILE -generate prints them)"
	if c.LivenessProbe == nil && c.ReadinessProbe == nil && c.StartupProbe == nil {
		switch {
		case svc != "":
			s.report(idNoProbes, Error, "", s.line(),
				fmt.Sprintf("no probe at all, and Service %s sends it traffic: requests reach it before it can serve them, and a wedged process is never restarted", svc), fix)
		case len(s.p.spec.Containers) > 1:
			s.report(idNoProbes, Info, "", s.line(),
				"no probe at all, in one of the pod's containers that no Service of the input routes to: a wedged process here is never restarted",
				"add a livenessProbe if it can wedge")
		default:
			s.report(idNoProbes, Warning, "", s.line(),
				"no probe at all: a wedged process is never restarted, and any Service that selects the pod sends it traffic before it can serve", fix)
		}
		return
	}
	if c.ReadinessProbe == nil {
		switch {
		case svc != "":
			s.report(idNoReadiness, Error, "", s.line(),
				fmt.Sprintf("no readiness probe, and Service %s sends it traffic: it gets requests as soon as it starts and keeps getting them while it cannot serve", svc),
				"add a readinessProbe on the app's readiness endpoint")
		case len(c.Ports) > 0:
			s.report(idNoReadiness, Info, "", s.line(),
				"no readiness probe; no Service in the input selects the pod, so it needs none unless a Service elsewhere does",
				"add a readinessProbe if a Service routes to this pod")
		}
	}
	if c.LivenessProbe == nil {
		s.report(idNoLiveness, Info, "", s.line(),
			"no liveness probe: a wedged process stays up (out of rotation) until someone restarts it",
			"add a livenessProbe on an endpoint that checks the process only, never a dependency")
	}
}

// routedBy returns the name of a Service of the input that routes traffic
// to the container by readiness, or "".
func (s *subject) routedBy() string {
	for _, svc := range s.p.services {
		if routes(svc, s.p, s.cc.c) {
			return svc.Name
		}
	}
	return ""
}
