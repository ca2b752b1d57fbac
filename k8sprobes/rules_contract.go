package k8sprobes

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/probekit/probekit/contract"
)

// backgroundJitter is how much a probekit registry spreads a background
// check's interval (± 10 %).
const backgroundJitter = 0.1

// contractRules: what the app serves at each probe's endpoint, and what
// that means for the probe (PK011, PK020, PK025, PK031, PK040).
func contractRules(s *subject) {
	if s.app == nil {
		return
	}
	for _, pk := range probeKinds {
		p := s.probe(pk.kind)
		if p == nil {
			continue
		}
		ep, ok := endpointOf(p)
		if !ok || ep.external != "" {
			continue
		}
		t, problem, sev := s.app.resolve(s.cc.c, ep)
		if problem != "" {
			s.report(idNotServed, sev, pk.kind, s.probeLine(pk.kind, ""), problem,
				"point the probe at what the contract serves (probelint -contract FILE -generate prints the probes)")
			continue
		}
		if t.group == "" {
			if ep.kind == "tcp" && s.app.serves(pk.kind) {
				s.report(idWrongGroup, Warning, pk.kind, s.probeLine(pk.kind, ""),
					fmt.Sprintf("a TCP connect passes as soon as the port listens: the app's %s verdict (its checks, and for readiness its not-ready start and drain) is ignored", pk.kind),
					"probe the app's "+pk.kind+" endpoint with httpGet or grpc")
			}
			continue
		}
		groupRules(s, pk.kind, t)
		if pk.kind != contract.Startup && startupGated(s) {
			// Probes start once the startup probe has passed, that is once
			// the startup checks have: they no longer run.
			t.checks = slices.DeleteFunc(slices.Clone(t.checks), func(ch contract.Check) bool { return ch.Group == contract.Startup })
		}
		timeoutRule(s, pk.kind, p.TimeoutSeconds, ep, t)
		if pk.kind == contract.Startup && (t.group == contract.Startup || t.group == contract.Readiness) {
			startupBudgetRule(s)
		}
	}
}

// startupGated reports whether the container's startup probe passes only
// once the app's startup checks have (it asks the startup or readiness
// group): the other probes start after that.
func startupGated(s *subject) bool {
	p := s.cc.c.StartupProbe
	if p == nil {
		return false
	}
	ep, ok := endpointOf(p)
	if !ok {
		return false
	}
	t, problem, _ := s.app.resolve(s.cc.c, ep)
	return problem == "" && t.check == "" && (t.group == contract.Startup || t.group == contract.Readiness)
}

// groupRules: a probe on an endpoint of another group than its own, or of
// one check only (PK011, PK031).
func groupRules(s *subject, kind string, t target) {
	line := s.probeLine(kind, "")
	deps := dependencies(t.checks, false)
	if kind != contract.Readiness && (t.group == contract.Readiness && kind == contract.Liveness || len(deps) > 0) {
		what := "readiness checks"
		if len(deps) > 0 {
			what = "the dependency checks " + strings.Join(deps, ", ")
		}
		effect := "a failure outside the process (a dependency down, the app marked not ready, a drain) restarts the container"
		if kind == contract.Startup {
			effect = "while a dependency is down at start, every starting pod is restarted in a loop"
		}
		s.report(idLivenessReadies, Error, kind, line,
			fmt.Sprintf("the %s probe asks %s, which runs %s: %s", kind, t.name, what, effect),
			fmt.Sprintf("point it at the app's %s endpoint, which checks the process only", kind))
		return
	}
	switch {
	case t.group != kind && s.app.serves(kind):
		s.report(idWrongGroup, Warning, kind, line,
			fmt.Sprintf("the %s probe asks %s, which answers for %s: %s", kind, t.name, t.group, ignored(kind)),
			fmt.Sprintf("point it at the app's %s endpoint", kind))
	case t.check != "":
		s.report(idWrongGroup, Warning, kind, line,
			fmt.Sprintf("the %s probe asks %s, which reports %q alone: the group's other checks and switches are ignored", kind, t.name, t.check),
			fmt.Sprintf("point it at the app's whole-group %s endpoint; per-check endpoints are for people and dashboards", kind))
	}
}

// ignored says what a probe of kind misses when it asks another group.
func ignored(kind string) string {
	switch kind {
	case contract.Readiness:
		return "the app's readiness checks, its not-ready start and its drain at shutdown are ignored, so traffic reaches it when it said no"
	case contract.Liveness:
		return "once started it never fails, so a wedged process is never restarted"
	}
	return "the app's startup checks are ignored, so liveness may start before the app has"
}

// timeoutRule: the probe gives up before the slowest check it runs on
// request can report (PK020). Checks run concurrently, each bounded by its
// timeout, so the longest on-request timeout bounds the answer;
// background checks are read from cache.
func timeoutRule(s *subject, kind string, timeoutSeconds int32, ep endpoint, t target) {
	longest, name := onRequest(t.checks)
	if longest == 0 {
		return
	}
	effective, line, what := seconds(timingOf(s.probe(kind)).timeout), s.probeLine(kind, "timeoutSeconds"), fmt.Sprintf("timeoutSeconds %d", timingOf(s.probe(kind)).timeout)
	if timeoutSeconds == 0 {
		what += " (the default)"
	}
	if ep.hp != nil && ep.hp.timeout < effective {
		effective, line, what = ep.hp.timeout, s.probeLine(kind, "exec"), "healthprobe's -timeout "+ep.hp.timeout.String()
	}
	if effective > longest {
		return
	}
	want := int32(math.Ceil(longest.Seconds())) + 1
	fix := fmt.Sprintf("timeoutSeconds: %d", want)
	if ep.hp != nil {
		fix += fmt.Sprintf(", and a healthprobe -timeout above %v and below that", longest)
	}
	s.report(idTimeout, Error, kind, line,
		fmt.Sprintf("%s is not above the %v timeout of check %q, which %s runs on each probe: the kubelet gives up before the app answers, and a slow moment fails the probe",
			what, longest, name, t.name), fix)
}

// startupNeed is how long the app's startup checks may take to pass
// after a failed first try: for each, its first run, the wait for the next
// (a background check's interval plus its jitter, an on-request check's
// next probe, or an open breaker's wait if longer) and that run; the
// longest of these.
func startupNeed(c *contract.Contract, period time.Duration) (time.Duration, string) {
	var need time.Duration
	var name string
	for _, ch := range c.Checks {
		if ch.Group != contract.Startup {
			continue
		}
		wait := period
		if ch.Every > 0 {
			wait = time.Duration(float64(ch.Every) * (1 + backgroundJitter))
		}
		if b := ch.Breaker; b != nil {
			wait = max(wait, time.Duration(float64(b.Open)*(1+b.Jitter)))
		}
		if d := 2*time.Duration(ch.Timeout) + wait; d > need {
			need, name = d, ch.Name
		}
	}
	return need, name
}

// startupBudgetRule: the startup probe gives up before the startup checks
// have had a retry (PK025).
func startupBudgetRule(s *subject) {
	t := timingOf(s.cc.c.StartupProbe)
	need, name := startupNeed(s.app.c, seconds(t.period))
	budget := t.window() + seconds(t.delay)
	if need == 0 || budget >= need {
		return
	}
	want := int32(math.Ceil(float64(need-seconds(t.delay))/float64(seconds(t.period)))) + 1
	field := "failureThreshold"
	if s.cc.c.StartupProbe.FailureThreshold == 0 {
		field = ""
	}
	s.report(idStartupBudget, Error, contract.Startup, s.probeLine(contract.Startup, field),
		fmt.Sprintf("the startup probe gives up after %v (failureThreshold %d × periodSeconds %d + initialDelaySeconds %d), before startup check %q can fail once and pass on its retry (%v): a slow start is restarted in a loop",
			budget, t.failure, t.period, t.delay, name, need.Round(100*time.Millisecond)),
		fmt.Sprintf("failureThreshold: %d or more", want))
}
